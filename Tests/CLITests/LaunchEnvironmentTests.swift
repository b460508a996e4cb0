import Foundation
import TestSupport
import XCTest

/// What the launcher and the machine tell a process: its cores, and whether it is one of many.
final class LaunchEnvironmentTests: XCTestCase {
    /// `--threads`' default is the cores the process may run on, not every core of the machine.
    func testThreadsDefaultHonoursTheCPUAffinity() throws {
        let outcome = try ProcessRunner.run("/usr/bin/taskset", ["-c", "0", ProcessRunner.trainer, "train", "--data", "xor",
                                                                 "--model", "logistic", "--epochs", "1"], timeout: 30)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderrLines.first?.hasSuffix(", 1 thread, sum: none (one rank)") ?? false, outcome.stderr)
    }

    /// `srun` without PMIx starts N copies that each find themselves alone: each stops with one
    /// line naming the fix, before it writes a file.
    func testOneOfSeveralTasksAloneStopsBeforeWritingAnything() throws {
        let directory = try scratchDirectory()
        var environment = ProcessInfo.processInfo.environment
        environment["SLURM_NTASKS"] = "2"
        environment["SLURM_PROCID"] = "0"
        let running = try ProcessRunner.Running(ProcessRunner.trainer, ["train", "--data", "xor", "--epochs", "1",
                                                                        "--checkpoint-dir", directory + "/ckpt",
                                                                        "--metrics", directory + "/m.jsonl"],
                                                environment: environment)
        let outcome = try running.finish(timeout: 30)
        assertOneLineError(outcome, code: 69, mentions: ["SLURM_NTASKS=2", "srun --mpi=pmix", "mpirun"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [], "nothing written")
    }
}
