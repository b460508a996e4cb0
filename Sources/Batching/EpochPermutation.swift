import Support

/// The sample order of epoch `epoch`: Fisher–Yates over 0..<count driven by
/// PortableRandom(seed: seed, stream: .permutation, index: UInt64(epoch)). A pure function of
/// (count, seed, epoch), so every rank computes the same order without talking.
///
/// `count` must be in 0...Int32.max (loaders guarantee it: `Dataset.maximumSampleCount`);
/// a negative epoch is used by its two's-complement bit pattern.
public func epochPermutation(count: Int, seed: UInt64, epoch: Int) -> [Int32] {
    seededPermutation(count: count, seed: seed, stream: .permutation, index: UInt64(truncatingIfNeeded: epoch))
}

/// Fisher–Yates over 0..<count driven by PortableRandom(seed:stream:index:) — `epochPermutation`
/// and the choice of the validation samples (`--validation`). `count` must be in 0...Int32.max.
public func seededPermutation(count: Int, seed: UInt64, stream: PortableRandom.Stream, index: UInt64 = 0) -> [Int32] {
    precondition(count >= 0 && count <= Int(Int32.max), "seededPermutation: count \(count) outside 0...Int32.max")
    var random = PortableRandom(seed: seed, stream: stream, index: index)
    var order = Array(0..<Int32(count))
    var last = count - 1
    while last > 0 {
        order.swapAt(last, random.next(below: last + 1))
        last -= 1
    }
    return order
}
