import Foundation
import TestSupport
import XCTest

/// Every seed and crash reproducer of the fuzz corpora (Tests/Fuzz/*/corpus) goes through its
/// fuzz target's harness in the normal build: decoded or rejected with a TrainerError, never a trap.
final class FuzzCorpusReplayTests: XCTestCase {
    func testEveryCorpusReplaysWithoutACrash() throws {
        let root = ProcessRunner.buildDirectory.appendingPathComponent("../../..").standardized
        for target in ["IDX", "CSV", "SafeTensors", "ModelSpec", "NumPy"] {
            let harness = ProcessRunner.buildDirectory.appendingPathComponent("Fuzz\(target)").path
            let corpus = root.appendingPathComponent("Tests/Fuzz/\(target)/corpus").path
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: harness), "\(harness) is not built")
            try XCTSkipUnless(FileManager.default.fileExists(atPath: corpus), "no corpus at \(corpus)")
            let outcome = try ProcessRunner.run(harness, [corpus], timeout: 120)
            XCTAssertEqual(outcome.status, 0, "\(target): \(outcome.stdout)\(outcome.stderr)")
            XCTAssertTrue((outcome.stdout + outcome.stderr).contains("without a crash"), "\(target): \(outcome.stdout)\(outcome.stderr)")
        }
    }
}
