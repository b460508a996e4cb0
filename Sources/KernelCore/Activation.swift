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
    ///
    /// The switch sits outside the loops and relu is written as a select, so that each case is
    /// one branch-free loop the optimiser vectorises (a branch per element costs more than the
    /// arithmetic when the signs are random).
    @inlinable
    public func forwardAddingBias<T: Scalar>(
        _ z: UnsafeMutablePointer<T>, bias: UnsafePointer<T>, rows: Int, cols: Int
    ) {
        switch self {
        case .identity: Activation.eachAddingBias(z, bias, rows, cols) { $0 }
        case .relu: Activation.eachAddingBias(z, bias, rows, cols) { Swift.max($0, 0) }
        case .sigmoid: Activation.eachAddingBias(z, bias, rows, cols) { Activation.sigmoid($0) }
        case .tanh: Activation.eachAddingBias(z, bias, rows, cols) { T.tanh($0) }
        }
    }

    /// `z[r][c] ← g(z[r][c] + bias[c])`: the loop every forward case shares.
    @inlinable @inline(__always)
    static func eachAddingBias<T: Scalar>(
        _ z: UnsafeMutablePointer<T>, _ bias: UnsafePointer<T>, _ rows: Int, _ cols: Int, _ g: (T) -> T
    ) {
        for r in 0..<rows {
            let row = z + r * cols
            for c in 0..<cols { row[c] = g(row[c] + bias[c]) }
        }
    }

    /// Backward, fused with the bias gradient: turns dL/da into dL/dz = dL/da ⊙ g′ in place
    /// (seed 003, δ⁽ʰ⁻¹⁾ = σ′(a⁽ʰ⁻¹⁾) ∘ (W⁽ʰ⁾)ᵀδ⁽ʰ⁾) and writes `biasGradient[c] = Σ_r dL/dz[r][c]`
    /// (`accumulate`: adds it to what `biasGradient` holds).
    @inlinable
    public func backward<T: Scalar>(
        _ delta: UnsafeMutablePointer<T>, output a: UnsafePointer<T>, rows: Int, cols: Int,
        biasGradient: UnsafeMutablePointer<T>, accumulate: Bool = false
    ) {
        switch self {
        case .identity: break
        case .relu: Activation.scaleByDerivative(delta, a, rows * cols) { y in y > 0 ? 1 : 0 }
        case .sigmoid: Activation.scaleByDerivative(delta, a, rows * cols) { y in y * (1 - y) }
        case .tanh: Activation.scaleByDerivative(delta, a, rows * cols) { y in 1 - y * y }
        }
        if !accumulate { biasGradient.update(repeating: 0, count: cols) }
        for r in 0..<rows {
            let d = UnsafePointer(delta + r * cols)
            for c in 0..<cols { biasGradient[c] += d[c] }
        }
    }

    /// `delta[i] ← delta[i] · g′(a[i])` for `count` entries: the loop every backward case shares.
    /// A product rather than a select, so that no case becomes a conditional store the optimiser
    /// cannot vectorise (relu's g′ is the select 1 or 0).
    @inlinable @inline(__always)
    static func scaleByDerivative<T: Scalar>(
        _ delta: UnsafeMutablePointer<T>, _ a: UnsafePointer<T>, _ count: Int, _ derivative: (T) -> T
    ) {
        for i in 0..<count { delta[i] *= derivative(a[i]) }
    }

    /// The logistic function σ(z) = 1 / (1 + e^(−z)), evaluated without overflow for any z.
    @inlinable
    public static func sigmoid<T: Scalar>(_ z: T) -> T {
        if z >= 0 { return 1 / (1 + T.exp(-z)) }
        let e = T.exp(z)
        return e / (1 + e)
    }
}
