import Batching
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
/// F32), the optimizer's state by the names `Optimizer.state` gives (e.g. `optimizer.velocity`,
/// `optimizer.exp_avg`), a compressed sum's state (`compression.rank0` …), with `--sync-every`
/// every rank's inner optimizer state (`local.rank0.optimizer` …: its state buffers one after
/// the other) and the outer momentum (`outer.velocity`), and with
/// `--standardize` the features' means and standard deviations (`standardize.mean`,
/// `standardize.sd`, F64 of shape [inputs]). Metadata: the format and its
/// version, the run's settings (those of `RunSettings.all` with a key), the progress
/// (`TrainingProgress`), the world size at save and a CRC-32 of all tensor bytes.
public enum ModelCheckpoint {
    public static let format = "trainer-checkpoint"
    public static let formatVersion = "1"
    /// A compressed sum's state (`CarriedState`): rank r's part, and the part all ranks share.
    public static func residualTensor(rank: Int) -> String { "compression.rank\(rank)" }
    public static let sharedCompressionTensor = "compression.shared"
    /// Local rounds' state (`--sync-every`): rank r's inner optimizer state, and the outer momentum.
    public static func innerStateTensor(rank: Int) -> String { "local.rank\(rank).optimizer" }
    public static let outerVelocityTensor = "outer.velocity"
    /// `--standardize`'s statistics.
    public static let meanTensor = "standardize.mean", deviationTensor = "standardize.sd"

    /// The checkpoint of `network` after `progress`, trained by `configuration` on `plan.ranks`
    /// ranks summing as `plan` says (recorded for people: `trainer inspect` prints it);
    /// `carried`: every rank's part of a compressed sum's state, in rank order, and the shared part;
    /// `rounds`: with local rounds, every rank's inner optimizer state and the outer momentum.
    public static func encode(_ network: Network<Float>, optimizerState: [(name: String, values: UnsafeMutableBufferPointer<Float>)],
                              configuration: TrainingConfiguration, data: PreparedData, progress: TrainingProgress,
                              plan: ReductionPlan, carried: (perRank: [[Float]], shared: [Float]) = ([], []),
                              rounds: (perRank: [[Float]], velocity: [Float]) = ([], []),
                              standardization: Standardization? = nil) -> SafeTensors {
        var tensors = network.architecture.tensorNames.map { tensor in
            TensorEntry(name: tensor.name, shape: tensor.shape,
                        floats: UnsafeBufferPointer(rebasing: network.parameters[tensor.range]))
        }
        for (name, values) in optimizerState where values.count == network.parameterCount {
            tensors.append(TensorEntry(name: name, shape: [values.count], floats: UnsafeBufferPointer(values)))
        }
        for (rank, part) in carried.perRank.enumerated() where !part.isEmpty {
            tensors.append(part.withUnsafeBufferPointer { TensorEntry(name: residualTensor(rank: rank), shape: [part.count], floats: $0) })
        }
        if !carried.shared.isEmpty {
            tensors.append(carried.shared.withUnsafeBufferPointer {
                TensorEntry(name: sharedCompressionTensor, shape: [carried.shared.count], floats: $0)
            })
        }
        for (rank, part) in rounds.perRank.enumerated() where !part.isEmpty {
            tensors.append(part.withUnsafeBufferPointer { TensorEntry(name: innerStateTensor(rank: rank), shape: [part.count], floats: $0) })
        }
        if !rounds.velocity.isEmpty {
            tensors.append(rounds.velocity.withUnsafeBufferPointer {
                TensorEntry(name: outerVelocityTensor, shape: [rounds.velocity.count], floats: $0)
            })
        }
        if let standardization {
            for (name, values) in [(meanTensor, standardization.means), (deviationTensor, standardization.deviations)] {
                tensors.append(values.withUnsafeBufferPointer { TensorEntry(name: name, shape: [values.count], doubles: $0) })
            }
        }
        var metadata = RunSettings.metadata(configuration, data: data)
        metadata["format"] = format
        metadata["format_version"] = formatVersion
        metadata["world_size"] = String(plan.ranks)
        metadata["reduction_plan"] = plan.description
        metadata["epoch"] = String(progress.epochsCompleted)
        metadata["step_in_epoch"] = String(progress.stepInEpoch)
        metadata["global_step"] = String(progress.globalStep)
        metadata["samples_seen"] = String(progress.samplesSeen)
        // Shortest round-tripping decimal forms: the epoch's partial sums come back exactly.
        metadata["epoch_loss_sum"] = String(progress.epochLossSum)
        metadata["epoch_correct"] = String(progress.epochCorrect)
        metadata["epoch_samples"] = String(progress.epochSamples)
        if let best = progress.bestValidation {
            metadata["best_validation_loss"] = String(best.loss)
            metadata["best_validation_step"] = String(best.globalStep)
        }
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
        /// The optimizer's state buffers present, by tensor name.
        public let optimizerState: [String: [Float]]
        /// A compressed sum's state: each rank's part (rank order) and the shared part.
        public let carried: (perRank: [[Float]], shared: [Float])
        /// Local rounds' state: each rank's inner optimizer state (rank order; none when the
        /// optimizer keeps none) and the outer momentum (empty: none).
        public let rounds: (perRank: [[Float]], velocity: [Float])
        public let progress: TrainingProgress
        public let metadata: [String: String]
        public let data: DataSource?
        /// `--standardize`'s statistics, when the run standardised its features.
        public let standardization: Standardization?
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
        /// A recorded setting, within the limits its flag has.
        func setting(_ key: String) throws -> Int {
            guard case .whole(let range)? = RunSettings.recorded(key)?.limits else { preconditionFailure("\(key): not a whole-number setting") }
            return try integer(key, in: range)
        }
        func real(_ key: String) throws -> Double {
            guard let text = m[key], let value = Double(text), value.isFinite, value >= 0 else {
                throw fail("metadata \(key) is missing or not a finite number ≥ 0")
            }
            return value
        }
        let inputs = try setting("input_count")
        let classes = m["classes"] == "none" ? nil : try setting("classes")
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
        var optimizerState: [String: [Float]] = [:]
        for name in [Optimizer.velocityTensor, Optimizer.firstMomentTensor, Optimizer.secondMomentTensor] {
            guard let entry = file[name] else { continue }
            guard entry.shape == [architecture.parameterCount], let values = entry.floats() else {
                throw fail("tensor \(name) must be F32 of shape [\(architecture.parameterCount)]")
            }
            optimizerState[name] = values
        }
        let carried = try carriedState(file, metadata: m, fail: fail)
        let rounds = try roundState(file, metadata: m, parameterCount: architecture.parameterCount, fail: fail)
        var progress = TrainingProgress()
        progress.epochsCompleted = try integer("epoch", in: 0...Int(Int32.max))
        progress.stepInEpoch = try integer("step_in_epoch", in: 0...Int(Int32.max))
        progress.globalStep = try integer("global_step", in: 0...Int(Int64.max / 2))
        progress.samplesSeen = try integer("samples_seen", in: 0...Int(Int64.max / 2))
        progress.epochLossSum = try real("epoch_loss_sum")
        progress.epochCorrect = try real("epoch_correct")
        progress.epochSamples = try real("epoch_samples")
        if m["best_validation_loss"] != nil || m["best_validation_step"] != nil {
            progress.bestValidation = .init(loss: try real("best_validation_loss"),
                                            globalStep: try integer("best_validation_step", in: 0...Int(Int64.max / 2)))
        }
        // The progress must be a point the run can reach: step k of epoch e is global step
        // e · ⌈n / B⌉ + k (a crafted global step could otherwise drive the schedule anywhere).
        let samples = try setting("train_samples")
        let batch = try setting("batch_size")
        let steps = (samples + batch - 1) / batch
        let (epochSteps, overflow) = progress.epochsCompleted.multipliedReportingOverflow(by: steps)
        guard progress.stepInEpoch < steps, !overflow, epochSteps + progress.stepInEpoch == progress.globalStep else {
            throw fail("metadata progress is inconsistent: epoch \(progress.epochsCompleted), step \(progress.stepInEpoch) of \(steps), global step \(progress.globalStep)")
        }
        let data = m["data"].flatMap { try? DataSource(parsing: $0, flag: "data") }
        return Loaded(model: model, architecture: architecture, classes: classes, parameters: parameters,
                      optimizerState: optimizerState, carried: carried, rounds: rounds, progress: progress, metadata: m, data: data,
                      standardization: try standardization(file, inputs: inputs, standardized: m["standardize"] == "true", fail: fail))
    }

    /// The statistics of a run with `--standardize`: both tensors, F64 vectors of the model's
    /// input count, finite, deviations ≥ 0; none without it.
    static func standardization(_ file: SafeTensors, inputs: Int, standardized: Bool,
                                fail: (String) -> TrainerError) throws -> Standardization? {
        guard standardized else { return nil }
        let vectors = try [meanTensor, deviationTensor].map { name -> [Double] in
            guard let entry = file[name] else { throw fail("tensor \(name) is missing: the run standardised its features") }
            guard entry.shape == [inputs], let values = entry.doubles(), values.allSatisfy(\.isFinite) else {
                throw fail("tensor \(name) must be F64 of shape [\(inputs)], finite")
            }
            return values
        }
        guard vectors[1].allSatisfy({ $0 >= 0 }) else { throw fail("tensor \(deviationTensor) holds a negative standard deviation") }
        return Standardization(means: vectors[0], deviations: vectors[1])
    }

    /// A compressed run's state: with `grad_compression` other than none, one F32 vector per rank
    /// of `world_size`, all of one length, and at most one shared vector.
    static func carriedState(_ file: SafeTensors, metadata m: [String: String],
                             fail: (String) -> TrainerError) throws -> (perRank: [[Float]], shared: [Float]) {
        let compression = RunSettings.recorded("grad_compression")?.recorded(in: m) ?? "none"
        guard compression != "none" else { return ([], []) }
        let world = try worldSize(m, fail: fail)
        var perRank: [[Float]] = []
        for rank in 0..<world {
            guard let part = try floatVector(file, residualTensor(rank: rank), fail: fail) else {
                throw fail("tensor \(residualTensor(rank: rank)) is missing: --grad-compression \(compression) keeps state for each of \(world) ranks")
            }
            guard part.count == perRank.first?.count ?? part.count else {
                throw fail("tensor \(residualTensor(rank: rank)) has \(part.count) values, rank 0's \(perRank[0].count)")
            }
            perRank.append(part)
        }
        return (perRank, try floatVector(file, sharedCompressionTensor, fail: fail) ?? [])
    }

    /// Local rounds' state: with `sync_every` > 1, each rank of `world_size`'s inner optimizer
    /// state (all present, of one length, a multiple of the parameter count, or none) and the
    /// outer momentum (the parameter count, or none).
    static func roundState(_ file: SafeTensors, metadata m: [String: String], parameterCount: Int,
                           fail: (String) -> TrainerError) throws -> (perRank: [[Float]], velocity: [Float]) {
        guard let every = RunSettings.recorded("sync_every")?.recorded(in: m), every != "1" else { return ([], []) }
        let world = try worldSize(m, fail: fail)
        var perRank: [[Float]] = []
        if file[innerStateTensor(rank: 0)] != nil {
            for rank in 0..<world {
                let name = innerStateTensor(rank: rank)
                guard let part = try floatVector(file, name, fail: fail) else {
                    throw fail("tensor \(name) is missing: --sync-every \(every) keeps the optimizer's state of each of \(world) ranks")
                }
                guard part.count % parameterCount == 0, part.count == perRank.first?.count ?? part.count else {
                    throw fail("tensor \(name) has \(part.count) values, not rank 0's count, a multiple of the \(parameterCount) parameters")
                }
                perRank.append(part)
            }
        }
        let velocity = try floatVector(file, outerVelocityTensor, fail: fail) ?? []
        guard velocity.isEmpty || velocity.count == parameterCount else {
            throw fail("tensor \(outerVelocityTensor) has \(velocity.count) values, the model \(parameterCount)")
        }
        return (perRank, velocity)
    }

    /// The recorded world size, 1 to 2²⁰.
    static func worldSize(_ m: [String: String], fail: (String) -> TrainerError) throws -> Int {
        guard let text = m["world_size"], let world = Int(text), (1...(1 << 20)).contains(world) else {
            throw fail("metadata world_size is missing or not a whole number from 1 to \(1 << 20)")
        }
        return world
    }

    /// Tensor `name` as a vector of F32; nil when absent.
    static func floatVector(_ file: SafeTensors, _ name: String, fail: (String) -> TrainerError) throws -> [Float]? {
        guard let entry = file[name] else { return nil }
        guard entry.shape.count == 1, let values = entry.floats() else { throw fail("tensor \(name) must be a vector of F32") }
        return values
    }
}

extension ModelCheckpoint.Loaded {
    /// Throws `.usage` naming each flag whose value differs between the checkpoint and this run
    /// of `worldSize` ranks (which must be the checkpoint's when the sum is compressed: each
    /// rank resumes its own state).
    public func checkResumable(by configuration: TrainingConfiguration, data: PreparedData, source: String,
                               worldSize: Int) throws {
        let differences = RunSettings.resumeMustMatch.compactMap { setting -> String? in
            if setting.comparedOnlyIfRecorded, setting.key.flatMap({ metadata[$0] }) == nil { return nil }
            let saved = setting.recorded(in: metadata) ?? "missing"
            let current = setting.value(of: configuration, data: data)
            return saved == current ? nil : "\(setting.name) is \(saved) in the checkpoint but \(current) now"
        }
        guard differences.isEmpty else {
            throw TrainerError(.usage, subject: "--resume \(source)",
                               differences.joined(separator: "; ") + " (only \(RunSettings.listed(RunSettings.resumeMayChange)) may change on resume)")
        }
        if configuration.gradCompression != .none, carried.perRank.count != worldSize {
            throw TrainerError(.usage, subject: "--resume \(source)",
                               "--grad-compression \(configuration.gradCompression) keeps each rank's residuals: the checkpoint was written by \(carried.perRank.count) ranks but this run has \(worldSize) (resume with \(carried.perRank.count), or start afresh)")
        }
        if configuration.syncEvery > 1, !rounds.perRank.isEmpty, rounds.perRank.count != worldSize {
            throw TrainerError(.usage, subject: "--resume \(source)",
                               "--sync-every \(configuration.syncEvery) keeps each rank's \(configuration.optimizer) state: the checkpoint was written by \(rounds.perRank.count) ranks but this run has \(worldSize) (resume with \(rounds.perRank.count), or start afresh)")
        }
    }
}
