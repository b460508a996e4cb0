import Checkpoint
import Communication
import Data
import Foundation
import KernelCore
import Models
import Support

/// The mapping between a trained network and a safetensors checkpoint.
///
/// Tensors: every parameter by its readable name (`layers.0.weight`, shape [outputs, inputs],
/// F32) and, with momentum, the velocity as `optimizer.velocity`. Metadata: the format and its
/// version, the training configuration (`configurationKeys`), the progress (`TrainingProgress`),
/// the world size at save, the training data's CRC-32 and a CRC-32 of all tensor bytes.
public enum ModelCheckpoint {
    public static let format = "trainer-checkpoint"
    public static let formatVersion = "1"
    public static let velocityTensor = "optimizer.velocity"

    /// Metadata keys of the configuration that a resumed run must share with the checkpoint
    /// (anything else — epochs, checkpoint policy, metrics, threads — may change on resume).
    public static let configurationKeys: [(key: String, flag: String)] = [
        ("model", "--model"), ("data", "--data"), ("test_data", "--test-data"), ("batch_size", "--batch-size"),
        ("lr", "--lr"), ("lr_schedule", "--lr-schedule"), ("momentum", "--momentum"), ("l1", "--l1"), ("l2", "--l2"),
        ("seed", "--seed"), ("classes", "--classes"), ("data_crc32", "the training data's CRC-32"),
        ("train_samples", "the training data's sample count"),
    ]

    /// The configuration of a run on `data`, as checkpoint metadata.
    static func configurationMetadata(_ c: TrainingConfiguration, data: PreparedData) -> [String: String] {
        [
            "model": c.model.description, "data": c.data.description, "test_data": c.testData?.description ?? "default",
            "batch_size": String(c.batchSize), "lr": String(c.learningRate), "lr_schedule": c.schedule.description,
            "momentum": String(c.momentum), "l1": String(c.regularization.l1), "l2": String(c.regularization.l2),
            "seed": String(c.seed), "classes": data.classes.map(String.init) ?? "none",
            "data_crc32": String(data.train.checksum()), "train_samples": String(data.train.count),
            "input_count": String(data.architecture.inputCount), "epochs": String(c.epochs),
        ]
    }

    /// The checkpoint of `network` after `progress`, trained by `configuration` on `worldSize` ranks.
    public static func encode(_ network: Network<Float>, velocity: UnsafeMutableBufferPointer<Float>,
                              configuration: TrainingConfiguration, data: PreparedData, progress: TrainingProgress,
                              worldSize: Int) -> SafeTensors {
        var tensors = network.architecture.tensorNames.map { tensor in
            TensorEntry(name: tensor.name, shape: tensor.shape,
                        floats: UnsafeBufferPointer(rebasing: network.parameters[tensor.range]))
        }
        if velocity.count == network.parameterCount, velocity.count > 0 {
            tensors.append(TensorEntry(name: velocityTensor, shape: [velocity.count], floats: UnsafeBufferPointer(velocity)))
        }
        var metadata = configurationMetadata(configuration, data: data)
        metadata["format"] = format
        metadata["format_version"] = formatVersion
        metadata["world_size"] = String(worldSize)
        metadata["epoch"] = String(progress.epoch)
        metadata["step_in_epoch"] = String(progress.stepInEpoch)
        metadata["global_step"] = String(progress.globalStep)
        metadata["samples_seen"] = String(progress.samplesSeen)
        // Shortest round-tripping decimal forms: the epoch's partial sums come back exactly.
        metadata["epoch_loss_sum"] = String(progress.epochLossSum)
        metadata["epoch_correct"] = String(progress.epochCorrect)
        metadata["epoch_samples"] = String(progress.epochSamples)
        metadata["tensors_crc32"] = String(tensorChecksum(tensors))
        return SafeTensors(tensors: tensors, metadata: metadata)
    }

    static func tensorChecksum(_ tensors: [TensorEntry]) -> UInt32 {
        tensors.reduce(0) { crc, tensor in tensor.bytes.withUnsafeBytes { crc32(of: $0, initial: crc) } }
    }

    /// A model read back from a checkpoint: its spec, shape, parameters and progress.
    public struct Loaded: Sendable {
        public let model: ModelSpec
        public let architecture: Architecture
        public let classes: Int?
        public let parameters: [Float]
        public let velocity: [Float]?
        public let progress: TrainingProgress
        public let metadata: [String: String]
        public let data: DataSource?
    }

    /// Reads and checks `path`; errors name the path.
    public static func load(_ path: String) throws -> Loaded {
        try decode(try SafeTensors(contentsOf: path), source: path)
    }

    /// Checks a checkpoint as untrusted input: format and version, the CRC-32 of its tensors,
    /// a valid model spec, every parameter tensor with the shape the spec implies, and progress
    /// numbers that make sense. Errors are `.data` and name `source`.
    public static func decode(_ file: SafeTensors, source: String) throws -> Loaded {
        func fail(_ problem: String) -> TrainerError { TrainerError(.data, subject: source, problem) }
        let m = file.metadata
        guard m["format"] == format else {
            throw fail("not a trainer checkpoint (metadata format is \(m["format"].map { "\"\($0)\"" } ?? "missing"))")
        }
        guard m["format_version"] == formatVersion else {
            throw fail("checkpoint format version \(m["format_version"] ?? "missing") is not supported (this trainer reads version \(formatVersion))")
        }
        guard m["tensors_crc32"] == String(tensorChecksum(file.tensors)) else {
            throw fail("checksum mismatch: the tensor data are corrupt")
        }
        guard let specText = m["model"], let model = try? ModelSpec(parsing: specText) else {
            throw fail("metadata model \"\(m["model"] ?? "")\" is not a valid model spec")
        }
        func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int {
            guard let text = m[key], let value = Int(text), range.contains(value) else {
                throw fail("metadata \(key) is missing or not a whole number in \(range.lowerBound)…\(range.upperBound)")
            }
            return value
        }
        func real(_ key: String) throws -> Double {
            guard let text = m[key], let value = Double(text), value.isFinite, value >= 0 else {
                throw fail("metadata \(key) is missing or not a finite number ≥ 0")
            }
            return value
        }
        let inputs = try integer("input_count", in: 1...(1 << 24))
        let classes = m["classes"] == "none" ? nil : try integer("classes", in: 1...(1 << 20))
        let architecture: Architecture
        do { architecture = try model.architecture(inputCount: inputs, classes: classes) } catch let error as TrainerError {
            throw fail("the model in the checkpoint does not fit its own shape: \(error.message)")
        }
        // Every tensor the model needs, with its shape, before the parameters are allocated: the
        // metadata alone may promise up to `ModelSpec.maxParameters` (4 GiB), the tensors' own
        // bytes in the file bound what is actually allocated.
        let entries = try architecture.tensorNames.map { tensor in
            guard let entry = file[tensor.name] else { throw fail("tensor \(tensor.name) is missing") }
            guard entry.shape == tensor.shape else {
                throw fail("tensor \(tensor.name) has shape \(entry.shape) but the model \(model) needs \(tensor.shape)")
            }
            return (entry: entry, range: tensor.range)
        }
        var parameters = [Float](repeating: 0, count: architecture.parameterCount)
        try parameters.withUnsafeMutableBufferPointer { buffer in
            for (entry, range) in entries {
                try entry.copyFloats(into: UnsafeMutableBufferPointer(rebasing: buffer[range]), source: source)
            }
        }
        var velocity: [Float]?
        if let entry = file[velocityTensor] {
            guard entry.shape == [architecture.parameterCount], let values = entry.floats() else {
                throw fail("tensor \(velocityTensor) must be F32 of shape [\(architecture.parameterCount)]")
            }
            velocity = values
        }
        var progress = TrainingProgress()
        progress.epoch = try integer("epoch", in: 0...Int(Int32.max))
        progress.stepInEpoch = try integer("step_in_epoch", in: 0...Int(Int32.max))
        progress.globalStep = try integer("global_step", in: 0...Int(Int64.max / 2))
        progress.samplesSeen = try integer("samples_seen", in: 0...Int(Int64.max / 2))
        progress.epochLossSum = try real("epoch_loss_sum")
        progress.epochCorrect = try real("epoch_correct")
        progress.epochSamples = try real("epoch_samples")
        // The progress must be a point the run can reach: step k of epoch e is global step
        // e · ⌈n / B⌉ + k (a crafted global step could otherwise drive the schedule anywhere).
        let samples = try integer("train_samples", in: 1...Int(Int32.max))
        let batch = try integer("batch_size", in: 1...(1 << 24))
        let steps = (samples + batch - 1) / batch
        let (epochSteps, overflow) = progress.epoch.multipliedReportingOverflow(by: steps)
        guard progress.stepInEpoch < steps, !overflow, epochSteps + progress.stepInEpoch == progress.globalStep else {
            throw fail("metadata progress is inconsistent: epoch \(progress.epoch), step \(progress.stepInEpoch) of \(steps), global step \(progress.globalStep)")
        }
        let data = m["data"].flatMap { try? DataSource(parsing: $0, flag: "data") }
        return Loaded(model: model, architecture: architecture, classes: classes, parameters: parameters,
                      velocity: velocity, progress: progress, metadata: m, data: data)
    }

    /// Rank 0's checkpoint, as bytes, to every rank (no shared filesystem needed); every rank
    /// decodes the same bytes. Collective.
    static func broadcast(_ file: SafeTensors?, from communicator: Communicator) throws -> SafeTensors {
        var bytes = communicator.isRoot ? (file?.encoded() ?? []) : []
        var length = [UInt64(bytes.count)]
        length.withUnsafeMutableBytes { communicator.broadcast($0, root: 0) }
        if !communicator.isRoot { bytes = [UInt8](repeating: 0, count: Int(length[0])) }
        bytes.withUnsafeMutableBytes { communicator.broadcast($0, root: 0) }
        return try SafeTensors(decoding: bytes, source: "the checkpoint broadcast by rank 0")
    }

    /// Puts a checkpoint's parameters and velocity into a network; returns its progress.
    static func restore(_ file: SafeTensors, into network: Network<Float>,
                        velocity: UnsafeMutableBufferPointer<Float>) throws -> TrainingProgress {
        let loaded = try decode(file, source: "the checkpoint broadcast by rank 0")
        guard loaded.parameters.count == network.parameterCount else {
            throw TrainerError(.data, subject: "checkpoint", "has \(loaded.parameters.count) parameters, the model \(network.parameterCount)")
        }
        _ = network.parameters.update(fromContentsOf: loaded.parameters)
        if velocity.count > 0 {
            if let saved = loaded.velocity { _ = velocity.update(fromContentsOf: saved) } else { velocity.update(repeating: 0) }
        }
        return loaded.progress
    }
}

extension ModelCheckpoint.Loaded {
    /// Throws `.usage` naming each flag whose value differs between the checkpoint and this run.
    public func checkResumable(by configuration: TrainingConfiguration, data: PreparedData, source: String) throws {
        let now = ModelCheckpoint.configurationMetadata(configuration, data: data)
        let differences = ModelCheckpoint.configurationKeys.compactMap { key, flag -> String? in
            let saved = metadata[key] ?? "missing"
            let current = now[key] ?? "missing"
            return saved == current ? nil : "\(flag) is \(saved) in the checkpoint but \(current) now"
        }
        guard differences.isEmpty else {
            throw TrainerError(.usage, subject: "--resume \(source)",
                               differences.joined(separator: "; ") + " (only --epochs, the checkpoint policy, metrics and threads may change on resume)")
        }
    }
}
