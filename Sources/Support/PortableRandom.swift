/// A pseudo-random generator whose output is the same on every platform, compiler and run:
/// xoshiro256** (Blackman & Vigna, 2018) seeded through SplitMix64.
///
/// Everything random in training (parameter initialisation, the epoch permutation, synthetic
/// data) comes from one of these, derived from `(seed, stream, index)` so that, for example,
/// the permutation of epoch `e` is a pure function of `(seed, e)` on every rank.
public struct PortableRandom: Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Purposes that must never share a sequence.
    public enum Stream: UInt64, Sendable {
        case permutation = 1, initialization = 2, syntheticTrain = 3, syntheticTest = 4, gradientCheck = 5, powerSGD = 6, validation = 7
        case blockPermutation = 8, blockWindow = 9
    }

    /// A generator for `stream` number `index` (e.g. the epoch) under the user's `seed`.
    public init(seed: UInt64, stream: Stream, index: UInt64 = 0) {
        var mixer = seed
        mixer ^= PortableRandom.splitMix(&mixer) ^ (stream.rawValue &* 0x9E37_79B9_7F4A_7C15)
        mixer ^= PortableRandom.splitMix(&mixer) ^ (index &* 0xD1B5_4A32_D192_ED03)
        s0 = PortableRandom.splitMix(&mixer)
        s1 = PortableRandom.splitMix(&mixer)
        s2 = PortableRandom.splitMix(&mixer)
        s3 = PortableRandom.splitMix(&mixer)
    }

    /// SplitMix64 (Steele, Lea & Flood, 2014): advances `state` and returns a well-mixed word.
    @inlinable
    static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 uniformly distributed bits (xoshiro256**).
    @inlinable
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire, 2019). `bound` must be > 0.
    @inlinable
    public mutating func next(below bound: Int) -> Int {
        precondition(bound > 0, "PortableRandom.next(below:) needs a positive bound")
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inlinable
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform double in [low, high).
    @inlinable
    public mutating func next(in low: Double, _ high: Double) -> Double {
        low + (high - low) * nextUnit()
    }

    /// A standard normal deviate by the polar Box–Muller method (uses only +, ×, log, sqrt).
    public mutating func nextGaussian() -> Double {
        while true {
            let u = 2 * nextUnit() - 1, v = 2 * nextUnit() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * (-2 * naturalLog(s) / s).squareRoot() }
        }
    }
}

/// Natural logarithm without Foundation, by argument reduction and the atanh series, so the
/// Gaussian deviates are the same wherever the program runs. Accurate to ~1 ulp on (0, 1).
@usableFromInline
func naturalLog(_ x: Double) -> Double {
    let ln2 = 0.693_147_180_559_945_309_417_232_121_458
    var m = x.significand          // in [1, 2)
    var e = Double(x.exponent)
    if m > 1.414_213_562_373_095 { m /= 2; e += 1 }
    let z = (m - 1) / (m + 1), z2 = z * z
    var term = z, sum = 0.0, k = 1.0
    while true {
        let next = sum + term / k
        if next == sum { break }
        sum = next; term *= z2; k += 2
    }
    return 2 * sum + e * ln2
}
