import Checkpoint
import Data
import Foundation
import KernelCore
import Models
import Support

/// Where a run stands: enough to say what a checkpoint holds.
public struct TrainingProgress: Sendable, Equatable {
    /// Epochs completed.
    public var epoch: Int
    /// Steps completed within the current epoch.
    public var stepInEpoch: Int
    public var globalStep: Int
    public var samplesSeen: Int
}

/// The mapping between a trained network and a safetensors checkpoint: every parameter tensor
/// by its readable name (`layers.0.weight`, shape [outputs, inputs], F32), the momentum buffer
/// as `optimizer.velocity` when there is one, and in the metadata the model, the training
/// configuration, the progress and a CRC-32 of the tensor bytes.
public enum ModelCheckpoint {
    public static let format = "trainer-checkpoint"
    public static let formatVersion = "1"

    /// The checkpoint of `network` after `progress`, trained by `configuration` on `world` ranks.
    public static func encode(_ network: Network<Float>, velocity: UnsafeMutableBufferPointer<Float>?,
                              configuration: TrainingConfiguration, classes: Int?, progress: TrainingProgress,
                              worldSize: Int) -> SafeTensors {
        let architecture = network.architecture
        var tensors = architecture.tensorNames.map { tensor in
            TensorEntry(name: tensor.name, shape: tensor.shape,
                        floats: UnsafeBufferPointer(rebasing: network.parameters[tensor.range]))
        }
        if let velocity, velocity.count == network.parameterCount {
            tensors.append(TensorEntry(name: "optimizer.velocity", shape: [velocity.count], floats: UnsafeBufferPointer(velocity)))
        }
        var crc: UInt32 = 0
        for tensor in tensors { crc = tensor.bytes.withUnsafeBytes { crc32(of: $0, initial: crc) } }
        let c = configuration
        let metadata: [String: String] = [
            "format": format, "format_version": formatVersion,
            "model": c.model.description, "input_count": String(architecture.inputCount),
            "classes": classes.map(String.init) ?? "none",
            "data": c.data.description, "test_data": c.testData?.description ?? "default",
            "epochs": String(c.epochs), "batch_size": String(c.batchSize), "lr": String(c.learningRate),
            "lr_schedule": c.schedule.description, "momentum": String(c.momentum),
            "l1": String(c.regularization.l1), "l2": String(c.regularization.l2), "seed": String(c.seed),
            "epoch": String(progress.epoch), "step_in_epoch": String(progress.stepInEpoch),
            "global_step": String(progress.globalStep), "samples_seen": String(progress.samplesSeen),
            "world_size": String(worldSize), "tensors_crc32": String(crc),
        ]
        return SafeTensors(tensors: tensors, metadata: metadata)
    }

    /// A model read back from a checkpoint: its spec, shape and parameters.
    public struct Loaded: Sendable {
        public let model: ModelSpec
        public let architecture: Architecture
        public let classes: Int?
        public let parameters: [Float]
        public let metadata: [String: String]
        public let data: DataSource?
    }

    /// Reads and checks `path`: format and version, CRC-32, the model spec and every parameter
    /// tensor with the shape the spec implies. Errors name the path.
    public static func load(_ path: String) throws -> Loaded {
        let file = try SafeTensors(contentsOf: path)
        return try decode(file, source: path)
    }

    public static func decode(_ file: SafeTensors, source: String) throws -> Loaded {
        func fail(_ problem: String) -> TrainerError { TrainerError(.data, subject: source, problem) }
        let m = file.metadata
        guard m["format"] == format else { throw fail("not a trainer checkpoint (metadata format is \(m["format"].map { "\"\($0)\"" } ?? "missing"))") }
        guard m["format_version"] == formatVersion else {
            throw fail("checkpoint format version \(m["format_version"] ?? "missing") is not supported (this trainer reads \(formatVersion))")
        }
        var crc: UInt32 = 0
        for tensor in file.tensors { crc = tensor.bytes.withUnsafeBytes { crc32(of: $0, initial: crc) } }
        guard m["tensors_crc32"] == String(crc) else { throw fail("checksum mismatch: the tensor data are corrupt") }
        guard let specText = m["model"], let model = try? ModelSpec(parsing: specText) else {
            throw fail("metadata model \"\(m["model"] ?? "")\" is not a valid model spec")
        }
        guard let inputText = m["input_count"], let inputs = Int(inputText), inputs >= 1, inputs <= 1 << 24 else {
            throw fail("metadata input_count is missing or invalid")
        }
        let classes: Int?
        switch m["classes"] {
        case "none": classes = nil
        case let text?: guard let k = Int(text), k >= 1, k <= 1 << 20 else { throw fail("metadata classes \"\(text)\" is invalid") }; classes = k
        case nil: throw fail("metadata classes is missing")
        }
        let architecture: Architecture
        do { architecture = try model.architecture(inputCount: inputs, classes: classes) } catch let error as TrainerError {
            throw fail("the model in the checkpoint does not fit its own shape: \(error.message)")
        }
        var parameters = [Float](repeating: 0, count: architecture.parameterCount)
        try parameters.withUnsafeMutableBufferPointer { buffer in
            for tensor in architecture.tensorNames {
                guard let entry = file[tensor.name] else { throw fail("tensor \(tensor.name) is missing") }
                guard entry.shape == tensor.shape else {
                    throw fail("tensor \(tensor.name) has shape \(entry.shape) but the model \(model) needs \(tensor.shape)")
                }
                try entry.copyFloats(into: UnsafeMutableBufferPointer(rebasing: buffer[tensor.range]), source: source)
            }
        }
        let data = m["data"].flatMap { try? DataSource(parsing: $0, flag: "data") }
        return Loaded(model: model, architecture: architecture, classes: classes, parameters: parameters,
                      metadata: m, data: data)
    }
}

/// Rank 0's checkpoint directory: `ckpt-<global step>.safetensors` files written atomically,
/// and a `latest` file naming the newest, replaced atomically after it.
public struct CheckpointDirectory: Sendable {
    public let path: String

    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw TrainerError(.cannotWrite, subject: path, "is a file, expected a checkpoint directory") }
        } else {
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw TrainerError(.cannotWrite, subject: path, "cannot create the checkpoint directory")
            }
        }
    }

    public func fileName(globalStep: Int) -> String { String(format: "ckpt-%08d.safetensors", globalStep) }

    /// Writes `checkpoint` for `globalStep`, then points `latest` at it. Returns the file's path.
    @discardableResult
    public func save(_ checkpoint: SafeTensors, globalStep: Int) throws -> String {
        let name = fileName(globalStep: globalStep)
        let file = path + "/" + name
        try checkpoint.write(to: file)
        try AtomicFile.write(Array((name + "\n").utf8), to: path + "/latest")
        return file
    }
}
