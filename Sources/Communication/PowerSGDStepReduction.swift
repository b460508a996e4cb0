import KernelCore
import Support

/// `--grad-compression powersgd:R` — PowerSGD (Vogels, Karimireddy & Jaggi, NeurIPS 2019,
/// Algorithm 1 with error feedback): each compressed weight gradient, an n × m matrix, is sent as
/// rank-R factors, one power iteration a step warm-started from the last step's Q:
///
///     E  = G + e                 this rank's gradient sum plus its residual      (n × m)
///     P  = Σᵣ Eᵣ Q               first sum                                       (n × R)
///     P̂  = orthonormal columns of P (Gram–Schmidt)
///     Q' = Σᵣ Eᵣᵀ P̂              second sum; the next step's Q                   (m × R)
///     Σᵣ Gᵣ ≈ P̂ Q'ᵀ              what every rank applies
///     e  ← E − P̂ (Eᵀ P̂)ᵀ         what this rank's factors left out
///
/// A matrix is compressed when that sends at most half its floats, n·m ≥ 2R(n + m); biases,
/// small matrices and the extra slots travel exactly in the first sum. Both sums are exact sums
/// in tree order over the plan's transport (`Communicator.makeTreeSum`), and every step on their results — Gram–Schmidt, P̂ Q'ᵀ — is
/// computed here in one fixed order rather than by BLAS, whose bits may depend on its thread
/// count: every rank, whatever its cores, applies the same bits. Rank-local products (P, the
/// residual) use BLAS. Q is stored transposed, R × m, so rows are contiguous.
public final class PowerSGDStepReduction: StepReduction {
    /// [gradients | extra slots], memory of its own (the network's gradient arena).
    public let values: UnsafeMutableBufferPointer<Float>
    let rank: Int
    /// First sum: [P of each compressed matrix | everything else of `values`].
    let first: StepReduction
    /// Second sum: [Qᵀ of each compressed matrix].
    let second: StepReduction
    let factors: [Factor]
    /// The ranges of `values` sent exactly, and where each starts in `first`.
    let exact: [(range: Range<Int>, at: Int)]
    /// e of every compressed matrix, at its offset in `values` (zero elsewhere). This rank's own.
    let residual: UnsafeMutableBufferPointer<Float>
    /// Qᵀ of every compressed matrix, as in `second`. The same on every rank.
    let warmStart: UnsafeMutableBufferPointer<Float>

    /// A compressed matrix, and where its P and Qᵀ live in `first` and `second`.
    struct Factor {
        let matrix: GradientMatrix
        let p: Int, q: Int
    }

    /// Whether an n × m matrix is worth compressing at rank R.
    static func compresses(_ matrix: GradientMatrix, rank: Int) -> Bool {
        matrix.count >= 2 * rank * (matrix.rows + matrix.columns)
    }

    init(gradientCount: Int, extraSlots: Int, matrices: [GradientMatrix], rank: Int, seed: UInt64, plan: ReductionPlan,
         communicator: Communicator) {
        self.rank = rank
        let count = gradientCount + extraSlots
        values = .allocate(capacity: count)
        values.initialize(repeating: 0)
        var factors: [Factor] = [], pCount = 0, qCount = 0
        for matrix in matrices.sorted(by: { $0.offset < $1.offset }) where Self.compresses(matrix, rank: rank) {
            factors.append(Factor(matrix: matrix, p: pCount, q: qCount))
            pCount += matrix.rows * rank
            qCount += rank * matrix.columns
        }
        self.factors = factors
        var exact: [(range: Range<Int>, at: Int)] = [], next = 0, at = pCount
        for piece in factors.map({ $0.matrix.offset..<($0.matrix.offset + $0.matrix.count) }) + [count..<count] {
            if piece.lowerBound > next {
                exact.append((next..<piece.lowerBound, at))
                at += piece.lowerBound - next
            }
            next = piece.upperBound
        }
        self.exact = exact
        first = communicator.makeTreeSum(plan, count: at)
        second = communicator.makeTreeSum(plan, count: qCount)
        residual = .allocate(capacity: gradientCount)
        residual.initialize(repeating: 0)
        warmStart = .allocate(capacity: qCount)
        for (index, factor) in factors.enumerated() {
            var random = PortableRandom(seed: seed, stream: .powerSGD, index: UInt64(index))
            for i in 0..<(rank * factor.matrix.columns) { warmStart[factor.q + i] = Float(random.nextGaussian()) }
        }
    }

    deinit { values.deallocate(); residual.deallocate(); warmStart.deallocate() }

    public var carried: CarriedState { CarriedState(perRank: residual, shared: warmStart) }

    /// The floats each step sums over the ranks: both sums' buffers.
    public var floatsSummed: Int { first.values.count + second.values.count }

    public func sum() {
        let v = values.baseAddress!, e = residual.baseAddress!
        let p = first.values.baseAddress!, q = second.values.baseAddress!, start = warmStart.baseAddress!
        let r = rank
        for f in factors {
            let (n, m, at) = (f.matrix.rows, f.matrix.columns, f.matrix.offset)
            // E = G + e;  P = E Q  (n × m · m × R, Q = the warm start's Qᵀ transposed).
            for i in at..<(at + n * m) { v[i] += e[i] }
            Float.gemm(transA: false, transB: true, m: n, n: r, k: m, alpha: 1, a: v + at, lda: m,
                       b: start + f.q, ldb: m, beta: 0, c: p + f.p, ldc: r)
        }
        for piece in exact { (p + piece.at).update(from: v + piece.range.lowerBound, count: piece.range.count) }
        first.sum()
        for f in factors {
            let (n, m, at) = (f.matrix.rows, f.matrix.columns, f.matrix.offset)
            Self.orthonormalizeColumns(p + f.p, rows: n, columns: r)
            // This rank's Qᵀ = P̂ᵀ E (R × m), and e = E − P̂ Qᵀ: what its factors leave out.
            Float.gemm(transA: true, transB: false, m: r, n: m, k: n, alpha: 1, a: p + f.p, lda: r,
                       b: v + at, ldb: m, beta: 0, c: q + f.q, ldc: m)
            (e + at).update(from: v + at, count: n * m)
            Float.gemm(transA: false, transB: false, m: n, n: m, k: r, alpha: -1, a: p + f.p, lda: r,
                       b: q + f.q, ldb: m, beta: 1, c: e + at, ldc: m)
        }
        second.sum()
        for f in factors {
            let (n, m, at) = (f.matrix.rows, f.matrix.columns, f.matrix.offset)
            (start + f.q).update(from: q + f.q, count: r * m)
            Self.multiply(p + f.p, transposing: q + f.q, rows: n, columns: m, rank: r, into: v + at)
        }
        for piece in exact { (v + piece.range.lowerBound).update(from: p + piece.at, count: piece.range.count) }
    }

    /// Modified Gram–Schmidt on the columns of the row-major `rows × columns` matrix `a`, as the
    /// PowerSGD reference does: each column in turn is divided by its norm (+ 10⁻⁸, so a zero
    /// column stays zero), then its component is taken from the columns after it. Sums in
    /// Float64, in index order.
    static func orthonormalizeColumns(_ a: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        for c in 0..<columns {
            var squares = 0.0
            for i in 0..<rows { let x = Double(a[i * columns + c]); squares += x * x }
            let scale = Float(1 / (squares.squareRoot() + 1e-8))
            for i in 0..<rows { a[i * columns + c] *= scale }
            for d in (c + 1)..<max(c + 1, columns) {
                var dot = 0.0
                for i in 0..<rows { dot += Double(a[i * columns + c]) * Double(a[i * columns + d]) }
                let projection = Float(dot)
                for i in 0..<rows { a[i * columns + d] -= projection * a[i * columns + c] }
            }
        }
    }

    /// out = P̂ Q'ᵀ, out[i, j] = Σ_c p[i, c] · qT[c, j] for `p` (rows × rank) and `qT` = Q'ᵀ
    /// (rank × columns), added in c order: the same bits on every rank.
    static func multiply(_ p: UnsafePointer<Float>, transposing qT: UnsafePointer<Float>, rows: Int, columns: Int,
                         rank: Int, into out: UnsafeMutablePointer<Float>) {
        for i in 0..<rows {
            let row = out + i * columns, weights = p + i * rank
            let w0 = weights[0]
            for j in 0..<columns { row[j] = w0 * qT[j] }
            for c in 1..<max(1, rank) {
                let w = weights[c], line = qT + c * columns
                for j in 0..<columns { row[j] += w * line[j] }
            }
        }
    }
}
