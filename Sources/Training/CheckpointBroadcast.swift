import Batching
import Checkpoint
import Communication
import KernelCore
import Models
import Support

/// How every rank reaches the same starting point, with no shared filesystem: rank 0's
/// checkpoint as bytes to every rank, or rank 0's initial parameters.
enum CheckpointBroadcast {
    /// Fills `network` (and the optimizer's state buffers, and a compressed sum's `carried`
    /// state) from the checkpoint rank 0 resumes, if any, else from the initialisation of `seed`,
    /// on every rank; returns the progress to start from and the checkpoint's standardisation
    /// (nil when starting afresh). Collective.
    static func startingPoint(_ resumed: SafeTensors?, network: Network<Float>,
                              optimizerState: [(name: String, values: UnsafeMutableBufferPointer<Float>)],
                              carried: CarriedState, rounds: LocalRounds? = nil, seed: UInt64,
                              communicator: Communicator) throws -> (progress: TrainingProgress, standardization: Standardization?) {
        // Whether rank 0 found a checkpoint to resume (with `--resume auto` there may be none).
        var resuming = [UInt8(resumed == nil ? 0 : 1)]
        resuming.withUnsafeMutableBytes { communicator.broadcast($0, root: 0) }
        guard resuming[0] == 1 else {
            Initialization.initialize(network, seed: seed)
            communicator.broadcast(UnsafeMutableRawBufferPointer(network.parameters), root: 0)
            return (TrainingProgress(), nil)
        }
        return try restore(broadcast(resumed, from: communicator), into: network, optimizerState: optimizerState, carried: carried,
                           rounds: rounds, rank: communicator.rank)
    }

    /// Rank 0's checkpoint, as bytes, to every rank; every rank decodes the same bytes.
    static func broadcast(_ file: SafeTensors?, from communicator: Communicator) throws -> SafeTensors {
        var bytes = communicator.isRoot ? (file?.encoded() ?? []) : []
        var length = [UInt64(bytes.count)]
        length.withUnsafeMutableBytes { communicator.broadcast($0, root: 0) }
        if !communicator.isRoot { bytes = [UInt8](repeating: 0, count: Int(length[0])) }
        bytes.withUnsafeMutableBytes { communicator.broadcast($0, root: 0) }
        return try SafeTensors(decoding: bytes, source: "the checkpoint broadcast by rank 0")
    }

    /// Puts a checkpoint's parameters into a network and its optimizer state into
    /// `optimizerState` (zero where it has none: a run without momentum), rank `rank`'s part and
    /// the shared part of its compression state into `carried`; with local rounds, rank `rank`'s
    /// own optimizer state and the outer momentum; returns its progress and standardisation.
    static func restore(_ file: SafeTensors, into network: Network<Float>,
                        optimizerState: [(name: String, values: UnsafeMutableBufferPointer<Float>)],
                        carried: CarriedState, rounds: LocalRounds? = nil, rank: Int) throws -> (progress: TrainingProgress, standardization: Standardization?) {
        let loaded = try ModelCheckpoint.decode(file, source: "the checkpoint broadcast by rank 0")
        guard loaded.parameters.count == network.parameterCount else {
            throw TrainerError(.data, subject: "checkpoint", "has \(loaded.parameters.count) parameters, the model \(network.parameterCount)")
        }
        _ = network.parameters.update(fromContentsOf: loaded.parameters)
        for (name, values) in optimizerState {
            if let saved = loaded.optimizerState[name] { _ = values.update(fromContentsOf: saved) } else { values.update(repeating: 0) }
        }
        if !carried.isEmpty {
            // The resume check made the world size and the compression the checkpoint's.
            guard rank < loaded.carried.perRank.count, loaded.carried.perRank[rank].count == carried.perRank.count,
                  loaded.carried.shared.count == carried.shared.count else {
                throw TrainerError(.data, subject: "checkpoint", "its compression state does not fit this run's model and --grad-compression")
            }
            _ = carried.perRank.update(fromContentsOf: loaded.carried.perRank[rank])
            _ = carried.shared.update(fromContentsOf: loaded.carried.shared)
        }
        if let rounds {
            // The resume check made the world size the checkpoint's when ranks keep their own state.
            if !loaded.rounds.perRank.isEmpty {
                guard rank < loaded.rounds.perRank.count,
                      case let own = loaded.rounds.perRank[rank], own.count == optimizerState.count * network.parameterCount else {
                    throw TrainerError(.data, subject: "checkpoint", "its ranks' optimizer state does not fit this run's model and --optimizer")
                }
                for (index, (_, values)) in optimizerState.enumerated() {
                    _ = values.update(fromContentsOf: own[(index * values.count)..<((index + 1) * values.count)])
                }
            }
            if loaded.rounds.velocity.isEmpty { rounds.velocity.update(repeating: 0) } else {
                _ = rounds.velocity.update(fromContentsOf: loaded.rounds.velocity)
            }
        }
        return (loaded.progress, loaded.standardization)
    }
}
