import Foundation
import TestSupport
import XCTest

/// One copy of the data per machine, whatever the input (issue 21): mapped NumPy features cost a
/// rank nothing of its own memory, and a CSV file is decoded once for all the ranks of a machine.
final class DataPerMachineTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(Launcher.mpirun == nil, "mpirun is not installed")
    }

    /// `trainer train arguments…` on `ranks` ranks with these extra environment variables.
    func ranks(_ ranks: Int, _ arguments: [String], environment extra: [String: String]) throws -> ProcessRunner.Outcome {
        let mpirun = try XCTUnwrap(Launcher.mpirun)
        let environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let running = try ProcessRunner.Running(mpirun, Launcher.mpirunFlags + ["-n", String(ranks), Launcher.trainer, "train"] + arguments,
                                                environment: environment)
        let outcome = try running.finish(timeout: 180)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return outcome
    }

    /// Writes `rows` × 32 float32 features and int64 labels with NumPy.
    func arrays(_ rows: Int, in directory: String) throws -> String {
        let made = try ProcessRunner.runInTime("/usr/bin/python3", ["-c", """
            import numpy as np
            r = np.random.default_rng(1); np.save('\(directory)/x.npy', r.standard_normal(({rows}, 32), dtype=np.float32))
            np.save('\(directory)/y.npy', r.integers(0, 10, {rows}))
            """.replacingOccurrences(of: "{rows}", with: String(rows))], timeout: 120)
        XCTAssertEqual(made.status, 0, made.stderr)
        return "npy:\(directory)/x.npy,\(directory)/y.npy"
    }

    /// 4 ranks on one machine on 1M rows of a .npy (128 bytes of features a row): each rank's
    /// anonymous memory (smaps_rollup) exceeds that of the same job on 10k rows by at most 24
    /// bytes a row — its labels and the epoch's order, not the features, which the page cache
    /// holds once for all.
    func testRanksHoldNoCopyOfMappedFeatures() throws {
        func memory(rows: Int) throws -> [Int] {
            let directory = try scratchDirectory()
            let data = try arrays(rows, in: directory)
            let outcome = try ranks(4, ["--data", data, "--model", "mlp:64:relu", "--epochs", "1", "--batch-size", "4096", "--threads", "1",
                                        "--quiet"], environment: ["TRAINER_TEST_MEMORY_REPORT": "1"])
            try? FileManager.default.removeItem(atPath: directory)
            var bytes = [Int](repeating: -1, count: 4)
            for line in outcome.stderrLines where line.contains(" anonymous memory: ") {
                let words = line.split(separator: " ")
                if let rank = Int(words[1]), let value = Int(words[4]), (0..<4).contains(rank) { bytes[rank] = value }
            }
            XCTAssertFalse(bytes.contains(-1), outcome.stderr)
            return bytes
        }
        let small = try memory(rows: 10_000), large = try memory(rows: 1_000_000)
        for rank in 0..<4 {
            let perRow = Double(large[rank] - small[rank]) / 990_000
            print("rank \(rank): \(small[rank]) bytes on 10k rows, \(large[rank]) on 1M: \(perRow) bytes a row")
            XCTAssertLessThanOrEqual(perRow, 24, "rank \(rank)")
        }
    }

    /// 4 ranks on a CSV file: one process decodes it into the data cache and the others map what
    /// it wrote; a second run decodes nothing; a changed file is decoded again, once.
    func testACSVFileIsDecodedOncePerMachine() throws {
        let directory = try scratchDirectory()
        let csv = directory + "/data.csv", log = directory + "/decodes"
        func write(_ shift: Int) throws {
            let lines = (0..<3000).map { i in "\((i + shift) % 3),\(Double(i % 17) / 4),\(Double(i % 5) - 2),\(i % 7)" }
            try ("label,a,b,c\n" + lines.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        }
        func decodings() -> Int {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        let environment = ["TRAINER_CACHE": directory + "/cache", "TRAINER_TEST_DECODE_LOG": log]
        let job = ["--data", "csv:" + csv, "--model", "mlp:8:relu", "--epochs", "1", "--threads", "1", "--quiet"]
        try write(0)
        _ = try ranks(4, job, environment: environment)
        XCTAssertEqual(decodings(), 1, "4 ranks, one decoding")
        _ = try ranks(4, job, environment: environment)
        XCTAssertEqual(decodings(), 1, "the cache serves the second run")
        try write(1)
        _ = try ranks(4, job, environment: environment)
        XCTAssertEqual(decodings(), 2, "a changed file is decoded again")
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory + "/cache").filter { $0.hasSuffix(".npz") }
        XCTAssertEqual(entries.count, 1, "the stale entry is gone: \(entries)")
    }
}
