import Batching
import Support
import Data
import Foundation

extension Trainer {
    /// Trains from `start` to the end of epoch `configuration.epochs`, or until a stop request.
    /// Rank 0 logs a line per epoch, writes the metrics, and writes a checkpoint every
    /// `checkpointEvery` steps, at every epoch end and when stopped.
    public func run() throws -> TrainingSummary {
        var records: [EpochRecord] = []
        var progress = start
        if communicator.isRoot {
            let from = progress.globalStep > 0 ? ", resuming at epoch \(progress.epoch + 1) step \(progress.stepInEpoch + 1)" : ""
            logger.info("\(configuration.model) on \(data.train.name): \(data.train.count) samples, \(network.parameterCount) parameters, \(plan.stepsPerEpoch) steps of \(configuration.batchSize) per epoch, \(communicator.summary)\(from)")
        }
        while progress.epoch < configuration.epochs {
            let permutation = epochPermutation(count: data.train.count, seed: configuration.seed, epoch: progress.epoch)
            let started = Date()
            phases = PhaseTimes()
            var rate = configuration.learningRate
            while progress.stepInEpoch < plan.stepsPerEpoch {
                rate = configuration.schedule.rate(base: configuration.learningRate, globalStep: progress.globalStep,
                                                   stepsPerEpoch: plan.stepsPerEpoch)
                let slice = plan.slice(step: progress.stepInEpoch, rank: communicator.rank, worldSize: communicator.worldSize)
                let next = progress.stepInEpoch + 1 < plan.stepsPerEpoch
                    ? permutation[plan.slice(step: progress.stepInEpoch + 1, rank: communicator.rank, worldSize: communicator.worldSize)]
                    : []
                let stats = trainStep(permutation[slice], prefetching: next, rate: rate)
                if stats.diverged { throw divergence(at: progress, loss: stats.lossSum / max(stats.count, 1)) }
                progress.record(stats)
                stepObserver?(StepReport(epoch: progress.epoch + 1, epochs: configuration.epochs, step: progress.stepInEpoch,
                                         stepsPerEpoch: plan.stepsPerEpoch, globalStep: progress.globalStep,
                                         loss: stats.lossSum / max(stats.count, 1), samples: Int(stats.count)))
                if configuration.logEvery > 0, progress.globalStep % configuration.logEvery == 0 {
                    try metrics?.write(StepRecord(step: progress.globalStep, epoch: progress.epoch + 1,
                                                  loss: stats.lossSum / max(stats.count, 1), lr: rate))
                }
                if stats.stop {
                    try saveCheckpoint(progress)
                    if communicator.isRoot { logger.info("stopped on request after step \(progress.globalStep); checkpoint written") }
                    return TrainingSummary(epochs: records, parameterCount: network.parameterCount, progress: progress, stopped: true)
                }
                let every = configuration.checkpointEvery
                if every > 0, progress.globalStep % every == 0, progress.stepInEpoch < plan.stepsPerEpoch {
                    try saveCheckpoint(progress)
                }
            }
            let trainingSeconds = Date().timeIntervalSince(started)
            let test = data.test.map { evaluate($0, order: testOrder) }
            let record = EpochRecord(epoch: progress.epoch + 1, trainLoss: progress.epochLossSum / max(progress.epochSamples, 1),
                                     trainAccuracy: configuration.model.loss.isClassification
                                        ? progress.epochCorrect / max(progress.epochSamples, 1) : nil,
                                     testLoss: test?.loss, testAccuracy: test?.accuracy, lr: rate,
                                     seconds: trainingSeconds, phases: configuration.profile ? phases : nil)
            records.append(record)
            try metrics?.write(record)
            progress.finishEpoch()
            try saveCheckpoint(progress)
            if communicator.isRoot { logger.info("\(Trainer.progressLine(record, of: configuration.epochs))") }
        }
        return TrainingSummary(epochs: records, parameterCount: network.parameterCount, progress: progress, stopped: false)
    }

    /// Rank 0 writes the checkpoint of `progress` when there is a checkpoint directory.
    func saveCheckpoint(_ progress: TrainingProgress) throws {
        guard let checkpoints else { return }
        lastCheckpoint = try checkpoints.save(checkpoint(progress), globalStep: progress.globalStep, keep: configuration.keepCheckpoints)
    }

    /// The error every rank throws when step `progress.globalStep + 1` diverged; rank 0 prints it.
    func divergence(at progress: TrainingProgress, loss: Double) -> AgreedFailure {
        let kept = lastCheckpoint.map { "the last good checkpoint, \($0), is kept" }
            ?? (configuration.checkpointDirectory == nil ? "no checkpoint was written (use --checkpoint-dir)"
                                                          : "no checkpoint was written before it")
        let error = TrainerError(.divergence, subject: "step \(progress.globalStep + 1) (epoch \(progress.epoch + 1))",
                                 "training diverged: NaN or infinity in the loss (\(loss)) or the gradients; lower --lr; \(kept)")
        return AgreedFailure(error: error, printsHere: communicator.isRoot)
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
}
