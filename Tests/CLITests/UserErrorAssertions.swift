import TestSupport
import XCTest

/// Asserts how every user error looks: exit `code`, exactly one stderr line (no line break in
/// it of any kind: \n, \r, U+2028…), starting `trainer: error: `, containing each of
/// `mentions`. `context` prefixes the failure messages.
func assertOneLineError(_ outcome: ProcessRunner.Outcome, code: Int32, mentions: [String], context: String = "",
                        file: StaticString = #filePath, line: UInt = #line) {
    let label = context.isEmpty ? outcome.stderr : "\(context): \(outcome.stderr)"
    XCTAssertEqual(outcome.status, code, label, file: file, line: line)
    let lines = outcome.stderr.split(whereSeparator: \.isNewline)
    XCTAssertEqual(lines.count, 1, label, file: file, line: line)
    let message = String(lines.first ?? "")
    XCTAssertTrue(message.hasPrefix("trainer: error: "), label, file: file, line: line)
    for mention in mentions {
        XCTAssertTrue(message.contains(mention), "\(context.isEmpty ? "" : context + ": ")«\(message)» lacks «\(mention)»", file: file, line: line)
    }
}

/// Runs `trainer arguments…` and asserts that it fails as every user error must: exit `code`
/// within 10 seconds, exactly one stderr line `trainer: error: …` containing each of
/// `mentions`, nothing on stdout, and no crash report.
func assertFails(_ arguments: [String], code: Int32, mentions: [String],
                 file: StaticString = #filePath, line: UInt = #line) throws {
    let outcome = try TrainerProcess.run(arguments, file: file, line: line)
    let command = "trainer " + arguments.joined(separator: " ")
    assertOneLineError(outcome, code: code, mentions: mentions, context: command, file: file, line: line)
    XCTAssertEqual(outcome.stdout, "", command, file: file, line: line)
    XCTAssertFalse(outcome.stderr.contains("Fatal error") || outcome.stderr.contains("crashed"), command, file: file, line: line)
    XCTAssertLessThan(outcome.seconds, 10, command, file: file, line: line)
}
