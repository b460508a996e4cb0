import KernelCore
import Support

/// How a new model's parameters are set, from `(seed)` alone so every rank could compute them.
///
/// - A model with hidden layers: every weight and bias of a layer with fan-in n is drawn from
///   U(−1/√n, 1/√n) — PyTorch's default for `nn.Linear`, so comparisons start at the same scale.
/// - A linear model (no hidden layer): all zeros, as the perceptron of seed 001 starts from w = 0.
public enum Initialization {
    public static func initialize<T: Scalar>(_ network: Network<T>, seed: UInt64) {
        let layers = network.architecture.layers
        guard layers.count > 1 else {
            network.parameters.update(repeating: 0)
            return
        }
        var random = PortableRandom(seed: seed, stream: .initialization)
        for layer in layers {
            let bound = 1 / Double(layer.inputs).squareRoot()
            for i in layer.weightOffset..<layer.end {
                network.parameters[i] = T(random.next(in: -bound, bound))
            }
        }
    }

    /// Every parameter from N(0, σ²): the random point a gradient check starts from.
    public static func randomize<T: Scalar>(_ network: Network<T>, seed: UInt64, standardDeviation: Double) {
        var random = PortableRandom(seed: seed, stream: .gradientCheck)
        for i in 0..<network.parameterCount {
            network.parameters[i] = T(standardDeviation * random.nextGaussian())
        }
    }
}
