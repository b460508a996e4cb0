import Checkpoint
import Foundation
import TestSupport
import Training
import XCTest

/// A checkpoint resumes at another world size: the global batch and the sample order do not
/// depend on it, so the run goes on as if nothing had changed, up to the order of additions.
final class WorldSizeResumeTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(Launcher.mpirun == nil, "mpirun is not installed")
    }

    /// Softmax regression (convex: rounding differences do not grow) on uneven shards.
    static func job(epochs: Int) -> [String] {
        ["--data", "blobs:1001:3:10", "--model", "softmax", "--batch-size", "64", "--epochs", String(epochs),
         "--lr", "0.1", "--momentum", "0.5", "--seed", "5", "--threads", "1", "--quiet"]
    }

    func parameters(_ directory: String) throws -> [Float] {
        try ModelCheckpoint.load(try CheckpointDirectory.resolve(directory, checkpointDirectory: nil)).parameters
    }

    func assertResumes(from first: Int, to second: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let whole = try Launcher.directory(), split = try Launcher.directory()
        defer { try? FileManager.default.removeItem(atPath: whole); try? FileManager.default.removeItem(atPath: split) }
        let reference = try Launcher.train(ranks: first, Self.job(epochs: 4) + ["--checkpoint-dir", whole])
        XCTAssertEqual(reference.status, 0, reference.stderr, file: file, line: line)
        let before = try Launcher.train(ranks: first, Self.job(epochs: 2) + ["--checkpoint-dir", split])
        XCTAssertEqual(before.status, 0, before.stderr, file: file, line: line)
        let after = try Launcher.train(ranks: second, Self.job(epochs: 4) + ["--checkpoint-dir", split, "--resume", "latest"])
        XCTAssertEqual(after.status, 0, after.stderr, file: file, line: line)
        let distance = relativeDistance(try parameters(split), from: try parameters(whole))
        XCTAssertLessThanOrEqual(distance, 1e-6, "\(first) → \(second) ranks: ‖Δθ‖ / ‖θ‖", file: file, line: line)
        print("\(first) → \(second) ranks: ‖Δθ‖ / ‖θ‖ = \(distance)")
    }

    func testTwoRanksResumeOnThree() throws { try assertResumes(from: 2, to: 3) }

    func testFourRanksResumeOnTwo() throws { try assertResumes(from: 4, to: 2) }
}
