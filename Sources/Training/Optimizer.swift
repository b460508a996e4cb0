import Foundation

/// `--optimizer`: how a step turns the gradient g = ∇θ J into a change of θ.
public enum OptimizerKind: String, Sendable, CaseIterable {
    /// Mini-batch gradient descent (seeds 002, 003), with optional (Nesterov) momentum.
    case sgd
    /// Adam (Kingma & Ba, 2015).
    case adam
    /// AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.
    case adamw
}

/// The optimizers, in PyTorch's forms (`torch.optim.SGD`, `Adam`, `AdamW`, their defaults
/// β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸), t counting the steps taken, this one included:
///
///     sgd:    v ← μ·v + g,  θ ← θ − η·v            (μ = 0: θ ← θ − η·g; Nesterov: θ ← θ − η·(g + μ·v))
///     adam:   m ← β₁·m + (1 − β₁)·g,  s ← β₂·s + (1 − β₂)·g²,
///             θ ← θ − (η / (1 − β₁ᵗ)) · m / (√s / √(1 − β₂ᵗ) + ε)
///     adamw:  θ ← θ·(1 − η·λ), then the adam step  (λ = --weight-decay, every parameter)
///
/// AdamW's decay is not part of the objective J, as `--l2` is: it shrinks θ by η·λ·θ outside
/// the adaptive step, so every weight decays at the same rate whatever its gradient's scale.
/// The state — v, or m and s — is one buffer each with the parameters' layout, allocated once;
/// t is the run's global step, so a checkpoint's progress restores it.
public final class Optimizer {
    public let kind: OptimizerKind
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Double
    public let beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
    /// The state buffers with the names checkpoints give them: `optimizer.velocity` (SGD with
    /// momentum), `optimizer.exp_avg` and `optimizer.exp_avg_sq` (Adam, AdamW).
    public let state: [(name: String, values: UnsafeMutableBufferPointer<Float>)]

    public static let velocityTensor = "optimizer.velocity"
    public static let firstMomentTensor = "optimizer.exp_avg"
    public static let secondMomentTensor = "optimizer.exp_avg_sq"

    /// The state buffers `kind` keeps, each of the parameters' length, by name.
    public static func stateNames(_ kind: OptimizerKind, momentum: Double) -> [String] {
        switch kind {
        case .sgd: return momentum == 0 ? [] : [velocityTensor]
        case .adam, .adamw: return [firstMomentTensor, secondMomentTensor]
        }
    }

    /// Whether the state buffers were allocated here (else `stateMemory` gave them).
    private let ownsState: Bool

    /// `stateMemory`, when given, is one zeroed buffer per `stateNames` entry, of `parameterCount`
    /// floats, that the caller keeps valid (e.g. shared by the ranks of a sharded update); else
    /// the optimizer allocates its own.
    public init(_ kind: OptimizerKind = .sgd, parameterCount: Int, momentum: Double = 0, nesterov: Bool = false,
                weightDecay: Double = 0, stateMemory: [UnsafeMutableBufferPointer<Float>] = []) {
        self.kind = kind
        self.momentum = Float(momentum)
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        let names = Self.stateNames(kind, momentum: momentum)
        ownsState = stateMemory.isEmpty
        precondition(ownsState || (stateMemory.count == names.count && stateMemory.allSatisfy { $0.count == parameterCount }),
                     "Optimizer: \(stateMemory.count) state buffers given, \(names.count) of \(parameterCount) floats needed")
        state = names.enumerated().map { index, name in
            if !stateMemory.isEmpty { return (name, stateMemory[index]) }
            let values = UnsafeMutableBufferPointer<Float>.allocate(capacity: parameterCount)
            values.initialize(repeating: 0)
            return (name, values)
        }
    }

    deinit { if ownsState { state.forEach { $0.values.deallocate() } } }

    /// One update of `parameters` by `gradients` (same length) with learning rate `rate`, as
    /// step number `step` (1 for the first).
    public func update(_ parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeMutableBufferPointer<Float>,
                       rate: Double, step: Int) {
        guard let theta = parameters.baseAddress, let g = gradients.baseAddress else { return }
        update(0..<parameters.count, of: theta, gradients: g, rate: rate, step: step)
    }

    /// The update of the indices `range` alone, in place: θ[i] for i in `range` of `parameters`,
    /// from gᵢ = `gradients[i − range.lowerBound]` (the block's gradient) and the state's entries
    /// i. Every entry is computed as the whole update computes it, so updating the blocks of a
    /// partition one by one gives its bits.
    public func update(_ range: Range<Int>, of parameters: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                       rate: Double, step: Int) {
        let eta = Float(rate)
        let theta = parameters + range.lowerBound, count = range.count
        switch kind {
        case .sgd:
            guard let v = state.first.map({ $0.values.baseAddress! + range.lowerBound }) else {
                for i in 0..<count { theta[i] -= eta * g[i] }
                return
            }
            let mu = momentum
            if nesterov {
                for i in 0..<count {
                    v[i] = Self.flushed(mu * v[i] + g[i])
                    theta[i] -= eta * (g[i] + mu * v[i])
                }
            } else {
                for i in 0..<count {
                    v[i] = Self.flushed(mu * v[i] + g[i])
                    theta[i] -= eta * v[i]
                }
            }
        case .adam, .adamw:
            let m = state[0].values.baseAddress! + range.lowerBound, s = state[1].values.baseAddress! + range.lowerBound
            let (b1, b2, eps) = (beta1, beta2, epsilon)
            let t = Double(max(1, step))
            // As PyTorch computes them: the bias corrections in double, then one Float each.
            let stepSize = Float(rate / (1 - Foundation.pow(Double(b1), t)))
            let correction2 = Float((1 - Foundation.pow(Double(b2), t)).squareRoot())
            let decay = kind == .adamw ? Float(1 - rate * weightDecay) : 1
            for i in 0..<count {
                let gi = g[i]
                m[i] = Self.flushed(b1 * m[i] + (1 - b1) * gi)
                s[i] = Self.flushed(b2 * s[i] + (1 - b2) * gi * gi)
                let denominator = s[i].squareRoot() / correction2 + eps
                theta[i] = theta[i] * decay - stepSize * (m[i] / denominator)
            }
        }
    }

    /// x, or 0 when it is subnormal (|x| below Float's smallest normal, 1.2·10⁻³⁸). The moments of
    /// a parameter whose gradient is zero or tiny decay into the subnormal range, and stay there
    /// while tiny gradients keep coming; the CPU takes some hundred times longer for each
    /// operation on a subnormal, and a run's update grew 3.6× over 4 epochs (bench/RESULTS.md,
    /// run 17). Zero is what the decay would reach; the step changes by less than 10⁻³⁸·η.
    @inline(__always)
    static func flushed(_ x: Float) -> Float { abs(x) < .leastNormalMagnitude ? 0 : x }
}
