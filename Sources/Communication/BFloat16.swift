/// bfloat16: the upper 16 bits of an IEEE 754 binary32 — its sign, its 8-bit exponent and 7 of
/// its 23 fraction bits. A Float that is a bfloat16 number travels in 2 bytes without loss.
public enum BFloat16 {
    /// x rounded to the nearest bfloat16 number, ties to even (as a Float). NaN stays NaN or
    /// becomes ±∞; finite values past the largest bfloat16 become ±∞: non-finite either way.
    @inline(__always)
    public static func rounded(_ x: Float) -> Float {
        let bits = x.bitPattern
        return Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000)
    }

    /// Error feedback on a rank's contribution (`--grad-compression bf16`): with e = v + r,
    /// v ← bf16(e) and r ← e − bf16(e) (exact in binary32) for `count` values — what this rank
    /// does not send now it sends in a later step.
    public static func compress(_ values: UnsafeMutablePointer<Float>, residual: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let e = values[i] + residual[i]
            let q = rounded(e)
            residual[i] = e - q
            values[i] = q
        }
    }

    /// The second rounding, of the sum S: values ← bf16(S) for `count` values, and for the
    /// indices in `owned` also residual ← residual + (S − bf16(S)), so the owner feeds the
    /// error of the sum back once (`StepReduction.sumRoundingToBFloat16`).
    public static func round(_ values: UnsafeMutablePointer<Float>, count: Int, owned: Range<Int>,
                      residual: UnsafeMutablePointer<Float>) {
        for i in 0..<owned.lowerBound { values[i] = rounded(values[i]) }
        for i in owned {
            let s = values[i], t = rounded(s)
            residual[i] += s - t
            values[i] = t
        }
        for i in owned.upperBound..<max(count, owned.upperBound) { values[i] = rounded(values[i]) }
    }

    /// The upper halves of `count` bfloat16 numbers, into `wire`.
    public static func encode(_ values: UnsafePointer<Float>, count: Int, into wire: UnsafeMutablePointer<UInt16>) {
        let bits = UnsafeRawPointer(values).assumingMemoryBound(to: UInt32.self)
        for i in 0..<count { wire[i] = UInt16(truncatingIfNeeded: bits[i] >> 16) }
    }

    /// The Floats `encode` sent.
    public static func decode(_ wire: UnsafePointer<UInt16>, count: Int, into values: UnsafeMutablePointer<Float>) {
        let bits = UnsafeMutableRawPointer(values).assumingMemoryBound(to: UInt32.self)
        for i in 0..<count { bits[i] = UInt32(wire[i]) << 16 }
    }
}
