/// What one step's allreduce tells every rank.
struct StepStatistics {
    let lossSum: Double
    let correct: Double
    let count: Double
    /// Some rank asked to stop: all stop after this step.
    let stop: Bool
    /// The reduced loss or gradient holds NaN or ±∞: the step was not applied. Every rank sees
    /// the same reduced values, so every rank stops at the same step.
    let diverged: Bool
}

extension Trainer {
    /// One synchronous SGD step on this rank's `samples` (positions in the permutation) and
    /// everyone else's, prefetching the rows of this rank's `next` samples while it computes.
    /// Allocates nothing.
    func trainStep(_ samples: ArraySlice<Int32>, prefetching next: ArraySlice<Int32> = [], rate: Double) -> StepStatistics {
        let t0 = monotonicSeconds()
        batch.gather(from: data.train, indices: samples)
        batch.prefetch(from: data.train, indices: next)
        let rows = samples.count
        let features = UnsafePointer(batch.features.baseAddress!), labels = UnsafePointer(batch.labels.baseAddress!)
        let t1 = monotonicSeconds()
        network.forward(features, rows: rows)
        let t2 = monotonicSeconds()
        let lossSum = network.backward(features, labels: labels, rows: rows)
        let correct = network.architecture.loss.correctCount(scores: network.scores, labels: labels, rows: rows,
                                                             outputs: network.architecture.outputCount)
        let arena = network.gradientArena, tail = network.parameterCount
        arena[tail] = lossSum
        arena[tail + 1] = Float(correct)
        arena[tail + 2] = Float(rows)
        arena[tail + 3] = stopRequested() ? 1 : 0
        let t3 = monotonicSeconds()
        communicator.allreduceSum(arena)
        let t4 = monotonicSeconds()
        let finite = network.finishGradient(sampleCount: arena[tail + 2], regularization: regularization)
            && arena[tail].isFinite
        let statistics = StepStatistics(lossSum: Double(arena[tail]), correct: Double(arena[tail + 1]),
                                        count: Double(arena[tail + 2]), stop: arena[tail + 3] > 0, diverged: !finite)
        if finite { optimizer.update(network.parameters, gradients: network.gradients, rate: rate) }
        let t5 = monotonicSeconds()
        phases.gather += t1 - t0; phases.forward += t2 - t1; phases.backward += t3 - t2
        phases.allreduce += t4 - t3; phases.update += t5 - t4
        return statistics
    }
}
