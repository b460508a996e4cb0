import KernelCore

/// Mini-batch gradient descent (seed 002, seed 003) with optional momentum μ, in PyTorch's form:
///
///     v ← μ·v + g        θ ← θ − η·v        (μ = 0: θ ← θ − η·g)
///
/// and with Nesterov momentum (Sutskever et al. 2013, as PyTorch writes it) θ ← θ − η·(g + μ·v).
///
/// The velocity v is one buffer with the parameters' layout, allocated once.
public final class StochasticGradientDescent {
    public let momentum: Float
    public let nesterov: Bool
    /// v, or empty when μ = 0.
    public let velocity: UnsafeMutableBufferPointer<Float>

    public init(parameterCount: Int, momentum: Double, nesterov: Bool = false) {
        self.momentum = Float(momentum)
        self.nesterov = nesterov
        velocity = .allocate(capacity: momentum == 0 ? 0 : parameterCount)
        velocity.initialize(repeating: 0)
    }

    deinit { velocity.deallocate() }

    /// One update of `parameters` by `gradients` (same length) with learning rate `rate`.
    public func update(_ parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeMutableBufferPointer<Float>,
                       rate: Double) {
        let eta = Float(rate), count = parameters.count
        guard let theta = parameters.baseAddress, let g = gradients.baseAddress else { return }
        if velocity.count == count, let v = velocity.baseAddress {
            let mu = momentum
            if nesterov {
                for i in 0..<count {
                    v[i] = mu * v[i] + g[i]
                    theta[i] -= eta * (g[i] + mu * v[i])
                }
            } else {
                for i in 0..<count {
                    v[i] = mu * v[i] + g[i]
                    theta[i] -= eta * v[i]
                }
            }
        } else {
            for i in 0..<count { theta[i] -= eta * g[i] }
        }
    }
}
