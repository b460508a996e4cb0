/// The fixed polynomial feature map φ of seed 001: every monomial of the inputs of total
/// degree 1…d, e.g. for two inputs and d = 2, φ(x) = [x₁, x₂, x₁², x₁x₂, x₂²].
///
/// Seed 001 writes φ(x) = [1, x, x², …, xᵈ]; the constant 1 is left out because the dense layer
/// that follows has a bias. Monomials are ordered by degree, then lexicographically by the
/// non-decreasing list of input indices they multiply.
public struct PolynomialFeatures: Sendable, Equatable {
    public let inputCount: Int
    public let degree: Int
    /// The input indices multiplied by monomial m: `factors[starts[m]..<starts[m + 1]]`.
    @usableFromInline let factors: [Int32]
    @usableFromInline let starts: [Int32]

    /// The number of monomials of degree 1…d in n variables, C(n + d, d) − 1, or nil when it
    /// exceeds `limit`.
    public static func featureCount(inputs n: Int, degree d: Int, limit: Int) -> Int? {
        var count = 1  // C(n + k, k) built up for k = 1…d
        for k in 1...max(d, 1) {
            let (product, overflow) = count.multipliedReportingOverflow(by: n + k)
            if overflow { return nil }
            count = product / k
            if count - 1 > limit { return nil }
        }
        return count - 1
    }

    /// `degree` ≥ 1; the caller checks `featureCount` first to bound the size.
    public init(inputCount: Int, degree: Int) {
        self.inputCount = inputCount
        self.degree = degree
        var factors: [Int32] = [], starts: [Int32] = [0]
        var current: [Int32] = []
        func extend(from first: Int32, remaining: Int) {
            if remaining == 0 {
                factors += current
                starts.append(Int32(factors.count))
                return
            }
            for i in first..<Int32(inputCount) {
                current.append(i)
                extend(from: i, remaining: remaining - 1)
                current.removeLast()
            }
        }
        for d in 1...max(degree, 1) { extend(from: 0, remaining: d) }
        self.factors = factors
        self.starts = starts
    }

    public var outputCount: Int { starts.count - 1 }

    /// φ applied to each of `rows` input rows, written to `output` (rows × outputCount).
    @inlinable
    public func apply<T: Scalar>(_ input: UnsafePointer<T>, rows: Int, to output: UnsafeMutablePointer<T>) {
        let width = outputCount
        factors.withUnsafeBufferPointer { factors in
            starts.withUnsafeBufferPointer { starts in
                for r in 0..<rows {
                    let x = input + r * inputCount, out = output + r * width
                    for m in 0..<width {
                        var product: T = 1
                        for f in Int(starts[m])..<Int(starts[m + 1]) { product *= x[Int(factors[f])] }
                        out[m] = product
                    }
                }
            }
        }
    }
}
