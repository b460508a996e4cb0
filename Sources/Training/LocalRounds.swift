import KernelCore

/// `--sync-every H > 1`: local SGD (Lin et al., ICLR 2020) and DiLoCo (Douillard et al., 2023).
///
/// A round is H steps (the last of an epoch may be shorter). In it every rank steps alone: the
/// gradient of its own slice of each global batch, ∇J_r = Σ ∇ℓ / n_r + ∇R, and the inner
/// optimizer (`--optimizer`, `--lr`, the schedule). At the round's end the ranks sum their
/// parameter changes Δ_r = θ₀ − θ_r in the step's one reduction (the tree's order, compressed as
/// `--grad-compression` says) and every rank takes the same outer step on the mean change
/// Δ̄ = Σ Δ_r / N — PyTorch's SGD with Nesterov momentum, rate η (`--outer-lr`), momentum μ
/// (`--outer-momentum`):
///
///     v ← μ·v + Δ̄,   θ ← θ₀ − η·(Δ̄ + μ·v)        (μ = 0: θ ← θ₀ − η·Δ̄; η = 1: the ranks' mean θ)
///
/// and the next round starts from that θ, the same bits on every rank. The round's loss sum,
/// correct count, sample count and stop requests travel after Δ, so the ranks agree on them at
/// its end; a step that went non-finite on any rank makes the summed loss NaN.
final class LocalRounds {
    let outerRate: Float, outerMomentum: Float
    /// θ₀: the parameters at the round's start, the same on every rank.
    let start: UnsafeMutableBufferPointer<Float>
    /// v: the outer momentum (zeros when μ = 0).
    let velocity: UnsafeMutableBufferPointer<Float>
    /// The round's sums so far on this rank.
    private(set) var sums = StepStatistics.zero

    init(parameterCount: Int, outerRate: Double, outerMomentum: Double) {
        self.outerRate = Float(outerRate)
        self.outerMomentum = Float(outerMomentum)
        start = .allocate(capacity: parameterCount)
        start.initialize(repeating: 0)
        velocity = .allocate(capacity: parameterCount)
        velocity.initialize(repeating: 0)
    }

    deinit {
        start.deallocate()
        velocity.deallocate()
    }

    /// Starts a round at `parameters` (after the start-up or a resume).
    func begin(at parameters: UnsafeMutableBufferPointer<Float>) {
        _ = start.update(fromContentsOf: parameters)
    }

    /// Adds a local step's statistics to the round's; `finite`: its gradient was finite (else the
    /// round's loss becomes NaN, which every rank sees after the sum).
    func add(_ step: StepStatistics, finite: Bool) {
        sums.lossSum += finite ? step.lossSum : .nan
        sums.correct += step.correct
        sums.count += step.count
        sums.stop = sums.stop || step.stop
    }

    /// Δ = θ₀ − θ into `change` (the reduction's buffer), and the round's statistics into `slots`;
    /// starts the next round's sums.
    func writeChange(of parameters: UnsafeMutableBufferPointer<Float>, into change: UnsafeMutableBufferPointer<Float>,
                     statistics slots: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<parameters.count { change[i] = start[i] - parameters[i] }
        sums.pack(into: slots)
        sums = .zero
    }

    /// The outer step from the summed changes `summed` of `ranks` ranks: Δ̄ = Σ/N, v ← μ·v + Δ̄,
    /// θ ← θ₀ − η·(Δ̄ + μ·v); θ₀ ← θ. False (θ untouched) when Δ̄ holds NaN or ±∞.
    func outerStep(_ parameters: UnsafeMutableBufferPointer<Float>, summed: UnsafeMutableBufferPointer<Float>, ranks: Int) -> Bool {
        let eta = outerRate, mu = outerMomentum
        guard Float.scaleCheckingFinite(summed.baseAddress!, count: parameters.count, by: 1 / Float(ranks)) else { return false }
        if mu == 0 {
            for i in 0..<parameters.count { parameters[i] = start[i] - eta * summed[i] }
        } else {
            for i in 0..<parameters.count {
                velocity[i] = mu * velocity[i] + summed[i]
                parameters[i] = start[i] - eta * (summed[i] + mu * velocity[i])
            }
        }
        _ = start.update(fromContentsOf: parameters)
        return true
    }
}
