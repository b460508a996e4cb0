import Checkpoint
import Foundation
import TestSupport
import Training
import XCTest

/// No hang, ever: a rank that stalls (here SIGSTOP) ends the job within `--timeout`, said once.
final class WatchdogTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(Launcher.mpirun == nil, "mpirun is not installed")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "no Fashion-MNIST")
    }

    static let timeout = 3.0
    static let job = ResumeTests.job(epochs: 3) + ["--checkpoint-every", "100", "--timeout", String(timeout)]

    /// Waits for the first checkpoint of a job writing to `directory`, then stops one rank of
    /// the job `mpirun` (a child of `parent`, or `parent` itself) runs; returns the stopped pid.
    func stopOneRank(of parent: ProcessRunner.Running, mpirunIsChild: Bool, directory: String) throws -> Int32 {
        let started = Date()
        while parent.isRunning, !FileManager.default.fileExists(atPath: directory + "/latest"), Date().timeIntervalSince(started) < 60 {
            usleep(10_000)
        }
        var ranks: [Int32] = []
        while ranks.count < 2, Date().timeIntervalSince(started) < 60 {
            let mpiruns = mpirunIsChild ? parent.children(named: "mpirun") : [parent.pid]
            ranks = mpiruns.flatMap { ProcessRunner.children(of: $0, named: "trainer") }
            usleep(10_000)
        }
        let victim = try XCTUnwrap(ranks.randomElement(), "no rank found")
        kill(victim, SIGSTOP)
        return victim
    }

    /// Whether `pid` has ended (no process, or a zombie waiting to be reaped).
    static func isGone(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    func testAStoppedRankEndsTheJobWithinTheTimeout() throws {
        let directory = try Launcher.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let mpirun = try XCTUnwrap(Launcher.mpirun)
        let running = try ProcessRunner.Running(mpirun, Launcher.mpirunFlags + ["-n", "2", Launcher.trainer, "train"]
                                                + Self.job + ["--checkpoint-dir", directory])
        let victim = try stopOneRank(of: running, mpirunIsChild: false, directory: directory)
        let stopped = Date()
        let outcome = try running.finish(timeout: 60)
        XCTAssertTrue(outcome.finished, outcome.stderr)
        XCTAssertNotEqual(outcome.status, 0)
        // mpirun's SIGKILL may land on the stopped rank a moment after mpirun itself exits.
        while !Self.isGone(victim), Date().timeIntervalSince(stopped) < Self.timeout + 10 { usleep(10_000) }
        let gone = Date().timeIntervalSince(stopped)
        XCTAssertTrue(Self.isGone(victim), "the stopped rank is gone too")
        XCTAssertLessThanOrEqual(gone, Self.timeout + 10, "all gone within the timeout + 10 s")
        let messages = outcome.stderrLines.filter { $0.hasPrefix("trainer: error:") }
        XCTAssertEqual(messages.count, 1, outcome.stderr)
        let message = String(messages.first ?? "")
        XCTAssertTrue(message.contains("rank ") && message.contains(" at step ") && message.contains("--timeout 3 s"), message)
        print("stopped rank \(victim): job gone \(gone) s later: \(message)")
    }

    /// Under launch/supervise the job then restarts from its latest checkpoint and ends with the
    /// bytes of a run nothing stopped.
    func testASupervisedJobRestartsAfterAStallAndEndsWithTheSameBytes() throws {
        let supervise = ProcessRunner.buildDirectory.appendingPathComponent("../../../launch/supervise").standardized.path
        let mpirun = try XCTUnwrap(Launcher.mpirun)
        let command = [mpirun] + Launcher.mpirunFlags + ["-n", "2", Launcher.trainer, "train"] + Self.job
        let reference: SafeTensors = try {
            let directory = try Launcher.directory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let outcome = try ProcessRunner.run(command[0], Array(command.dropFirst()) + ["--checkpoint-dir", directory], timeout: 120)
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            return try ResumeTests.finalCheckpoint(directory)
        }()
        let directory = try Launcher.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let running = try ProcessRunner.Running(supervise, ["-r", "2"] + command + ["--checkpoint-dir", directory])
        _ = try stopOneRank(of: running, mpirunIsChild: true, directory: directory)
        let outcome = try running.finish(timeout: 120)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("restart 1 of 2"), outcome.stderr)
        let final = try ResumeTests.finalCheckpoint(directory)
        XCTAssertEqual(final.tensors.map(\.bytes), reference.tensors.map(\.bytes), "the same bytes as a run nothing stopped")
        XCTAssertEqual(final.metadata, reference.metadata)
    }
}
