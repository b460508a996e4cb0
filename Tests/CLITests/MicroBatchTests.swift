import Checkpoint
import Foundation
import TestSupport
import Training
import XCTest

/// `--micro-batch M`: a rank's slice of the global batch in pieces of at most M rows, their
/// gradients summed, one reduction per step — the step without it up to rounding, in memory for M rows.
final class MicroBatchTests: XCTestCase {
    /// The parameters a 1-epoch run of the default model, with tanh, on Fashion-MNIST ends with.
    /// Not ReLU: with OpenBLAS's Cooperlake kernels (an AMD EPYC) the two runs agreed to 3·10⁻⁸
    /// until step 40, then a pre-activation within rounding of 0 fell on the other side of
    /// ReLU's kink in one of them, and the distance jumped to 4.8·10⁻⁶ by step 60. tanh has no
    /// kink: 5.0·10⁻⁸ after 60 steps there, growing smoothly.
    func parameters(_ flags: [String], threads: Int = 1) throws -> [Float] {
        let directory = try makeScratchDirectory("micro-batch")
        let outcome = try TrainerProcess.run(["train", "--model", "mlp:256-128:tanh", "--epochs", "1", "--batch-size", "1000",
                                              "--threads", String(threads),
                                              "--checkpoint-dir", directory, "--quiet"] + flags, timeout: 120)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return try ModelCheckpoint.load(try CheckpointDirectory.resolve(directory, checkpointDirectory: nil)).parameters
    }

    func relativeDistance(_ a: [Float], _ b: [Float]) -> Double {
        let d = zip(a, b).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) }
        return (d / b.reduce(0.0) { $0 + Double($1) * Double($1) }).squareRoot()
    }

    /// 60 steps of 1000 samples, whole or in micro-batches of 128 (the last one 104 rows), in one
    /// thread and in two: within 10⁻⁶ relative; micro-batches of the whole slice are the same bits.
    func testMicroBatchesTakeTheSameSteps() throws {
        for threads in [1, 2] {
            let whole = try parameters([], threads: threads)
            let pieces = try parameters(["--micro-batch", "128"], threads: threads)
            let distance = relativeDistance(pieces, whole)
            print("MicroBatchTests: \(threads) thread(s): ‖θ_micro − θ‖/‖θ‖ = \(distance) after 60 steps")
            XCTAssertLessThan(distance, 1e-6)
            XCTAssertGreaterThan(distance, 0, "other GEMM shapes, other rounding: equal bits would mean the micro-batches were not used")
            XCTAssertEqual(try parameters(["--micro-batch", String(1000 / threads)], threads: threads), whole)
        }
    }

    /// Peak RSS of `trainer flags…`, measured by a fresh Python process that waits for it.
    func peakRSSMegabytes(_ flags: [String]) throws -> Double {
        let script = "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); sys.exit(r.returncode)"
        let outcome = try ProcessRunner.run("/usr/bin/python3", ["-c", script, ProcessRunner.trainer, "train", "--epochs", "1",
                                                                  "--threads", "1", "--quiet"] + flags, timeout: 300)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return try XCTUnwrap(Double(outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), outcome.stdout)
    }

    /// A global batch of 8192 in micro-batches of 128 needs no more memory than a batch of 128
    /// (within 1.2×); without them, it needs the activations of 8192 rows.
    func testMemoryIsBoundedByTheMicroBatch() throws {
        let small = try peakRSSMegabytes(["--batch-size", "128"])
        let micro = try peakRSSMegabytes(["--batch-size", "8192", "--micro-batch", "128"])
        let whole = try peakRSSMegabytes(["--batch-size", "8192"])
        print("MicroBatchTests: peak RSS batch 128 \(small) MB, 8192 in micro-batches of 128 \(micro) MB, 8192 whole \(whole) MB")
        XCTAssertLessThanOrEqual(micro, 1.2 * small)
        XCTAssertGreaterThan(whole, 1.2 * small, "the whole batch's activations must show, or this test measures nothing")
    }
}
