import Foundation
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

/// The flags of `trainer command` as swift-argument-parser's tool info (`--experimental-dump-help`)
/// declares them, but --help: long name → its entry (`kind` "option" or "flag", `abstract`, …).
func declaredFlags(of command: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: [String: Any]] {
    let dump = try TrainerProcess.run([command, "--experimental-dump-help"], file: file, line: line)
    XCTAssertEqual(dump.status, 0, dump.stderr, file: file, line: line)
    let info = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any], file: file, line: line)
    let arguments = try XCTUnwrap((info["command"] as? [String: Any])?["arguments"] as? [[String: Any]], dump.stdout, file: file, line: line)
    var flags: [String: [String: Any]] = [:]
    for argument in arguments {
        let names = (argument["names"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "long" }.compactMap { $0["name"] as? String }
        for name in names where name != "help" { flags[name] = argument }
    }
    return flags
}
