import Foundation
import TestSupport
import XCTest

/// The progress bar is for terminals: drawn under a pseudo-terminal, absent in a pipe.
final class ProgressDisplayTests: XCTestCase {
    let arguments = ["train", "--data", "blobs:20000:3:20", "--model", "mlp:32:relu", "--epochs", "2", "--batch-size", "32"]

    func testBarOnATerminal() throws {
        let script = "/usr/bin/script"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: script), "util-linux script is not installed")
        let command = ([ProcessRunner.trainer] + arguments).joined(separator: " ")
        let outcome = try ProcessRunner.run(script, ["-qec", command, "/dev/null"], timeout: 60)
        XCTAssertEqual(outcome.status, 0, outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("samples/s"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("ETA"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("\u{1B}[2K"), "the bar redraws its line")
        XCTAssertTrue(outcome.stdout.contains("epoch 2/2  train_loss"), outcome.stdout)
    }

    func testPlainLinesInAPipe() throws {
        let outcome = try TrainerProcess.run(arguments)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertFalse(outcome.stderr.contains("ETA"))
        XCTAssertFalse(outcome.stderr.contains("\r"))
        XCTAssertEqual(outcome.stderrLines.filter { $0.hasPrefix("epoch ") }.count, 2)
    }

    func testQuietPrintsNothing() throws {
        let outcome = try TrainerProcess.run(arguments + ["--quiet"])
        XCTAssertEqual(outcome.status, 0)
        XCTAssertEqual(outcome.stderr, "")
        XCTAssertEqual(outcome.stdout, "")
    }
}
