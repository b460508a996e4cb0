import Foundation
import TestSupport
import XCTest

/// A rank started differently stops the whole job quickly with one clear message, never a hang.
final class RankMismatchTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(Launcher.mpirun == nil, "mpirun is not installed")
    }

    /// mpirun's MPMD form starts rank 0 and rank 1 with different flags.
    func mismatched(_ first: [String], _ second: [String]) throws -> Launcher.Outcome {
        let trainer = Launcher.trainer
        let mpirun = try XCTUnwrap(Launcher.mpirun)
        return try ProcessRunner.runInTime(mpirun, Launcher.mpirunFlags + ["-n", "1", trainer, "train"] + first
                                               + [":", "-n", "1", trainer, "train"] + second, timeout: 30)
    }

    func testDifferentSeedStopsAllRanks() throws {
        let base = ["--data", "blobs:200:2:2", "--model", "logistic", "--epochs", "1"]
        let outcome = try mismatched(base + ["--seed", "1"], base + ["--seed", "2"])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertLessThan(outcome.seconds, 10)
        let messages = outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("trainer: error:") }
        XCTAssertEqual(messages.count, 1, outcome.stderr)
        XCTAssertTrue(messages.first?.contains("--seed is 1 on some ranks and 2 on others") ?? false, outcome.stderr)
    }

    /// Rank 0 started with `first` added to a small job, rank 1 with `second`: both stop within
    /// 10 s with exit 64 and `message`.
    func assertUsageMismatch(_ first: [String], _ second: [String], message: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let base = ["--data", "xor", "--model", "logistic", "--epochs", "1"]
        let outcome = try mismatched(base + first, base + second)
        XCTAssertEqual(outcome.status, 64, file: file, line: line)
        XCTAssertLessThan(outcome.seconds, 10, file: file, line: line)
        XCTAssertTrue(outcome.stderr.contains("trainer: error: ranks disagree: " + message), outcome.stderr, file: file, line: line)
    }

    func testDifferentBatchSizeStopsAllRanks() throws {
        try assertUsageMismatch(["--batch-size", "32"], ["--batch-size", "64"],
                                message: "--batch-size is 32 on some ranks and 64 on others")
    }

    /// A setting added through the settings table alone is in the fingerprint too.
    func testDifferentNesterovStopsAllRanks() throws {
        try assertUsageMismatch(["--momentum", "0.9", "--nesterov"], ["--momentum", "0.9"],
                                message: "--nesterov is false on some ranks and true on others")
    }

    /// Ranks that would sum in different ways (one in shared memory, one by MPI_Allreduce) would
    /// wait for each other forever: they stop before the first step.
    func testDifferentSumMethodStopsAllRanks() throws {
        try assertUsageMismatch(["--mpi-reduce", "ordered"], ["--mpi-reduce", "allreduce"],
                                message: "--mpi-reduce is allreduce on some ranks and ordered on others")
    }

    /// Ranks that would compress differently, or (compressed) gather their state for checkpoints
    /// at different steps, would wait for each other: they stop before the first step.
    func testDifferentGradientCompressionOrCheckpointPolicyStopsAllRanks() throws {
        try assertUsageMismatch(["--grad-compression", "bf16"], ["--grad-compression", "powersgd:2"],
                                message: "--grad-compression is bf16 on some ranks and powersgd:2 on others")
        let directory = try Launcher.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try assertUsageMismatch(["--grad-compression", "bf16", "--checkpoint-dir", directory, "--checkpoint-every", "5"],
                                ["--grad-compression", "bf16", "--checkpoint-dir", directory],
                                message: "when checkpoints are written (--checkpoint-dir, --checkpoint-every; a compressed sum or --sync-every gathers each rank's state then) is at epoch ends on some ranks and at epoch ends and every 5 steps on others")
    }

    /// An error on one rank only (its data file is missing) ends every rank, printed once.
    func testMissingFileOnOneRankStopsAllRanks() throws {
        let outcome = try mismatched(["--data", "xor", "--epochs", "1"], ["--data", "csv:/nonexistent/train.csv", "--epochs", "1"])
        XCTAssertEqual(outcome.status, 66)
        XCTAssertLessThan(outcome.seconds, 10)
        let messages = outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("trainer: error:") }
        XCTAssertEqual(messages, ["trainer: error: /nonexistent/train.csv: cannot open: No such file or directory"], outcome.stderr)
    }
}
