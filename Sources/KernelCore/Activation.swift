import RealModule

/// An elementwise nonlinearity g applied after a dense layer (seed 001 "activation function",
/// seed 003 "On the derivative of activation function").
///
/// Every derivative is computed from the layer's *output* a = g(z), so the pre-activation z
/// never has to be stored:
/// - identity: g(z) = z,                 g′ = 1
/// - relu:     g(z) = max(0, z),         g′ = 1 if a > 0 else 0 (the weak derivative 0 at z = 0, seed 003)
/// - sigmoid:  g(z) = 1 / (1 + e^(−z)),  g′ = a(1 − a)  (seed 002, σ′ = σ(1 − σ))
/// - tanh:     g(z) = tanh z,            g′ = 1 − a²
public enum Activation: String, Sendable, CaseIterable, Codable {
    case identity, relu, sigmoid, tanh
}

extension Activation {
    /// Forward, fused with the bias: `z[r][c] ← g(z[r][c] + bias[c])` for `rows × cols`, in place.
    @inlinable
    public func forwardAddingBias<T: Scalar>(
        _ z: UnsafeMutablePointer<T>, bias: UnsafePointer<T>, rows: Int, cols: Int
    ) {
        for r in 0..<rows {
            let row = z + r * cols
            switch self {
            case .identity:
                for c in 0..<cols { row[c] += bias[c] }
            case .relu:
                for c in 0..<cols { let v = row[c] + bias[c]; row[c] = v > 0 ? v : 0 }
            case .sigmoid:
                for c in 0..<cols { row[c] = Activation.sigmoid(row[c] + bias[c]) }
            case .tanh:
                for c in 0..<cols { row[c] = T.tanh(row[c] + bias[c]) }
            }
        }
    }

    /// Backward, fused with the bias gradient: turns dL/da into dL/dz = dL/da ⊙ g′ in place
    /// (seed 003, δ⁽ʰ⁻¹⁾ = σ′(a⁽ʰ⁻¹⁾) ∘ (W⁽ʰ⁾)ᵀδ⁽ʰ⁾) and writes `biasGradient[c] = Σ_r dL/dz[r][c]`.
    @inlinable
    public func backward<T: Scalar>(
        _ delta: UnsafeMutablePointer<T>, output a: UnsafePointer<T>, rows: Int, cols: Int,
        biasGradient: UnsafeMutablePointer<T>
    ) {
        biasGradient.update(repeating: 0, count: cols)
        for r in 0..<rows {
            let d = delta + r * cols, y = a + r * cols
            switch self {
            case .identity: break
            case .relu:
                for c in 0..<cols where !(y[c] > 0) { d[c] = 0 }
            case .sigmoid:
                for c in 0..<cols { d[c] *= y[c] * (1 - y[c]) }
            case .tanh:
                for c in 0..<cols { d[c] *= 1 - y[c] * y[c] }
            }
            for c in 0..<cols { biasGradient[c] += d[c] }
        }
    }

    /// The logistic function σ(z) = 1 / (1 + e^(−z)), evaluated without overflow for any z.
    @inlinable
    public static func sigmoid<T: Scalar>(_ z: T) -> T {
        if z >= 0 { return 1 / (1 + T.exp(-z)) }
        let e = T.exp(z)
        return e / (1 + e)
    }
}
