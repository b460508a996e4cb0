import ProcessTestSupport
import XCTest

/// The `trainer` executable built next to this test bundle, run as a user would.
enum TrainerProcess {
    /// Runs `trainer arguments…`; a run that does not finish in `timeout` seconds fails the test.
    static func run(_ arguments: [String], timeout: Double = 30, file: StaticString = #filePath,
                    line: UInt = #line) throws -> ProcessRunner.Outcome {
        let outcome = try ProcessRunner.run(ProcessRunner.trainer, arguments, timeout: timeout)
        if !outcome.finished {
            XCTFail("trainer \(arguments.joined(separator: " ")) did not finish in \(timeout) s", file: file, line: line)
        }
        return outcome
    }
}
