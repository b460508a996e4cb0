import Foundation
import Support
import Training
import XCTest

/// ‖a − b‖ / ‖b‖, in Float64: how far parameters `a` are from `b`, relative to b's size.
public func relativeDistance(_ a: [Float], from b: [Float]) -> Double {
    let difference = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
    let norm = b.reduce(0.0) { $0 + Double($1) * Double($1) }
    return (difference / norm).squareRoot()
}

/// What one finished run left behind: the final parameters and the logged losses.
public struct RunResult {
    public let parameters: [Float]
    public let parameterBytes: [UInt8]
    /// (name, value) of every loss in the metrics file, in order.
    public let losses: [(String, Double)]
    public let finalTestAccuracy: Double?
    /// Every line of the metrics file without its timings (`seconds`, `samples_per_second`,
    /// `phases`), keys sorted: what the run computed.
    public let metrics: [String]

    /// Trains by `launch(trainer train arguments…)` plus a metrics file and a checkpoint
    /// directory (`checkpoints`, kept; nil: one removed with the metrics), then reads them.
    public static func train(label: String, _ arguments: [String], checkpoints: String? = nil,
                             launch: ([String]) throws -> ProcessRunner.Outcome) throws -> RunResult {
        let directory = try makeScratchDirectory("run")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let checkpoints = checkpoints ?? directory + "/ckpt"
        let outcome = try launch(arguments + ["--metrics", directory + "/metrics.jsonl", "--checkpoint-dir", checkpoints, "--quiet"])
        guard outcome.status == 0 else {
            throw TrainerError(.environment, subject: label, "exit \(outcome.status): \(outcome.stderr)")
        }
        let latest = try String(contentsOfFile: checkpoints + "/latest", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let loaded = try ModelCheckpoint.load(checkpoints + "/" + latest)
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

extension RunResult {
    /// Trains with `trainer train arguments…` in local mode, as a user runs it (`environment`:
    /// variables set for it), plus a metrics file and a checkpoint directory (`checkpoints`,
    /// kept; nil: one removed after), then reads them.
    public static func train(_ arguments: [String], checkpoints: String? = nil, environment: [String: String] = [:],
                             timeout: Double = 120, file: StaticString = #filePath, line: UInt = #line) throws -> RunResult {
        try train(label: "trainer train " + arguments.joined(separator: " "), arguments, checkpoints: checkpoints) {
            try TrainerProcess.run(["train"] + $0, timeout: timeout, environment: environment, file: file, line: line)
        }
    }
}
