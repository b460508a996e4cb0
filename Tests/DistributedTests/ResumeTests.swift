import Checkpoint
import Foundation
import TestSupport
import Training
import XCTest

/// Kill a run at any moment and `--resume` continues it to exactly the weights the
/// uninterrupted run would have produced.
final class ResumeTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(Launcher.mpirun == nil, "mpirun is not installed")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "no Fashion-MNIST")
    }

    /// The default job for `epochs` epochs with `optimizer`'s flags (momentum unless told), so the
    /// optimizer state matters too.
    static func job(epochs: Int, optimizer: [String] = momentum) -> [String] {
        ["--epochs", String(epochs), "--log-every", "0", "--quiet"] + optimizer
    }
    static let momentum = ["--momentum", "0.9", "--lr", "0.05"]
    /// AdamW's two moments and step count, a warmup that ends inside epoch 1 and a cosine decay
    /// over the whole run: state a resume must restore, and a rate that changes every step.
    static let adamWWarmupCosine = ["--optimizer", "adamw", "--lr", "0.002", "--weight-decay", "0.05",
                                    "--warmup", "300", "--lr-schedule", "cosine:0.05"]
    static let stepsPerEpoch = 469

    /// The command line of `trainer train` alone (ranks nil) or under mpirun.
    static func command(ranks: Int?, _ arguments: [String]) -> (String, [String]) {
        guard let ranks, let mpirun = Launcher.mpirun else { return (Launcher.trainer, ["train"] + arguments) }
        return (mpirun, Launcher.mpirunFlags + ["-n", String(ranks), Launcher.trainer, "train"] + arguments)
    }

    /// The final checkpoint's tensors and metadata of a run that wrote to `directory`.
    static func finalCheckpoint(_ directory: String) throws -> SafeTensors {
        let path = try CheckpointDirectory.resolve(directory, checkpointDirectory: nil)
        _ = try ModelCheckpoint.load(path)  // valid
        return try SafeTensors(contentsOf: path)
    }

    static func uninterrupted(ranks: Int?, job: [String]) throws -> SafeTensors {
        let directory = try Launcher.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (program, arguments) = command(ranks: ranks, job + ["--checkpoint-dir", directory])
        let outcome = try ProcessRunner.run(program, arguments, timeout: 120)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return try finalCheckpoint(directory)
    }

    /// SIGTERM at a random moment — to the trainer, to mpirun (which forwards it) or to one
    /// rank — then resume; the final bytes equal the uninterrupted run's.
    func assertStopAndResumeIsExact(ranks: Int?, signalMPIRun: Bool, optimizer: [String] = momentum,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        // mpirun passes a SIGTERM on to the ranks about 2 s after it gets it (Open MPI 4.1,
        // measured), longer than 3 epochs of the default job take now: that case runs 8.
        let epochs = signalMPIRun ? 8 : 3, totalSteps = epochs * Self.stepsPerEpoch
        let job = Self.job(epochs: epochs, optimizer: optimizer)
        let reference = try Self.uninterrupted(ranks: ranks, job: job)
        let directory = try Launcher.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var stoppedAt = totalSteps
        for attempt in 0..<4 where stoppedAt >= totalSteps {
            try? FileManager.default.removeItem(atPath: directory)
            let (program, arguments) = Self.command(ranks: ranks, job + ["--checkpoint-dir", directory])
            let running = try ProcessRunner.Running(program, arguments)
            // The random moment is measured from the end of epoch 1 (its checkpoint appears), not
            // from the launch: a fixed delay from the launch landed after the run's end once the
            // step got fast. Up to half the time to epoch 1's end falls inside epoch 2 or 3.
            let launched = Date()
            let firstEpoch = (directory as NSString).appendingPathComponent(CheckpointDirectory.fileName(globalStep: Self.stepsPerEpoch))
            while running.isRunning, !FileManager.default.fileExists(atPath: firstEpoch), Date().timeIntervalSince(launched) < 60 {
                usleep(2_000)
            }
            let delay = Double.random(in: 0...(Date().timeIntervalSince(launched) / 2)) / Double(attempt + 1)
            usleep(UInt32(delay * 1e6))
            var target = running.pid
            if ranks != nil, !signalMPIRun, let rank = running.children(named: "trainer").randomElement() { target = rank }
            kill(target, SIGTERM)
            let outcome = try running.finish(timeout: 120)
            if ranks == nil || !signalMPIRun {
                XCTAssertEqual(outcome.status, 0, "a stop on request exits 0: \(outcome.stderr)", file: file, line: line)
            }
            let latest = try ModelCheckpoint.load(try CheckpointDirectory.resolve(directory, checkpointDirectory: nil))
            stoppedAt = latest.progress.globalStep
            print("ranks \(ranks.map(String.init) ?? "local"): SIGTERM \(delay) s after epoch 1 stopped at step \(stoppedAt) of \(totalSteps)")
        }
        XCTAssertLessThan(stoppedAt, totalSteps, "the stop never landed mid-run", file: file, line: line)
        let (program, arguments) = Self.command(ranks: ranks, job + ["--checkpoint-dir", directory, "--resume", "latest"])
        let resumed = try ProcessRunner.run(program, arguments, timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stderr, file: file, line: line)
        let final = try Self.finalCheckpoint(directory)
        XCTAssertEqual(final.tensors.map(\.name), reference.tensors.map(\.name), file: file, line: line)
        for (a, b) in zip(final.tensors, reference.tensors) {
            XCTAssertTrue(a.bytes == b.bytes, "\(a.name) differs after resuming from step \(stoppedAt)", file: file, line: line)
        }
        XCTAssertEqual(final.metadata, reference.metadata, file: file, line: line)
    }

    func testStopAndResumeInLocalModeIsBitwiseExact() throws {
        try assertStopAndResumeIsExact(ranks: nil, signalMPIRun: false)
    }

    func testStopAndResumeWithAdamWWarmupAndCosineIsBitwiseExact() throws {
        try assertStopAndResumeIsExact(ranks: nil, signalMPIRun: false, optimizer: Self.adamWWarmupCosine)
        try assertStopAndResumeIsExact(ranks: 2, signalMPIRun: false, optimizer: Self.adamWWarmupCosine)
    }

    /// Local rounds (`--sync-every`, DiLoCo's outer step): SIGTERM to one rank mid-round stops
    /// every rank at the round's end, and the resume from there is bit-exact.
    func testStopAndResumeWithLocalRoundsIsBitwiseExact() throws {
        try assertStopAndResumeIsExact(ranks: 2, signalMPIRun: false,
                                       optimizer: Self.adamWWarmupCosine + ["--sync-every", "16", "--outer-lr", "0.7", "--outer-momentum", "0.9"])
    }

    func testStopAndResumeOnTwoRanksIsBitwiseExact() throws {
        try assertStopAndResumeIsExact(ranks: 2, signalMPIRun: true)
    }

    func testStopAndResumeOnFourRanksIsBitwiseExact() throws {
        try assertStopAndResumeIsExact(ranks: 4, signalMPIRun: false)
    }

    /// SIGKILL one rank at a random step, 5 times over, under launch/supervise: the job restarts
    /// from its latest checkpoint each time and ends with the uninterrupted run's bytes.
    func testSupervisedJobSurvivesKilledRanks() throws {
        let supervise = ProcessRunner.buildDirectory.appendingPathComponent("../../../launch/supervise").standardized.path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: supervise), "launch/supervise not found at \(supervise)")
        let mpirun = try XCTUnwrap(Launcher.mpirun)
        // 6 epochs: five kills at random moments (each 0.05–0.4 s after a checkpoint) must fit in the run.
        let job = Self.job(epochs: 6) + ["--checkpoint-every", "40"]
        let reference: SafeTensors = try {
            let directory = try Launcher.directory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let outcome = try ProcessRunner.run(mpirun, Launcher.mpirunFlags + ["-n", "2", Launcher.trainer, "train"] + job
                                                    + ["--checkpoint-dir", directory], timeout: 120)
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            return try Self.finalCheckpoint(directory)
        }()
        let directory = try Launcher.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let running = try ProcessRunner.Running(supervise, ["-r", "8", mpirun] + Launcher.mpirunFlags
                                                + ["-n", "2", Launcher.trainer, "train"] + job + ["--checkpoint-dir", directory])
        var kills = 0, killedJobs: Set<Int32> = [], lastKilledAt = -1
        func latestStep() -> Int {
            (try? ModelCheckpoint.load(try CheckpointDirectory.resolve(directory, checkpointDirectory: nil)))?.progress.globalStep ?? -1
        }
        while kills < 5 && running.isRunning {
            usleep(50_000)
            // The supervisor's child is mpirun; its children are the ranks. Kill one rank of each
            // job once, after that job has checkpointed past the previous kill (progress), at a
            // random moment.
            guard let job = running.children(named: "mpirun").first, !killedJobs.contains(job), latestStep() > lastKilledAt else { continue }
            usleep(UInt32(Double.random(in: 0.05...0.4) * 1e6))
            let ranks = (try? ProcessRunner.run("/usr/bin/pgrep", ["-P", String(job), "-x", "trainer"], timeout: 10))?
                .stdout.split(separator: "\n").compactMap { Int32($0) } ?? []
            guard ranks.count == 2, let rank = ranks.randomElement() else { continue }
            lastKilledAt = latestStep()
            kill(rank, SIGKILL)
            killedJobs.insert(job)
            kills += 1
            print("SIGKILL \(kills) to rank pid \(rank), latest checkpoint at step \(lastKilledAt)")
        }
        let outcome = try running.finish(timeout: 300)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertGreaterThanOrEqual(kills, 5, "the job ended before 5 kills")
        let restarts = outcome.stderr.split(separator: "\n").filter { $0.contains("launch/supervise: job failed") }
        XCTAssertEqual(restarts.count, kills, outcome.stderr)
        let final = try Self.finalCheckpoint(directory)
        for (a, b) in zip(final.tensors, reference.tensors) {
            XCTAssertTrue(a.bytes == b.bytes, "\(a.name) differs after \(kills) kills and restarts")
        }
        XCTAssertEqual(final.tensors.count, reference.tensors.count)
    }

    /// SIGKILL rank 0 while it writes a checkpoint: the test hook TRAINER_TEST_WRITE_PAUSE_US
    /// pauses every write with half the temporary file written; the kill lands in that pause.
    /// `latest` must still name a complete, valid checkpoint, and so must every checkpoint file.
    func testKillingRankZeroWhileItWritesLeavesTheLastCheckpointIntact() throws {
        let directory = try Launcher.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var environment = ProcessInfo.processInfo.environment
        environment["TRAINER_TEST_WRITE_PAUSE_US"] = "300000"
        for round in 0..<4 {
            let before = try? ModelCheckpoint.load(try CheckpointDirectory.resolve(directory, checkpointDirectory: nil))
            let running = try ProcessRunner.Running(Launcher.trainer, ["train", "--epochs", "1", "--quiet", "--log-every", "0",
                                                                       "--checkpoint-dir", directory, "--checkpoint-every", "20",
                                                                       "--keep", "2", "--resume", "auto"], environment: environment)
            // Kill in the pause of the 2nd or 3rd write of this run, so a previous checkpoint
            // exists; writes are told apart by their temporary file's name.
            let writes = Int.random(in: 2...3)
            var seen: Set<String> = [], sawTemporary = false
            let deadline = Date().addingTimeInterval(30)
            while running.isRunning, Date() < deadline, !sawTemporary {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                if let temporary = names.first(where: { $0.hasPrefix("ckpt-") && $0.contains(".tmp-") }), !seen.contains(temporary) {
                    seen.insert(temporary)
                    sawTemporary = seen.count >= writes
                } else {
                    usleep(5_000)
                }
            }
            XCTAssertTrue(sawTemporary, "round \(round): no checkpoint write was seen")
            kill(running.pid, SIGKILL)
            _ = try running.finish(timeout: 60)
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            XCTAssertTrue(names.contains { $0.contains(".tmp-") }, "round \(round): the kill did not land mid-write: \(names)")
            let latest = try CheckpointDirectory.resolve(directory, checkpointDirectory: nil)
            let loaded = try ModelCheckpoint.load(latest)
            if let before { XCTAssertGreaterThanOrEqual(loaded.progress.globalStep, before.progress.globalStep) }
            for name in names where name.hasSuffix(".safetensors") {
                XCTAssertNoThrow(try ModelCheckpoint.load(directory + "/" + name), "round \(round): \(name) is not valid")
            }
            print("round \(round): killed mid-write; latest is \(latest) at step \(loaded.progress.globalStep), valid")
        }
    }
}
