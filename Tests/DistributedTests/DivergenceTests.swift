import Foundation
import Training
import XCTest

/// NaN or ∞ in the reduced loss or gradients stops every rank at the same step, exit 3, with
/// the last good checkpoint kept.
final class DivergenceTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(Launcher.mpirun == nil, "mpirun is not installed")
    }

    func testHugeLearningRateStopsAllRanksAtTheSameStep() throws {
        for ranks in [nil, 2, 4] as [Int?] {
            let directory = try Launcher.directory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let outcome = try Launcher.train(ranks: ranks, ["--data", "blobs:400:3:5", "--model", "mlp:8:relu", "--epochs", "5",
                                                            "--lr", "1e30", "--batch-size", "32", "--checkpoint-dir", directory,
                                                            "--checkpoint-every", "1"])
            let label = ranks.map { "\($0) ranks" } ?? "local"
            XCTAssertEqual(outcome.status, 3, "\(label): \(outcome.stderr)")
            let messages = outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("trainer: error:") }
            XCTAssertEqual(messages.count, 1, "\(label): printed once: \(outcome.stderr)")
            let message = String(messages.first ?? "")
            XCTAssertTrue(message.contains("training diverged"), message)
            // The step it names is the step after the last checkpoint, which is intact.
            let latest = try CheckpointDirectory.resolve(directory, checkpointDirectory: nil)
            let loaded = try ModelCheckpoint.load(latest)
            XCTAssertTrue(message.contains("step \(loaded.progress.globalStep + 1) "), "\(label): \(message) vs checkpoint at \(loaded.progress.globalStep)")
            XCTAssertTrue(message.contains(latest), "\(label): \(message)")
            XCTAssertTrue(loaded.parameters.allSatisfy(\.isFinite))
        }
    }
}
