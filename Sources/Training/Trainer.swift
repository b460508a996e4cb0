import Batching
import Checkpoint
import Communication
import Data
import Foundation
import KernelCore
import Logging
import Models
import Support

/// What a finished (or stopped) run reports: its epoch records.
public struct TrainingSummary: Sendable {
    public let epochs: [EpochRecord]
    public var final: EpochRecord? { epochs.last }
}

/// Synchronous data-parallel training. Every rank runs this same loop (`run`); per step
/// (`TrainingStep.run`):
///
/// 1. take the step's global batch from the epoch permutation, and this rank's slice of it;
/// 2. forward and backward over the slice (in pieces of `--micro-batch` rows, if set): the SUM
///    of this rank's per-sample gradients, its loss sum, its correct count, its sample count and
///    its stop request, in one buffer [gradients | loss | correct | count | stop] (`StepStatistics`);
/// 3. one sum over all ranks of that buffer, as the run's `ReductionPlan` says — exact, or
///    compressed with error feedback — and a stop every rank sees;
/// 4. divide by the global count, add the regulariser's gradient, and take the optimizer's step
///    (SGD, momentum, Adam, AdamW): each rank on its own copy, or with the sharded update each on
///    its chunk of one shared copy.
///
/// With one rank this is single-process mini-batch training; with W ranks, the same arithmetic
/// up to the order of floating-point additions, which is the tree's (`ReductionTree`) for W
/// threads and W ranks anywhere alike. Its whole state is the parameters, the optimizer's
/// state, a compressed sum's carried state and a `TrainingProgress`, so a checkpoint resumes it
/// bit for bit.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let communicator: Communicator
    public let data: PreparedData
    let step: TrainingStep
    let plan: BatchPlan
    let logger: Logger
    /// Rank 0's outputs (nil on other ranks, and when not asked for).
    let metrics: MetricsLog?
    let tensorboard: TensorBoardWriter?
    let checkpoints: CheckpointWriter?
    /// The sample order 0, 1, … n−1 of the test set (evaluation is not shuffled).
    let testOrder: [Int32]
    /// The same for the validation set.
    let validationOrder: [Int32]
    /// Asked once per step: does this process want to stop (e.g. it received SIGTERM)?
    let stopRequested: @Sendable () -> Bool
    /// Where training starts: zero, or the progress of the checkpoint resumed.
    public let start: TrainingProgress
    /// Called after every step with where training stands (set it on rank 0, e.g. for a progress bar).
    public var stepObserver: ((StepReport) -> Void)?
    /// Bounds every wait for the other ranks (MPI ranks; nil in local mode).
    let watchdog: Watchdog?

    public var network: Network<Float> { step.network }

    /// Sets the run up on every rank. Collective: all ranks first agree that their setup (data,
    /// model, rank 0's checkpoint to resume and output files) succeeded, then that they run the
    /// same configuration on the same data; then rank 0's parameters — initial, or the
    /// checkpoint's — reach every rank. Any failure stops all ranks.
    /// `data`: already loaded (threads of one process share one copy); nil loads it here.
    /// `watchdog`: bounds each wait for the other ranks, from the start-up agreement on.
    public init(_ configuration: TrainingConfiguration, communicator: Communicator, logger: Logger,
                stopRequested: @escaping @Sendable () -> Bool = { false }, data loaded: PreparedData? = nil,
                watchdog: Watchdog? = nil) throws {
        self.configuration = configuration
        self.communicator = communicator
        self.logger = logger
        self.stopRequested = stopRequested
        self.watchdog = watchdog
        var prepared: Result<PreparedData, Error>
        var metrics: MetricsLog?, tensorboard: TensorBoardWriter?, checkpoints: CheckpointWriter?, resumed: SafeTensors?
        do {
            let data = try loaded ?? PreparedData(configuration)
            prepared = .success(data)
            if communicator.isRoot {
                if let resume = configuration.resume,
                   let path = try CheckpointDirectory.resolveResume(resume, checkpointDirectory: configuration.checkpointDirectory) {
                    let file = try SafeTensors(contentsOf: path)
                    try ModelCheckpoint.decode(file, source: path).checkResumable(by: configuration, data: data, source: path,
                                                                                      worldSize: communicator.worldSize)
                    resumed = file
                }
                checkpoints = try configuration.checkpointDirectory.map {
                    CheckpointWriter(directory: try CheckpointDirectory(path: $0), keep: configuration.keepCheckpoints)
                }
                metrics = try configuration.metricsPath.map { try MetricsLog(path: $0, append: resumed != nil) }
                tensorboard = try configuration.tensorboardDirectory.map { try TensorBoardWriter(directory: $0) }
            }
        } catch {
            prepared = .failure(error)
        }
        try watchdog.waiting(.setup) {
            try RankAgreement.agreeOnSetup(prepared, communicator: communicator)
            try RankAgreement.verify(configuration, data: try prepared.get(), communicator: communicator)
        }
        let data = try prepared.get()
        self.data = data
        self.metrics = metrics
        self.tensorboard = tensorboard
        self.checkpoints = checkpoints
        plan = BatchPlan(sampleCount: data.train.count, batchSize: configuration.batchSize)
        // The largest rank slice of any global batch, ⌈B / W⌉ rows, or --micro-batch if smaller
        // (evaluation reuses the buffers).
        let slice = (min(configuration.batchSize, data.train.count) + communicator.worldSize - 1) / communicator.worldSize
        let capacity = configuration.microBatch > 0 ? min(slice, configuration.microBatch) : slice
        step = TrainingStep(data.architecture, capacity: capacity, featureCount: data.train.featureCount,
                            configuration: configuration, communicator: communicator)
        testOrder = Evaluation.identityOrder(data.test?.count ?? 0)
        validationOrder = Evaluation.identityOrder(data.validation?.count ?? 0)
        let step = self.step
        let (start, saved) = try watchdog.waiting(.startingPoint) {
            try CheckpointBroadcast.startingPoint(resumed, network: step.network, optimizerState: step.optimizer.state,
                                                  carried: step.reduction.carried, rounds: step.rounds, seed: configuration.seed,
                                                  communicator: communicator)
        }
        self.start = start
        step.rounds?.begin(at: step.network.parameters)
        // --standardize: the statistics the run has used since its start, or those of its data now.
        if configuration.standardize {
            let standardization = try saved ?? watchdog.waiting(.setup) { Standardization.of(data.train, communicator: communicator) }
            step.batch.standardization = standardization
            if communicator.isRoot, saved == nil, let first = standardization.constantFeatures.first {
                let others = standardization.constantFeatures.count - 1
                logger.info("--standardize: feature \(first)\(others > 0 ? " and \(others) other(s)" : "") constant in the training split: centred, not scaled")
            }
        }
    }

    /// The checkpoint of the model as it is now, at `progress`; `carried`: every rank's state of
    /// a compressed sum (`gatherCarriedState`).
    /// `rounds`: every rank's inner optimizer state with local rounds (`gatherInnerState`).
    public func checkpoint(_ progress: TrainingProgress, carried: (perRank: [[Float]], shared: [Float]) = ([], []),
                           rounds: [[Float]] = []) -> SafeTensors {
        let velocity = step.rounds.map { configuration.outerMomentum > 0 ? Array($0.velocity) : [] } ?? []
        return ModelCheckpoint.encode(network, optimizerState: step.optimizer.state, configuration: configuration,
                                      data: data, progress: progress, plan: step.plan, carried: carried,
                                      rounds: (rounds, velocity), standardization: step.batch.standardization)
    }

    /// Rank 0 writes the checkpoint of `progress` (when it writes checkpoints). With a compressed
    /// sum every rank calls it — each rank's state reaches rank 0 first (`RunSettings` makes
    /// the ranks agree on when that is).
    /// `best`: point `best` at it too (`--keep-best`).
    func saveCheckpoint(_ progress: TrainingProgress, best: Bool = false) throws {
        let (carried, rounds) = watchdog.waiting(.checkpointState, step: progress.globalStep) { (gatherCarriedState(), gatherInnerState()) }
        try checkpoints?.save(checkpoint(progress, carried: carried, rounds: rounds), globalStep: progress.globalStep, best: best)
    }

    /// With local rounds, every rank's inner optimizer state (its buffers one after the other),
    /// in rank order — on rank 0; elsewhere, or without such state, nothing. Collective when
    /// there is such state and a checkpoint to write.
    func gatherInnerState() -> [[Float]] {
        guard step.rounds != nil, !step.optimizer.state.isEmpty, configuration.checkpointDirectory != nil else { return [] }
        return gatherFromEveryRank(step.optimizer.state.flatMap { Array($0.values) })
    }

    /// `part` of every rank, in rank order, on rank 0 (elsewhere empty). Collective; every rank's
    /// part has the same length.
    func gatherFromEveryRank(_ part: [Float]) -> [[Float]] {
        var parts: [[Float]] = []
        for rank in 0..<communicator.worldSize {
            var values = rank == communicator.rank ? part : [Float](repeating: 0, count: part.count)
            values.withUnsafeMutableBytes { communicator.broadcast($0, root: rank) }
            if communicator.isRoot { parts.append(values) }
        }
        return parts
    }

    /// Every rank's part of the compressed sum's state, in rank order, and the shared part — on
    /// rank 0; elsewhere nothing. Collective when there is such state and a checkpoint to write.
    func gatherCarriedState() -> (perRank: [[Float]], shared: [Float]) {
        let state = step.reduction.carried
        guard !state.isEmpty, configuration.checkpointDirectory != nil else { return ([], []) }
        let perRank = gatherFromEveryRank(Array(state.perRank))
        return communicator.isRoot ? (perRank, Array(state.shared)) : ([], [])
    }
}
