import Checkpoint
import Foundation
import Support
import TestSupport
import Training
import XCTest

/// Inputs found by launch/fuzz that trapped or exhausted memory; each is also a seed in
/// Tests/Fuzz/<target>/corpus. None may trap: a bad one is a one-line TrainerError.
final class FuzzRegressionTests: XCTestCase {
    // MARK: - FuzzModelSpec: crash-lr-step-period-overflow

    /// `step:E:F` accepts any E ≥ 1; E × steps per epoch overflowed `Int` and trapped at the first
    /// step. Such a period is never reached: the rate stays the base rate.
    func testStepScheduleWithAHugePeriodDoesNotTrap() throws {
        let schedule = try LearningRateSchedule(parsing: "step:107661662134503537:.5")
        XCTAssertEqual(schedule.rate(base: 0.1, globalStep: 3_681_133, stepsPerEpoch: 110), 0.1)
        let largest = try LearningRateSchedule(parsing: "step:\(Int.max):0.5")
        XCTAssertEqual(largest.rate(base: 0.1, globalStep: Int(Int64.max / 2), stepsPerEpoch: Int(Int32.max)), 0.1)
        // Decays stop changing the rate once it reaches 0: a huge step count is no long loop.
        let halving = try LearningRateSchedule(parsing: "step:1:0.5")
        XCTAssertEqual(halving.rate(base: 0.1, globalStep: Int(Int64.max / 2), stepsPerEpoch: 1), 0)
        XCTAssertEqual(halving.rate(base: 0.1, globalStep: 3, stepsPerEpoch: 1), 0.1 * 0.5 * 0.5 * 0.5)
    }

    func testTrainingWithAHugeStepPeriodRuns() throws {
        let outcome = try TrainerProcess.run(["train", "--data", "xor", "--model", "logistic", "--batch-size", "16",
                                              "--epochs", "1", "--lr-schedule", "step:4611686018427387904:0.5", "--quiet"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertFalse(outcome.stderr.contains("runtime failure"), outcome.stderr)
    }

    // MARK: - FuzzSafeTensors: oom-ckpt-metadata-promises-4gib.safetensors

    /// A checkpoint of a few hundred bytes whose metadata promises a model of ~10⁹ parameters
    /// (`mlp:1000` on 2²⁰ inputs, within `ModelSpec.maxParameters`): decoding allocated 4 GiB for
    /// them before finding that the file's tensors do not have the model's shapes.
    func hugePromise() -> SafeTensors {
        let weight: [Float] = [0.5, -0.5], bias: [Float] = [0.25]
        let tensors = [
            weight.withUnsafeBufferPointer { TensorEntry(name: "layers.0.weight", shape: [1, 2], floats: $0) },
            bias.withUnsafeBufferPointer { TensorEntry(name: "layers.0.bias", shape: [1], floats: $0) },
        ]
        let crc = tensors.reduce(UInt32(0)) { crc32(of: $1.bytes, initial: $0) }
        return SafeTensors(tensors: tensors, metadata: [
            "format": ModelCheckpoint.format, "format_version": ModelCheckpoint.formatVersion,
            "tensors_crc32": String(crc), "model": "mlp:1000", "input_count": "1048576", "classes": "2",
            "epoch": "1", "step_in_epoch": "0", "global_step": "2", "samples_seen": "200",
            "epoch_loss_sum": "0", "epoch_correct": "0", "epoch_samples": "0",
        ])
    }

    func testCheckpointPromisingAHugeModelIsRejectedBeforeAllocating() throws {
        let file = try SafeTensors(decoding: hugePromise().encoded(), source: "huge.safetensors")
        let started = Date()
        XCTAssertThrowsError(try ModelCheckpoint.decode(file, source: "huge.safetensors")) { error in
            guard let error = error as? TrainerError else { return XCTFail("not a TrainerError: \(error)") }
            XCTAssertEqual(error.kind, .data)
            XCTAssertTrue(error.message.hasPrefix("huge.safetensors: tensor layers.0.weight has shape [1, 2]"), error.message)
            XCTAssertTrue(error.message.contains("[1000, 1048576]"), error.message)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1, "decoding allocated for the promised model")
    }

    func testInspectRejectsAHugePromiseQuickly() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("huge-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(hugePromise().encoded()).write(to: URL(fileURLWithPath: path))
        // Before the fix: 27 s and 4 GB of memory.
        let outcome = try TrainerProcess.run(["inspect", path], timeout: 10)
        XCTAssertEqual(outcome.status, 65, outcome.stderr)
        XCTAssertEqual(outcome.stderrLines.count, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("tensor layers.0.weight has shape [1, 2]"), outcome.stderr)
    }
}
