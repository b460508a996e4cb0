import Batching
import Data
import Foundation
import KernelCore
import Support

extension Trainer {
    /// Trains from `start` to the end of epoch `configuration.epochs`, or until a stop request.
    /// Rank 0 logs a line per epoch, writes the metrics, and writes a checkpoint every
    /// `checkpointEvery` steps, at every epoch end and when stopped.
    public func run() throws -> TrainingSummary {
        var records: [EpochRecord] = []
        var progress = start
        var lastRoundEnd = start.globalStep  // the global step of the last sum over the ranks
        let (rank, world) = (communicator.rank, communicator.worldSize)
        if communicator.isRoot {
            let from = progress.globalStep > 0 ? ", resuming at epoch \(progress.epochsCompleted + 1) step \(progress.stepInEpoch + 1)" : ""
            logger.info("\(configuration.model) on \(data.train.name): \(data.train.count) samples, \(network.parameterCount) parameters, \(plan.stepsPerEpoch) steps of \(configuration.batchSize) per epoch, OpenBLAS \(BLASKernels.name) kernels, \(communicator.summary), \(step.plan)\(configuration.roundsSummary)\(from)")
        }
        while progress.epochsCompleted < configuration.epochs {
            let epoch = progress.epochsCompleted + 1
            let order = configuration.shuffle.order(count: data.train.count, seed: configuration.seed, epoch: progress.epochsCompleted)
            let permutation = order.samples
            var readAhead: Int? = nil  // the start of the window read ahead last
            let started = Date(), samplesBefore = progress.samplesSeen
            step.resetPhases()
            var rate = configuration.learningRate
            while progress.stepInEpoch < plan.stepsPerEpoch {
                let index = progress.stepInEpoch
                rate = configuration.schedule.rate(base: configuration.learningRate, globalStep: progress.globalStep,
                                                   stepsPerEpoch: plan.stepsPerEpoch,
                                                   totalSteps: configuration.epochs * plan.stepsPerEpoch, warmup: configuration.warmup)
                let next = index + 1 < plan.stepsPerEpoch ? permutation[plan.slice(step: index + 1, rank: rank, worldSize: world)] : []
                // Blocks: entering a window, ask for the next one's rows to be read (data larger than memory).
                if let window = order.window(after: index * configuration.batchSize), window.start != readAhead {
                    data.train.readAhead(window.blocks)
                    readAhead = window.start
                }
                // --sync-every H: rounds of H steps from the epoch's start, the last one possibly shorter.
                let endsRound = (index + 1) % configuration.syncEvery == 0 || index + 1 == plan.stepsPerEpoch
                let stats = step.run(permutation[plan.slice(step: index, rank: rank, worldSize: world)], of: data.train,
                                     prefetching: next, rate: rate, stopRequested: stopRequested(),
                                     globalStep: progress.globalStep + 1, endsRound: endsRound, watchdog: watchdog)
                if stats.diverged { throw divergence(at: progress, loss: stats.meanLoss) }
                progress.record(stats)
                stepObserver?(StepReport(epoch: epoch, epochs: configuration.epochs, step: progress.stepInEpoch,
                                         stepsPerEpoch: plan.stepsPerEpoch, globalStep: progress.globalStep,
                                         loss: stats.meanLoss, samples: Int(stats.count)))
                if configuration.logEvery > 0, progress.globalStep % configuration.logEvery == 0 {
                    let record = StepRecord(step: progress.globalStep, epoch: epoch, loss: stats.meanLoss, lr: rate)
                    try metrics?.write(record)
                    try tensorboard?.write(record.scalars, step: record.step)
                }
                if stats.stop {
                    try saveCheckpoint(progress)
                    if communicator.isRoot { logger.info("stopped on request after step \(progress.globalStep); checkpoint written") }
                    return TrainingSummary(epochs: records)
                }
                // Every `every` steps — with local rounds, at the first round's end at or after each multiple.
                let every = configuration.checkpointEvery
                if every > 0, endsRound, progress.globalStep / every != lastRoundEnd / every, progress.stepInEpoch < plan.stepsPerEpoch {
                    try saveCheckpoint(progress)
                }
                if endsRound { lastRoundEnd = progress.globalStep }
            }
            let trainingSeconds = Date().timeIntervalSince(started)
            // A test hook: each rank's anonymous memory at the end of an epoch's steps, while the
            // epoch's order and every buffer of the step are alive.
            if ProcessInfo.processInfo.environment["TRAINER_TEST_MEMORY_REPORT"] != nil, let bytes = withExtendedLifetime(order, { anonymousMemory }) {
                FileHandle.standardError.write(Data("rank \(rank) anonymous memory: \(bytes) bytes\n".utf8))
            }
            let validation = data.validation.map { validation in
                watchdog.waiting(.evaluation, step: progress.globalStep) { evaluate(validation, order: validationOrder) }
            }
            let test = data.test.map { test in watchdog.waiting(.evaluation, step: progress.globalStep) { evaluate(test, order: testOrder) } }
            let record = EpochRecord(epoch: epoch, trainLoss: progress.epochLossSum / max(progress.epochSamples, 1),
                                     trainAccuracy: configuration.model.loss.isClassification
                                        ? progress.epochCorrect / max(progress.epochSamples, 1) : nil,
                                     validationLoss: validation?.loss, validationAccuracy: validation?.accuracy,
                                     testLoss: test?.loss, testAccuracy: test?.accuracy, lr: rate,
                                     seconds: trainingSeconds,
                                     samplesPerSecond: Double(progress.samplesSeen - samplesBefore) / max(trainingSeconds, 1e-9),
                                     phases: configuration.profile ? step.phases : nil)
            records.append(record)
            try metrics?.write(record)
            try tensorboard?.write(record.scalars, step: progress.globalStep)
            progress.finishEpoch()
            let isBest = validation.map { progress.noteValidation(loss: $0.loss) } ?? false
            try saveCheckpoint(progress, best: isBest && configuration.keepBest)
            if communicator.isRoot { logger.info("\(record.line(of: configuration.epochs))") }
        }
        return TrainingSummary(epochs: records)
    }

    /// The error every rank throws when step `progress.globalStep + 1` diverged; rank 0 prints it.
    func divergence(at progress: TrainingProgress, loss: Double) -> AgreedFailure {
        let kept = checkpoints?.last.map { "the last good checkpoint, \($0), is kept" }
            ?? (configuration.checkpointDirectory == nil ? "no checkpoint was written (use --checkpoint-dir)"
                                                          : "no checkpoint was written before it")
        let error = TrainerError(.divergence, subject: "step \(progress.globalStep + 1) (epoch \(progress.epochsCompleted + 1))",
                                 "training diverged: NaN or infinity in the loss (\(loss)) or the gradients; lower --lr; \(kept)")
        return AgreedFailure(error: error, printsHere: communicator.isRoot)
    }

    /// Mean loss and accuracy over `dataset`, each rank taking its even share of it.
    public func evaluate(_ dataset: Dataset, order: [Int32]) -> (loss: Double, accuracy: Double?) {
        let share = evenShare(communicator.rank, of: dataset.count, parts: communicator.worldSize)
        let sums = Evaluation.sums(network, on: dataset, order: order, range: share, batch: step.batch)
        var totals = [sums.lossSum, sums.correct, sums.count]
        totals.withUnsafeMutableBufferPointer { communicator.allreduceSum($0) }
        let count = max(totals[2], 1)
        return (totals[0] / count, configuration.model.loss.isClassification ? totals[1] / count : nil)
    }
}
