import COpenBLAS
import RealModule

/// The element types the kernel core computes in: `Float` for training, `Double` for gradient
/// checks. Each brings its BLAS matrix product and its IEEE 754 encoding.
public protocol Scalar: Real, BinaryFloatingPoint, Sendable {
    /// C ← α·op(A)·op(B) + β·C for row-major matrices, op(X) = Xᵀ when `transX`;
    /// op(A) is m×k, op(B) is k×n, C is m×n (`cblas_sgemm` / `cblas_dgemm`).
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// An unsigned integer as wide as the type.
    associatedtype Encoding: FixedWidthInteger & UnsignedInteger
    /// The IEEE 754 encoding (`bitPattern`).
    var encoding: Encoding { get }
}

extension Scalar {
    /// The encoding's exponent field, all ones: exactly the encodings of NaN and ±∞ have it all set.
    @inlinable
    static var exponentMask: Encoding {
        ((1 << Encoding(exponentBitCount)) - 1) << Encoding(significandBitCount)
    }

    /// Whether none of `count` values is NaN or ±∞ — by the exponent bits, an integer max that
    /// vectorises, where a floating-point sum could not.
    @inlinable
    public static func allFinite(_ values: UnsafePointer<Self>, count: Int) -> Bool {
        let mask = exponentMask
        var largest: Encoding = 0
        for i in 0..<count { largest = Swift.max(largest, values[i].encoding & mask) }
        return largest != mask
    }

    /// `values[i] ← scale · values[i]` for `count` values, and whether none of the results is NaN
    /// or ±∞ — `allFinite` fused into the same pass.
    @inlinable
    public static func scaleCheckingFinite(_ values: UnsafeMutablePointer<Self>, count: Int, by scale: Self) -> Bool {
        let mask = exponentMask
        var largest: Encoding = 0
        for i in 0..<count {
            let v = values[i] * scale
            values[i] = v
            largest = Swift.max(largest, v.encoding & mask)
        }
        return largest != mask
    }
}

@usableFromInline
func cblasTranspose(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: Scalar {
    @inlinable
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, cblasTranspose(transA), cblasTranspose(transB),
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda),
                    b, blasint(ldb), beta, c, blasint(ldc))
    }

    @inlinable public var encoding: UInt32 { bitPattern }
}

extension Double: Scalar {
    @inlinable
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(CblasRowMajor, cblasTranspose(transA), cblasTranspose(transB),
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda),
                    b, blasint(ldb), beta, c, blasint(ldc))
    }

    @inlinable public var encoding: UInt64 { bitPattern }
}

/// The number of threads OpenBLAS uses for every matrix product of this process.
public enum BLASThreads {
    public static func set(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }
}

/// The kernels OpenBLAS runs, and a better choice when it fell back to generic ones.
///
/// A DYNAMIC_ARCH OpenBLAS picks its kernels by the CPU's model number when it loads, and a CPU
/// newer than the library gets its SSE3 "Prescott" kernels, several times slower than the
/// AVX2 or AVX-512 ones the CPU can run (Debian 12's OpenBLAS on an Emerald Rapids Xeon:
/// bench/RESULTS.md, run 12). The choice can be changed only before the library loads, by
/// `OPENBLAS_CORETYPE`.
public enum BLASKernels {
    /// OpenBLAS's name for the kernels it runs (`openblas_get_corename`), e.g. "SkylakeX".
    public static var name: String { String(cString: openblas_get_corename()) }

    /// Kernels OpenBLAS falls back to for a CPU it does not know.
    static let fallbacks: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Unknown"]

    /// The `OPENBLAS_CORETYPE` that runs faster kernels than `current` on a CPU with these
    /// `flags` (as /proc/cpuinfo names them), or nil when `current` is OpenBLAS's own good choice.
    public static func better(than current: String, cpuFlags flags: Set<String>) -> String? {
        guard fallbacks.contains(current) else { return nil }
        if flags.isSuperset(of: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }
}
