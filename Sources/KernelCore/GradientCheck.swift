/// The numerical gradient check of seed 002 ("derive the analytic gradient, check your
/// implementation with the numerical gradient"), with the fourth-order central difference
///
///     ∂J/∂θᵢ ≈ [8 (J(θ + h eᵢ) − J(θ − h eᵢ)) − (J(θ + 2h eᵢ) − J(θ − 2h eᵢ))] / 12h
///
/// for the objective J(θ) = (1/N) Σ ℓᵢ + R(θ) of one batch. Run in `Double`. Its truncation
/// error is O(h⁴) and its rounding error O(ε/h), so h = 1e-4 leaves ~1e-12 of noise where the
/// two-point difference (seed 002's (J(θ + h) − J(θ))/h, or its central form) leaves ~1e-10.
public struct GradientCheckResult: Sendable {
    /// maxᵢ |aᵢ − nᵢ| / max(|aᵢ|, |nᵢ|, `floor`): analytic a against numerical n.
    public let maxRelativeError: Double
    /// The parameter index where it occurs.
    public let worstIndex: Int
    public let analytic: Double
    public let numerical: Double
    public let checkedCount: Int
}

extension Network where T == Double {
    /// Compares `finishGradient`'s analytic gradient with central differences of `objective`
    /// at every parameter. `floor` keeps entries whose gradient is essentially zero from
    /// dividing noise by noise: with the default 1e-5, a max relative error below 1e-6 means every
    /// entry agrees to 1e-6 relative or, where both are under 1e-5 in size, to 1e-11 absolute.
    public func checkGradient(_ batch: UnsafePointer<Double>, labels: UnsafePointer<Double>, rows: Int,
                              regularization: Regularization, step h: Double = 1e-4,
                              floor: Double = 1e-5) -> GradientCheckResult {
        forward(batch, rows: rows)
        backward(batch, labels: labels, rows: rows)
        finishGradient(sampleCount: Double(rows), regularization: regularization)
        let analytic = Array(gradients)
        var worst = (error: 0.0, index: 0, a: 0.0, n: 0.0)
        for i in 0..<parameterCount {
            let saved = parameters[i]
            func objective(at offset: Double) -> Double {
                parameters[i] = saved + offset
                return self.objective(batch, labels: labels, rows: rows, regularization: regularization)
            }
            let near = objective(at: h) - objective(at: -h), far = objective(at: 2 * h) - objective(at: -2 * h)
            parameters[i] = saved
            let numerical = (8 * near - far) / (12 * h)
            let error = Swift.abs(analytic[i] - numerical)
                / Swift.max(Swift.abs(analytic[i]), Swift.abs(numerical), floor)
            if error > worst.error || error.isNaN { worst = (error, i, analytic[i], numerical) }
        }
        return GradientCheckResult(maxRelativeError: worst.error, worstIndex: worst.index,
                                   analytic: worst.a, numerical: worst.n, checkedCount: parameterCount)
    }
}
