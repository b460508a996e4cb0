import Foundation
import XCTest
import Support

/// Writes `bytes` to `directory/name` and returns the path.
@discardableResult
func write(_ bytes: [UInt8], to name: String, in directory: String) throws -> String {
    let path = directory + "/" + name
    try Foundation.Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// Writes `text` (UTF-8) to `directory/name` and returns the path.
@discardableResult
func write(_ text: String, to name: String, in directory: String) throws -> String {
    try write(Array(text.utf8), to: name, in: directory)
}

/// Runs `body`, which must throw a `TrainerError` of `kind` whose message contains every fragment.
func assertTrainerError<R>(_ kind: TrainerError.Kind, _ fragments: [String], file: StaticString = #filePath,
                           line: UInt = #line, _ body: () throws -> R) {
    do {
        _ = try body()
        XCTFail("expected a TrainerError(\(kind)) containing \(fragments), got success", file: file, line: line)
    } catch let error as TrainerError {
        XCTAssertEqual(error.kind, kind, "message: \(error.message)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(error.message.contains(fragment), "\"\(error.message)\" lacks \"\(fragment)\"",
                          file: file, line: line)
        }
        XCTAssertFalse(error.message.contains("\n"), file: file, line: line)
    } catch {
        XCTFail("expected a TrainerError, got \(error)", file: file, line: line)
    }
}
