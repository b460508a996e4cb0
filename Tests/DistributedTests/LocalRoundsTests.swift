import Checkpoint
import Foundation
import TestSupport
import Training
import XCTest

/// `--sync-every H` (local SGD, DiLoCo; issue 22) on real ranks: checkpoints at the rounds' ends
/// hold every rank's inner optimizer state and the outer momentum, so a resume at the same world
/// size is bit-exact; 2 threads compute the 2 ranks' bits; a resume that cannot be exact is
/// refused naming both values.
final class LocalRoundsTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(Launcher.mpirun == nil, "mpirun is not installed")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "no Fashion-MNIST")
    }

    /// The default job for 2 epochs (469 steps each) in rounds of `every` steps with `inner` (AdamW)
    /// and DiLoCo's outer step, a checkpoint every 200 steps (at the first round's end from there).
    static func job(every: Int = 16, threads: Int = 1, inner: [String] = ["--optimizer", "adamw", "--lr", "0.002"]) -> [String] {
        ["--epochs", "2"] + inner + ["--sync-every", String(every), "--outer-lr", "0.7",
         "--outer-momentum", "0.9", "--log-every", "0", "--quiet", "--threads", String(threads), "--checkpoint-every", "200"]
    }

    @discardableResult
    static func run(ranks: Int?, _ arguments: [String]) throws -> Launcher.Outcome {
        let outcome = try Launcher.train(ranks: ranks, arguments)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return outcome
    }

    func testResumeAtARoundsEndIsBitwiseExact() throws {
        let whole = try Launcher.directory(), resumed = try Launcher.directory(), local = try Launcher.directory()
        defer { for d in [whole, resumed, local] { try? FileManager.default.removeItem(atPath: d) } }
        try Self.run(ranks: 2, Self.job() + ["--checkpoint-dir", whole])
        let reference = try ResumeTests.finalCheckpoint(whole)
        XCTAssertNotNil(reference[ModelCheckpoint.innerStateTensor(rank: 1)], "each rank's AdamW moments are in the checkpoint")
        XCTAssertNotNil(reference[ModelCheckpoint.outerVelocityTensor], "the outer momentum is in the checkpoint")
        XCTAssertEqual(reference.metadata["sync_every"], "16")
        // 200 is no round's end (rounds of 16 from each epoch's start): the checkpoint comes at 208.
        let files = try FileManager.default.contentsOfDirectory(atPath: whole)
        XCTAssertTrue(files.contains(CheckpointDirectory.fileName(globalStep: 208)), "\(files)")
        XCTAssertFalse(files.contains(CheckpointDirectory.fileName(globalStep: 200)), "\(files)")

        // 600 falls in epoch 2's round of steps 598…613 (epoch 2 starts at step 470).
        let middle = whole + "/" + CheckpointDirectory.fileName(globalStep: 613)
        try Self.run(ranks: 2, Self.job() + ["--checkpoint-dir", resumed, "--resume", middle])
        let final = try ResumeTests.finalCheckpoint(resumed)
        XCTAssertEqual(final.tensors.map(\.name), reference.tensors.map(\.name))
        for (a, b) in zip(final.tensors, reference.tensors) {
            XCTAssertTrue(a.bytes == b.bytes, "\(a.name) differs after resuming from step 613")
        }
        XCTAssertEqual(final.metadata, reference.metadata)

        // Local mode on 2 threads: the same bits as the 2 ranks.
        try Self.run(ranks: nil, Self.job(threads: 2) + ["--checkpoint-dir", local])
        XCTAssertEqual(try ResumeTests.finalCheckpoint(local).tensors.map(\.bytes), reference.tensors.map(\.bytes), "2 threads = 2 ranks")

        // Another world size cannot take the ranks' own moments; another H is another run: exit 64, both named.
        let other = try Launcher.train(ranks: 3, Self.job() + ["--checkpoint-dir", resumed, "--resume", middle])
        XCTAssertEqual(other.status, 64, other.stderr)
        XCTAssertTrue(other.stderr.contains("--sync-every 16 keeps each rank's adamw state: the checkpoint was written by 2 ranks but this run has 3"),
                      other.stderr)
        let shorter = try Launcher.train(ranks: 2, Self.job(every: 8) + ["--checkpoint-dir", resumed, "--resume", middle])
        XCTAssertEqual(shorter.status, 64, shorter.stderr)
        XCTAssertTrue(shorter.stderr.contains("--sync-every is 16 in the checkpoint but 8 now"), shorter.stderr)
    }

    /// Plain SGD keeps nothing per rank across a round's end (each rank's θ is then the averaged
    /// one), so a checkpoint of 2 ranks resumes on 3: the rounds go on with 3 ranks' slices.
    func testStatelessInnerOptimizerResumesOnAnotherWorldSize() throws {
        let two = try Launcher.directory(), three = try Launcher.directory()
        defer { for d in [two, three] { try? FileManager.default.removeItem(atPath: d) } }
        let job = Self.job(inner: [])  // the default optimizer: SGD without momentum
        try Self.run(ranks: 2, job + ["--checkpoint-dir", two])
        let middle = two + "/" + CheckpointDirectory.fileName(globalStep: 208)
        XCTAssertNil(try SafeTensors(contentsOf: middle)[ModelCheckpoint.innerStateTensor(rank: 0)], "SGD has no state to keep")
        try Self.run(ranks: 3, job + ["--checkpoint-dir", three, "--resume", middle])
        let final = try ResumeTests.finalCheckpoint(three)
        XCTAssertEqual(final.metadata["world_size"], "3")
        XCTAssertEqual(final.metadata["global_step"], "938")
        XCTAssertNotNil(final[ModelCheckpoint.outerVelocityTensor])
    }

    /// The outer step needs rounds: `--outer-lr` or `--outer-momentum` without `--sync-every` is a usage error.
    func testTheOuterStepNeedsRounds() throws {
        let outcome = try Launcher.train(ranks: nil, ["--epochs", "0", "--outer-lr", "0.7"])
        XCTAssertEqual(outcome.status, 64, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("--outer-lr 0.7"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("needs --sync-every H > 1"), outcome.stderr)
    }
}
