import Batching
import Checkpoint
import Communication
import Data
import Foundation
import KernelCore
import Logging
import Models
import Support

/// What a finished run reports (the last epoch's record and totals).
public struct TrainingSummary: Sendable {
    public let epochs: [EpochRecord]
    public let parameterCount: Int
    public let steps: Int
    public var final: EpochRecord? { epochs.last }
}

/// Synchronous data-parallel SGD. Every rank runs this same loop; per step:
///
/// 1. take the step's global batch from the epoch permutation, and this rank's slice of it;
/// 2. forward and backward: the SUM of this rank's per-sample gradients, its loss sum, its
///    correct count and its sample count, in one buffer [gradients | loss | correct | count];
/// 3. one allreduce(SUM) of that buffer — the exact global sums;
/// 4. divide by the global count, add the regulariser's gradient, and take the SGD step.
///
/// With one rank this is exactly single-process mini-batch SGD; with W ranks, the same
/// arithmetic up to the order of floating-point additions.
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

    /// This epoch's time per phase of the step (rank-local).
    var phases = PhaseTimes()

    /// Slots after the gradients in the arena: loss sum, correct count, sample count.
    static let statisticsSlots = 3

    /// Sets the run up on every rank. Collective: all ranks first agree that their setup (data,
    /// model, rank 0's output files) succeeded, then that they run the same configuration on the
    /// same data; then rank 0's initial parameters are broadcast. Any failure stops all ranks.
    public init(_ configuration: TrainingConfiguration, communicator: Communicator, logger: Logger) throws {
        self.configuration = configuration
        self.communicator = communicator
        self.logger = logger
        var prepared: PreparedData?, metrics: MetricsLog?, checkpoints: CheckpointDirectory?, failure: Error?
        do {
            prepared = try PreparedData(configuration)
            if communicator.isRoot {
                metrics = try configuration.metricsPath.map { try MetricsLog(path: $0) }
                checkpoints = try configuration.checkpointDirectory.map { try CheckpointDirectory(path: $0) }
            }
        } catch {
            failure = error
        }
        try RankAgreement.agreeOnSetup(failure, communicator: communicator)
        guard let data = prepared else { throw TrainerError(.environment, subject: "setup", "no data after a successful setup") }
        try RankAgreement.verify(RankAgreement.fingerprint(configuration, data: data), communicator: communicator)
        self.data = data
        self.metrics = metrics
        self.checkpoints = checkpoints
        plan = BatchPlan(sampleCount: data.train.count, batchSize: configuration.batchSize)
        // The largest rank slice of any global batch: ⌈B / W⌉ rows (evaluation reuses the buffers).
        let capacity = (min(configuration.batchSize, data.train.count) + communicator.worldSize - 1) / communicator.worldSize
        network = Network(data.architecture, batchCapacity: capacity, extraGradientSlots: Trainer.statisticsSlots)
        Initialization.initialize(network, seed: configuration.seed)
        communicator.broadcast(UnsafeMutableRawBufferPointer(network.parameters), root: 0)
        optimizer = StochasticGradientDescent(parameterCount: network.parameterCount, momentum: configuration.momentum)
        batch = BatchBuffer(capacity: network.batchCapacity, featureCount: data.train.featureCount)
        regularization = Regularization(l1: configuration.regularization.l1, l2: configuration.regularization.l2)
        testOrder = Evaluation.identityOrder(data.test?.count ?? 0)
    }

    /// Trains `configuration.epochs` epochs; rank 0 logs a line per epoch and writes the metrics.
    public func run() throws -> TrainingSummary {
        var records: [EpochRecord] = []
        var globalStep = 0
        if communicator.isRoot {
            logger.info("\(configuration.model) on \(data.train.name): \(data.train.count) samples, \(network.parameterCount) parameters, \(plan.stepsPerEpoch) steps of \(configuration.batchSize) per epoch, \(communicator.worldSize) rank(s)")
        }
        for epoch in 0..<configuration.epochs {
            let permutation = epochPermutation(count: data.train.count, seed: configuration.seed, epoch: epoch)
            let started = Date()
            phases = PhaseTimes()
            var lossSum = 0.0, correct = 0.0, seen = 0.0
            var rate = configuration.learningRate
            for step in 0..<plan.stepsPerEpoch {
                rate = configuration.schedule.rate(base: configuration.learningRate, globalStep: globalStep,
                                                   stepsPerEpoch: plan.stepsPerEpoch)
                let stats = try trainStep(permutation[plan.slice(step: step, rank: communicator.rank, worldSize: communicator.worldSize)],
                                          rate: rate, globalStep: globalStep)
                lossSum += stats.lossSum; correct += stats.correct; seen += stats.count
                globalStep += 1
                if configuration.logEvery > 0, globalStep % configuration.logEvery == 0 {
                    try metrics?.write(StepRecord(step: globalStep, epoch: epoch + 1, loss: stats.lossSum / max(stats.count, 1), lr: rate))
                }
            }
            let seconds = Date().timeIntervalSince(started)
            let test = data.test.map { evaluate($0, order: testOrder) }
            let classifies = configuration.model.loss.isClassification
            let record = EpochRecord(epoch: epoch + 1, trainLoss: lossSum / max(seen, 1),
                                     trainAccuracy: classifies ? correct / max(seen, 1) : nil,
                                     testLoss: test?.loss, testAccuracy: test?.accuracy, lr: rate, seconds: seconds,
                                     phases: configuration.profile ? phases : nil)
            records.append(record)
            try metrics?.write(record)
            if let checkpoints {
                let progress = TrainingProgress(epoch: epoch + 1, stepInEpoch: 0, globalStep: globalStep,
                                                samplesSeen: (epoch + 1) * data.train.count)
                try checkpoints.save(checkpoint(progress), globalStep: globalStep)
            }
            if communicator.isRoot { logger.info("\(Trainer.progressLine(record, of: configuration.epochs))") }
        }
        return TrainingSummary(epochs: records, parameterCount: network.parameterCount, steps: globalStep)
    }

    /// The checkpoint of the model as it is now.
    public func checkpoint(_ progress: TrainingProgress) -> SafeTensors {
        ModelCheckpoint.encode(network, velocity: optimizer.velocity, configuration: configuration,
                               classes: data.classes, progress: progress, worldSize: communicator.worldSize)
    }

    /// One synchronous SGD step on this rank's `samples` (positions in the permutation) and
    /// everyone else's; returns the global loss sum, correct count and sample count.
    func trainStep(_ samples: ArraySlice<Int32>, rate: Double, globalStep: Int) throws -> (lossSum: Double, correct: Double, count: Double) {
        let t0 = monotonicSeconds()
        batch.gather(from: data.train, indices: samples)
        let rows = samples.count
        let features = UnsafePointer(batch.features.baseAddress!), labels = UnsafePointer(batch.labels.baseAddress!)
        let t1 = monotonicSeconds()
        network.forward(features, rows: rows)
        let t2 = monotonicSeconds()
        let lossSum = network.backward(features, labels: labels, rows: rows)
        let loss = network.architecture.loss
        let correct = rows == 0 ? 0 : loss.correctCount(scores: network.scores, labels: labels, rows: rows,
                                                          outputs: network.architecture.outputCount)
        let arena = network.gradientArena, tail = network.parameterCount
        arena[tail] = lossSum
        arena[tail + 1] = Float(correct)
        arena[tail + 2] = Float(rows)
        let t3 = monotonicSeconds()
        communicator.allreduceSum(arena)
        let t4 = monotonicSeconds()
        let stats = (lossSum: Double(arena[tail]), correct: Double(arena[tail + 1]), count: Double(arena[tail + 2]))
        network.finishGradient(sampleCount: arena[tail + 2], regularization: regularization)
        optimizer.update(network.parameters, gradients: network.gradients, rate: rate)
        let t5 = monotonicSeconds()
        phases.gather += t1 - t0; phases.forward += t2 - t1; phases.backward += t3 - t2
        phases.allreduce += t4 - t3; phases.update += t5 - t4
        return stats
    }

    /// Mean loss and accuracy over `dataset`, each rank taking a contiguous share of it.
    public func evaluate(_ dataset: Dataset, order: [Int32]) -> (loss: Double, accuracy: Double?) {
        let rank = communicator.rank, world = communicator.worldSize
        let share = (dataset.count * rank / world)..<(dataset.count * (rank + 1) / world)
        let sums = Evaluation.sums(network, on: dataset, order: order, range: share, batch: batch)
        var totals = [sums.lossSum, sums.correct, sums.count]
        totals.withUnsafeMutableBufferPointer { communicator.allreduceSum($0) }
        let count = max(totals[2], 1)
        return (totals[0] / count, configuration.model.loss.isClassification ? totals[1] / count : nil)
    }

    /// "epoch 3/10  train_loss 0.4123  test_loss 0.4410  test_accuracy 84.31%  lr 0.1  2.10 s"
    static func progressLine(_ r: EpochRecord, of epochs: Int) -> String {
        var parts = ["epoch \(r.epoch)/\(epochs)", "train_loss \(format(r.trainLoss, 4))"]
        if let a = r.trainAccuracy { parts.append("train_accuracy \(format(100 * a, 2))%") }
        if let l = r.testLoss { parts.append("test_loss \(format(l, 4))") }
        if let a = r.testAccuracy { parts.append("test_accuracy \(format(100 * a, 2))%") }
        parts.append("lr \(r.lr)")
        parts.append("\(format(r.seconds, 2)) s")
        if let p = r.phases {
            let shares = [("gather", p.gather), ("forward", p.forward), ("backward", p.backward),
                          ("allreduce", p.allreduce), ("update", p.update)]
            parts.append("[" + shares.map { "\($0.0) \(format($0.1, 3)) s" }.joined(separator: ", ") + "]")
        }
        return parts.joined(separator: "  ")
    }

    static func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}
