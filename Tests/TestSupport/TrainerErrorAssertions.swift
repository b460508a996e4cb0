import Support
import XCTest

/// Runs `body`, which must throw a `TrainerError` of `kind` whose message says what the user
/// reads after `trainer: error: `: it starts with `subject: ` (the file, flag or spec it is
/// about), when a subject is given, and contains every one of `fragments` (what is wrong).
/// Returns the message, "" when `body` threw no `TrainerError`.
///
/// That the message is one line is `TrainerError`'s own doing (its initialiser replaces line
/// breaks), so it is checked where a user sees it: `trainer`'s stderr (CLITests).
@discardableResult
public func assertTrainerError<R>(
    _ kind: TrainerError.Kind, subject: String? = nil, _ fragments: [String] = [],
    file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> R
) -> String {
    do {
        _ = try body()
        XCTFail("expected a TrainerError(\(kind)) about \(subject ?? "anything") containing \(fragments), got success",
                file: file, line: line)
        return ""
    } catch let error as TrainerError {
        XCTAssertEqual(error.kind, kind, "message: \(error.message)", file: file, line: line)
        if let subject {
            XCTAssertTrue(error.message.hasPrefix(subject + ": "), "\"\(error.message)\" does not start with \"\(subject): \"",
                          file: file, line: line)
        }
        for fragment in fragments {
            XCTAssertTrue(error.message.contains(fragment), "\"\(error.message)\" lacks \"\(fragment)\"",
                          file: file, line: line)
        }
        return error.message
    } catch {
        XCTFail("expected a TrainerError(\(kind)), got \(error)", file: file, line: line)
        return ""
    }
}
