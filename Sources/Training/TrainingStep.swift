import Batching
import Communication
import Data
import Foundation
import KernelCore
import Support

/// What travels after the gradients in the step's one reduction, and what every rank reads back
/// from it: [gradients | loss sum | correct count | sample count | stop].
struct StepStatistics {
    var lossSum: Double
    var correct: Double
    var count: Double
    /// Some rank asked to stop: all stop after this step.
    var stop: Bool
    /// The reduced loss or gradient holds NaN or ±∞: the step was not applied. Every rank sees
    /// the same sums, so every rank finds it at the same step. (Not a slot: each rank finds it.)
    var diverged = false
    /// A step of a local round (`--sync-every`): this rank's own statistics, not summed, not yet
    /// part of the epoch's (the round's sums at its end are).
    var local = false

    /// Slots after the gradients in the step's buffer.
    static let slotCount = 4

    /// Writes these statistics into `slots` (`slotCount` floats).
    func pack(into slots: UnsafeMutableBufferPointer<Float>) {
        slots[0] = Float(lossSum)
        slots[1] = Float(correct)
        slots[2] = Float(count)
        slots[3] = stop ? 1 : 0
    }

    /// Reads statistics from `slots` (after the sum: global ones).
    init(unpacking slots: UnsafeMutableBufferPointer<Float>) {
        self.init(lossSum: Double(slots[0]), correct: Double(slots[1]), count: Double(slots[2]), stop: slots[3] > 0)
    }

    init(lossSum: Double, correct: Double, count: Double, stop: Bool) {
        self.lossSum = lossSum
        self.correct = correct
        self.count = count
        self.stop = stop
    }

    /// No samples yet: where a round's sums start.
    static let zero = StepStatistics(lossSum: 0, correct: 0, count: 0, stop: false)

    /// The step's mean loss.
    var meanLoss: Double { lossSum / max(count, 1) }
}

/// One synchronous data-parallel SGD step, and everything it touches: the network (parameters
/// and the gradient arena, which is the step's reduction buffer), the optimizer, the batch
/// buffer and the time of each phase. Allocates nothing.
final class TrainingStep {
    let network: Network<Float>
    let optimizer: Optimizer
    let batch: BatchBuffer<Float>
    /// How the step's sum travels: decided once, from the ranks' placement and the configuration.
    let plan: ReductionPlan
    let reduction: StepReduction
    /// The sum when the plan shards the update: then the parameters and the optimizer's state
    /// are its arenas, one copy for all ranks, and each rank updates its chunk of them.
    let sharded: TreeStepReduction?
    /// The statistics slots after the gradients in the reduction's buffer.
    let statistics: UnsafeMutableBufferPointer<Float>
    let regularization: Regularization
    /// `--sync-every H > 1`: the outer step and the round's sums (nil: a sum every step).
    let rounds: LocalRounds?
    let worldSize: Int
    /// This epoch's time per phase (rank-local); `resetPhases` starts a new epoch.
    private(set) var phases = PhaseTimes()

    /// The step of `configuration` for `architecture`; `capacity`: the most rows the network
    /// computes at once — a rank's largest slice of a global batch, or `--micro-batch`.
    init(_ architecture: Architecture, capacity: Int, featureCount: Int, configuration: TrainingConfiguration,
         communicator: Communicator) {
        let weights = architecture.layers.map { GradientMatrix(offset: $0.weightOffset, rows: $0.outputs, columns: $0.inputs) }
        let stateNames = Optimizer.stateNames(configuration.optimizer, momentum: configuration.momentum)
        plan = ReductionPlan(placement: communicator.placement, reduce: configuration.mpiReduce,
                             compression: configuration.gradCompression,
                             shardsUpdate: configuration.syncEvery == 1  // local rounds: each rank its own θ
                                && ReductionPlan.shardsUpdate(parameterCount: architecture.parameterCount,
                                                              ranksOnMachine: communicator.ranksOnThisNode))
        let sum = communicator.makeStepSum(plan, gradientCount: architecture.parameterCount, extraSlots: StepStatistics.slotCount,
                                           matrices: weights, seed: configuration.seed, arenas: 1 + stateNames.count)
        reduction = sum.reduction
        switch sum {
        case .whole: sharded = nil
        case .sharded(let reduction): sharded = reduction
        }
        network = Network(architecture, batchCapacity: capacity, extraGradientSlots: StepStatistics.slotCount,
                          gradientArena: reduction.values, parameters: sharded?.arenas[0])
        statistics = UnsafeMutableBufferPointer(rebasing: reduction.values[architecture.parameterCount...])
        optimizer = Optimizer(configuration.optimizer, parameterCount: network.parameterCount, momentum: configuration.momentum,
                              nesterov: configuration.nesterov, weightDecay: configuration.effectiveWeightDecay,
                              stateMemory: sharded.map { Array($0.arenas.dropFirst()) } ?? [])
        batch = BatchBuffer(capacity: network.batchCapacity, featureCount: featureCount)
        regularization = configuration.regularization
        rounds = configuration.syncEvery > 1
            ? LocalRounds(parameterCount: architecture.parameterCount, outerRate: configuration.outerLearningRate,
                          outerMomentum: configuration.outerMomentum)
            : nil
        worldSize = communicator.worldSize
    }

    func resetPhases() { phases = PhaseTimes() }

    /// The step on this rank's `samples` of `data` (and every other rank's), prefetching the rows
    /// of this rank's `next` samples while it computes; `stopRequested` is this rank's wish to
    /// stop; `globalStep` numbers this step (1 for a run's first: the optimizer's t); `watchdog`
    /// bounds the wait for the other ranks in it. A slice larger than the batch buffer is walked
    /// in micro-batches of its capacity, their gradients summed: the same step, other GEMM shapes.
    /// Returns the global statistics. With local rounds (`--sync-every`), `endsRound` says whether
    /// this step ends one (the ranks sum then, and only then).
    func run(_ samples: ArraySlice<Int32>, of data: Dataset, prefetching next: ArraySlice<Int32>,
             rate: Double, stopRequested: Bool, globalStep: Int = 1, endsRound: Bool = true, watchdog: Watchdog? = nil) -> StepStatistics {
        let features = UnsafePointer(batch.features.baseAddress!), labels = UnsafePointer(batch.labels.baseAddress!)
        let micro = batch.capacity
        var lossSum = 0.0, correct = 0
        var first = samples.startIndex
        var t3 = monotonicSeconds()
        repeat {
            let t0 = t3
            // 1. This rank's rows of the global batch (or the micro-batch's): features rows × inputs, labels rows.
            let end = min(first + micro, samples.endIndex), rows = end - first
            batch.gather(from: data, indices: samples[first..<end])
            batch.prefetch(from: data, indices: end < samples.endIndex ? samples[end..<min(end + micro, samples.endIndex)] : next.prefix(micro))
            let t1 = monotonicSeconds()
            // 2. Forward: the scores of every row.
            network.forward(features, rows: rows)
            let t2 = monotonicSeconds()
            // 3. Backward: Σ ∇θ ℓ over the rows into the gradient arena (added to the micro-batches before).
            let part = network.backward(features, labels: labels, rows: rows, accumulate: first != samples.startIndex)
            lossSum += Double(part.lossSum)
            correct += part.correct
            t3 = monotonicSeconds()
            phases.gather += t1 - t0; phases.forward += t2 - t1; phases.backward += t3 - t2
            first = end
        } while first < samples.endIndex
        let own = StepStatistics(lossSum: lossSum, correct: Double(correct), count: Double(samples.count), stop: stopRequested)
        if let rounds { return runLocal(rounds, own, endsRound: endsRound, from: t3, rate: rate, globalStep: globalStep, watchdog: watchdog) }
        // This rank's statistics after its gradients.
        own.pack(into: statistics)
        if let sharded { return runSharded(sharded, from: t3, rate: rate, globalStep: globalStep, watchdog: watchdog) }
        // 4. One sum over all ranks of [gradients | statistics] (compressed: as --grad-compression says).
        watchdog.waiting(.reduction, step: globalStep) { reduction.sum() }
        let t4 = monotonicSeconds()
        // 5. ∇J = sum / N + ∇R, then the optimizer's step (θ ← θ − η·∇J for plain SGD).
        var global = StepStatistics(unpacking: statistics)
        global.diverged = !(network.finishGradient(sampleCount: Float(global.count), regularization: regularization)
                            && global.lossSum.isFinite)
        if !global.diverged { optimizer.update(network.parameters, gradients: network.gradients, rate: rate, step: globalStep) }
        let t5 = monotonicSeconds()
        phases.allreduce += t4 - t3; phases.update += t5 - t4
        return global
    }
}

extension TrainingStep {
    /// Steps 4 and 5 among ranks that share memory, where the parameters and the optimizer's
    /// state are one copy for all ranks (the reduction's arenas): in a pass over this rank's
    /// chunk alone, block by block, the sum in rank order, ∇J = sum / N + ∇R and the optimizer's
    /// step in place (`sumAndUpdate`) — the same bits as steps 4 and 5 of `run`. A step found
    /// unsound (NaN, ±∞) may leave the parameters updated in part; the run stops without saving
    /// them. The time in the update's arithmetic is `update`, the rest (sums, waits) `allreduce`.
    func runSharded(_ sharded: TreeStepReduction, from t3: Double, rate: Double, globalStep: Int,
                    watchdog: Watchdog?) -> StepStatistics {
        let network = self.network, optimizer = self.optimizer, regularization = self.regularization
        let theta = network.parameters.baseAddress!
        var updating = 0.0
        let applied = watchdog.waiting(.reduction, step: globalStep) {
            sharded.sumAndUpdate { tail, block, gradient in
                let t = monotonicSeconds()
                defer { updating += monotonicSeconds() - t }
                let global = StepStatistics(unpacking: tail)
                guard global.lossSum.isFinite,
                      network.finishGradient(block, of: gradient, sampleCount: Float(global.count), regularization: regularization)
                else { return false }
                optimizer.update(block, of: theta, gradients: gradient, rate: rate, step: globalStep)
                return true
            }
        }
        var global = StepStatistics(unpacking: statistics)
        global.diverged = !applied
        let t5 = monotonicSeconds()
        phases.allreduce += t5 - t3 - updating; phases.update += updating
        return global
    }
}

extension TrainingStep {
    /// Steps 4 and 5 in a local round (`LocalRounds`): the inner step on this rank's own
    /// gradient; at the round's end, one sum over all ranks of [Δ | the round's statistics] and
    /// the outer step. Returns this rank's statistics (`local`) inside a round, the round's
    /// global ones at its end.
    func runLocal(_ rounds: LocalRounds, _ own: StepStatistics, endsRound: Bool, from t3: Double, rate: Double,
                  globalStep: Int, watchdog: Watchdog?) -> StepStatistics {
        // 4′. ∇J_r = sum / n_r + ∇R, then the inner optimizer's step on this rank's θ.
        let finite = network.finishGradient(sampleCount: Float(own.count), regularization: regularization) && own.lossSum.isFinite
        if finite { optimizer.update(network.parameters, gradients: network.gradients, rate: rate, step: globalStep) }
        rounds.add(own, finite: finite)
        let t4 = monotonicSeconds()
        phases.update += t4 - t3
        guard endsRound else {
            var local = own
            local.local = true
            local.stop = false  // a stop request travels with the round's sum: all ranks stop at its end
            return local
        }
        // 5′. One sum over all ranks of [Δ = θ₀ − θ_r | the round's statistics], then the outer step.
        rounds.writeChange(of: network.parameters, into: network.gradients, statistics: statistics)
        watchdog.waiting(.reduction, step: globalStep) { reduction.sum() }
        let t5 = monotonicSeconds()
        var global = StepStatistics(unpacking: statistics)
        global.diverged = !(global.lossSum.isFinite && rounds.outerStep(network.parameters, summed: network.gradients, ranks: worldSize))
        phases.allreduce += t5 - t4; phases.update += monotonicSeconds() - t5
        return global
    }
}

/// A monotonic clock in seconds, cheap enough to read a few times per step.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}
