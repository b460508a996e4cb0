import Checkpoint
import Foundation
import TestSupport
import Training
import XCTest

/// `--grad-compression bf16 | powersgd:R` on real ranks: the same bits as as many local
/// threads, a resume from any checkpoint at the same world size bit-exact (each rank's
/// residuals and the shared warm start are in the checkpoint), and a resume that cannot be
/// exact refused with both values named.
final class CompressionResumeTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(Launcher.mpirun == nil, "mpirun is not installed")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "no Fashion-MNIST")
    }

    /// The default job for 2 epochs with momentum, a checkpoint every 200 steps.
    static func job(_ compression: String, threads: Int = 1) -> [String] {
        ["--epochs", "2", "--momentum", "0.9", "--lr", "0.05", "--log-every", "0", "--quiet", "--threads", String(threads),
         "--grad-compression", compression, "--checkpoint-every", "200"]
    }

    @discardableResult
    static func run(ranks: Int?, _ arguments: [String]) throws -> Launcher.Outcome {
        let outcome = try Launcher.train(ranks: ranks, arguments)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return outcome
    }

    func assertResumeIsExact(_ compression: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let whole = try Launcher.directory(), resumed = try Launcher.directory()
        defer { for d in [whole, resumed] { try? FileManager.default.removeItem(atPath: d) } }
        try Self.run(ranks: 2, Self.job(compression) + ["--checkpoint-dir", whole])
        let reference = try ResumeTests.finalCheckpoint(whole)
        XCTAssertNotNil(reference[ModelCheckpoint.residualTensor(rank: 1)], "each rank's residuals are in the checkpoint", file: file, line: line)
        // From step 600, mid epoch 2: residuals and (PowerSGD) warm start matter from the next step on.
        let middle = whole + "/" + CheckpointDirectory.fileName(globalStep: 600)
        try Self.run(ranks: 2, Self.job(compression) + ["--checkpoint-dir", resumed, "--resume", middle])
        let final = try ResumeTests.finalCheckpoint(resumed)
        XCTAssertEqual(final.tensors.map(\.name), reference.tensors.map(\.name), file: file, line: line)
        for (a, b) in zip(final.tensors, reference.tensors) {
            XCTAssertTrue(a.bytes == b.bytes, "\(compression): \(a.name) differs after resuming from step 600", file: file, line: line)
        }
        XCTAssertEqual(final.metadata, reference.metadata, file: file, line: line)
        XCTAssertEqual(reference.metadata["grad_compression"], compression, file: file, line: line)

        // Local mode on 2 threads computes the same bits as the 2 ranks (shared window).
        let local = try Launcher.directory()
        defer { try? FileManager.default.removeItem(atPath: local) }
        try Self.run(ranks: nil, Self.job(compression, threads: 2) + ["--checkpoint-dir", local])
        XCTAssertEqual(try ResumeTests.finalCheckpoint(local).tensors.map(\.bytes), reference.tensors.map(\.bytes),
                       "\(compression): 2 threads = 2 ranks", file: file, line: line)

        // Another world size, or no compression, cannot resume these residuals: exit 64, both named.
        let other = try Launcher.train(ranks: 3, Self.job(compression) + ["--checkpoint-dir", resumed, "--resume", middle])
        XCTAssertEqual(other.status, 64, other.stderr, file: file, line: line)
        XCTAssertTrue(other.stderr.contains("the checkpoint was written by 2 ranks but this run has 3"), other.stderr, file: file, line: line)
        let plain = try Launcher.train(ranks: 2, Self.job("none") + ["--checkpoint-dir", resumed, "--resume", middle])
        XCTAssertEqual(plain.status, 64, plain.stderr, file: file, line: line)
        XCTAssertTrue(plain.stderr.contains("--grad-compression is \(compression) in the checkpoint but none now"), plain.stderr,
                      file: file, line: line)
    }

    func testBFloat16ResumeIsBitwiseExact() throws { try assertResumeIsExact("bf16") }

    func testPowerSGDResumeIsBitwiseExact() throws { try assertResumeIsExact("powersgd:4") }
}
