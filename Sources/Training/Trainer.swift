import Batching
import Checkpoint
import Communication
import Data
import Foundation
import KernelCore
import Logging
import Models
import Support

/// What a finished (or stopped) run reports.
public struct TrainingSummary: Sendable {
    public let epochs: [EpochRecord]
    public let parameterCount: Int
    /// Where the run ended.
    public let progress: TrainingProgress
    /// True when a stop request (SIGINT/SIGTERM) ended it before its last epoch.
    public let stopped: Bool
    public var final: EpochRecord? { epochs.last }
    public var steps: Int { progress.globalStep }
}

/// Synchronous data-parallel SGD. Every rank runs this same loop; per step:
///
/// 1. take the step's global batch from the epoch permutation, and this rank's slice of it;
/// 2. forward and backward: the SUM of this rank's per-sample gradients, its loss sum, its
///    correct count, its sample count and its stop request, in one buffer
///    [gradients | loss | correct | count | stop];
/// 3. one allreduce(SUM) of that buffer — the exact global sums, and a stop every rank sees;
/// 4. divide by the global count, add the regulariser's gradient, and take the SGD step.
///
/// With one rank this is exactly single-process mini-batch SGD; with W ranks, the same
/// arithmetic up to the order of floating-point additions. Its whole state is the parameters,
/// the momentum buffer and a `TrainingProgress`, so a checkpoint resumes it bit for bit.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let communicator: Communicator
    public let data: PreparedData
    public let network: Network<Float>
    let optimizer: StochasticGradientDescent
    let plan: BatchPlan
    let batch: BatchBuffer<Float>
    let regularization: Regularization
    let logger: Logger
    let metrics: MetricsLog?
    let checkpoints: CheckpointDirectory?
    /// The sample order 0, 1, … n−1 of the test set (evaluation is not shuffled).
    let testOrder: [Int32]
    /// Asked once per step: does this process want to stop (e.g. it received SIGTERM)?
    let stopRequested: @Sendable () -> Bool
    /// Where training starts: zero, or the progress of the checkpoint resumed.
    public let start: TrainingProgress

    /// This epoch's time per phase of the step (rank-local).
    var phases = PhaseTimes()
    /// Rank 0: the newest checkpoint this run wrote.
    var lastCheckpoint: String?
    /// Called after every step with where training stands (set it on rank 0, e.g. for a progress bar).
    public var stepObserver: ((StepReport) -> Void)?

    /// Slots after the gradients in the arena: loss sum, correct count, sample count, stop.
    static let statisticsSlots = 4

    /// Sets the run up on every rank. Collective: all ranks first agree that their setup (data,
    /// model, rank 0's checkpoint to resume and output files) succeeded, then that they run the
    /// same configuration on the same data; then rank 0's parameters — initial, or the
    /// checkpoint's — reach every rank. Any failure stops all ranks.
    /// `data`: already loaded (threads of one process share one copy); nil loads it here.
    public init(_ configuration: TrainingConfiguration, communicator: Communicator, logger: Logger,
                stopRequested: @escaping @Sendable () -> Bool = { false }, data loaded: PreparedData? = nil) throws {
        self.configuration = configuration
        self.communicator = communicator
        self.logger = logger
        self.stopRequested = stopRequested
        var prepared: PreparedData?, metrics: MetricsLog?, checkpoints: CheckpointDirectory?
        var resumed: SafeTensors?, failure: Error?
        do {
            let data = try loaded ?? PreparedData(configuration)
            prepared = data
            if communicator.isRoot {
                if let resume = configuration.resume,
                   let path = try CheckpointDirectory.resolveResume(resume, checkpointDirectory: configuration.checkpointDirectory) {
                    let file = try SafeTensors(contentsOf: path)
                    try ModelCheckpoint.decode(file, source: path).checkResumable(by: configuration, data: data, source: path)
                    resumed = file
                }
                checkpoints = try configuration.checkpointDirectory.map { try CheckpointDirectory(path: $0) }
                metrics = try configuration.metricsPath.map { try MetricsLog(path: $0, append: resumed != nil) }
            }
        } catch {
            failure = error
        }
        try RankAgreement.agreeOnSetup(failure, communicator: communicator)
        guard let data = prepared else { throw TrainerError(.environment, subject: "setup", "no data after a successful setup") }
        try RankAgreement.verify(RankAgreement.fingerprint(configuration, data: data, communicator: communicator), communicator: communicator)
        self.data = data
        self.metrics = metrics
        self.checkpoints = checkpoints
        plan = BatchPlan(sampleCount: data.train.count, batchSize: configuration.batchSize)
        // The largest rank slice of any global batch: ⌈B / W⌉ rows (evaluation reuses the buffers).
        let capacity = (min(configuration.batchSize, data.train.count) + communicator.worldSize - 1) / communicator.worldSize
        network = Network(data.architecture, batchCapacity: capacity, extraGradientSlots: Trainer.statisticsSlots,
                          gradientArena: communicator.reductionBuffer(count: data.architecture.parameterCount + Trainer.statisticsSlots))
        optimizer = StochasticGradientDescent(parameterCount: network.parameterCount, momentum: configuration.momentum)
        batch = BatchBuffer(capacity: network.batchCapacity, featureCount: data.train.featureCount)
        regularization = Regularization(l1: configuration.regularization.l1, l2: configuration.regularization.l2)
        testOrder = Evaluation.identityOrder(data.test?.count ?? 0)
        // Whether rank 0 found a checkpoint to resume (with `--resume auto` there may be none).
        var resuming = [UInt8(resumed == nil ? 0 : 1)]
        resuming.withUnsafeMutableBytes { communicator.broadcast($0, root: 0) }
        if resuming[0] == 1 {
            let file = try ModelCheckpoint.broadcast(resumed, from: communicator)
            start = try ModelCheckpoint.restore(file, into: network, velocity: optimizer.velocity)
        } else {
            Initialization.initialize(network, seed: configuration.seed)
            communicator.broadcast(UnsafeMutableRawBufferPointer(network.parameters), root: 0)
            start = TrainingProgress()
        }
    }

    /// The checkpoint of the model as it is now, at `progress`.
    public func checkpoint(_ progress: TrainingProgress) -> SafeTensors {
        ModelCheckpoint.encode(network, velocity: optimizer.velocity, configuration: configuration,
                               data: data, progress: progress, worldSize: communicator.worldSize)
    }
}
