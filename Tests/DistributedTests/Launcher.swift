import Foundation
import TestSupport
import Support
import Training
import XCTest

/// Runs the `trainer` built next to this test bundle, alone or under a real `mpirun`.
enum Launcher {
    typealias Outcome = ProcessRunner.Outcome

    static var trainer: String { ProcessRunner.trainer }

    static var mpirun: String? {
        ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// mpirun's flags for this machine: root, more ranks than cores, the fast-starting ob1 layer.
    static var mpirunFlags: [String] {
        (getuid() == 0 ? ["--allow-run-as-root"] : []) + ["--oversubscribe", "--mca", "pml", "ob1"]
    }

    /// `trainer train arguments` on `ranks` MPI ranks (nil: local mode, no mpirun).
    static func train(ranks: Int?, _ arguments: [String], timeout: Double = 120) throws -> Outcome {
        guard let ranks else { return try TrainerProcess.run(["train"] + arguments, timeout: timeout) }
        let mpirun = try XCTUnwrap(mpirun, "mpirun is not installed (launch/install installs openmpi-bin)")
        return try ProcessRunner.runInTime(mpirun, mpirunFlags + ["-n", String(ranks), trainer, "train"] + arguments,
                                           timeout: timeout)
    }

    /// A fresh directory for one run's metrics and checkpoints.
    static func directory() throws -> String {
        try makeScratchDirectory("dist")
    }
}

/// ‖a − b‖ / ‖b‖, in Float64: how far parameters `a` are from `b`, relative to b's size.
func relativeDistance(_ a: [Float], from b: [Float]) -> Double {
    let difference = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
    let norm = b.reduce(0.0) { $0 + Double($1) * Double($1) }
    return (difference / norm).squareRoot()
}

/// What one finished run left behind: the final parameters and the logged losses.
struct RunResult {
    let parameters: [Float]
    let parameterBytes: [UInt8]
    /// (name, value) of every loss in the metrics file, in order.
    let losses: [(String, Double)]
    let finalTestAccuracy: Double?
    /// Every line of the metrics file without its timings (`seconds`, `samples_per_second`,
    /// `phases`), keys sorted: what the run computed.
    let metrics: [String]

    /// Trains with `arguments` plus a metrics file and a checkpoint directory, then reads them.
    static func train(ranks: Int?, _ arguments: [String]) throws -> RunResult {
        try train(label: "ranks \(ranks.map(String.init) ?? "local")", arguments) { try Launcher.train(ranks: ranks, $0) }
    }

    /// Trains by `launch(trainer train arguments…)` plus a metrics file and a checkpoint
    /// directory, then reads them.
    static func train(label: String, _ arguments: [String], launch: ([String]) throws -> Launcher.Outcome) throws -> RunResult {
        let directory = try Launcher.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outcome = try launch(arguments + ["--metrics", directory + "/metrics.jsonl", "--checkpoint-dir", directory + "/ckpt", "--quiet"])
        guard outcome.status == 0 else {
            throw TrainerError(.environment, subject: label, "exit \(outcome.status): \(outcome.stderr)")
        }
        let latest = try String(contentsOfFile: directory + "/ckpt/latest", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let loaded = try ModelCheckpoint.load(directory + "/ckpt/" + latest)
        var losses: [(String, Double)] = [], accuracy: Double?, metrics: [String] = []
        for line in try String(contentsOfFile: directory + "/metrics.jsonl", encoding: .utf8).split(separator: "\n") {
            var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for timing in ["seconds", "samples_per_second", "phases"] { object[timing] = nil }
            metrics.append(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            for key in ["loss", "train_loss", "test_loss"] {
                if let value = object[key] as? Double { losses.append(("\(key)@\(object["step"] ?? object["epoch"] ?? "")", value)) }
            }
            if let a = object["test_accuracy"] as? Double { accuracy = a }
        }
        let bytes = loaded.parameters.withUnsafeBytes { Array($0) }
        return RunResult(parameters: loaded.parameters, parameterBytes: bytes, losses: losses, finalTestAccuracy: accuracy,
                         metrics: metrics)
    }
}
