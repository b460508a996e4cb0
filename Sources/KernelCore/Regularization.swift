/// Weight penalties R(W) = λ₁ Σ|w| + (λ₂/2) Σ w², over weights only — biases are exempt
/// (seed 003: g(w, b) = … + λ[w; 0]).
///
/// Gradient: ∂R/∂w = λ₁·sign(w) + λ₂·w, with sign(0) = 0 (the subgradient closest to zero).
public struct Regularization: Sendable, Equatable, Codable {
    public var l1: Double
    public var l2: Double

    public init(l1: Double = 0, l2: Double = 0) {
        self.l1 = l1
        self.l2 = l2
    }

    public static let none = Regularization()
    public var isActive: Bool { l1 != 0 || l2 != 0 }

    /// R over the weights `w[0..<count]`.
    @inlinable
    public func penalty<T: Scalar>(_ w: UnsafePointer<T>, count: Int) -> T {
        let lambda1 = T(l1), lambda2 = T(l2)
        var total: T = 0
        for i in 0..<count { total += lambda1 * Swift.abs(w[i]) + lambda2 / 2 * w[i] * w[i] }
        return total
    }

    /// `gradient[i] += ∂R/∂w[i]` for the weights `w[0..<count]`.
    @inlinable
    public func addGradient<T: Scalar>(_ w: UnsafePointer<T>, count: Int, to gradient: UnsafeMutablePointer<T>) {
        let lambda1 = T(l1), lambda2 = T(l2)
        for i in 0..<count {
            let sign: T = w[i] > 0 ? 1 : (w[i] < 0 ? -1 : 0)
            gradient[i] += lambda1 * sign + lambda2 * w[i]
        }
    }
}
