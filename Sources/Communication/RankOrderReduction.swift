import Support

/// The reduction both shared-memory allreduces share (local mode's threads, and MPI ranks on one
/// node through a shared window): every rank's buffer is visible to every rank, and rank r owns
/// chunk r of the index range.
///
/// `reduceChunk` turns chunk `rank` of every buffer into the sum in rank order
/// (b₀ + b₁) + b₂ + … — the same order, hence the same bits, whichever process or thread computes
/// it. Call it between two barriers: after every rank has written its buffer, before any reads
/// the result.
enum RankOrderReduction {
    /// Sums chunk `rank` of `buffers` (each holding `count` values of type `T`, none nil) into
    /// `buffers[0]`, then copies it into every other buffer. Chunks of different ranks are
    /// disjoint, so ranks run this concurrently.
    static func reduceChunk<T: BinaryFloatingPoint>(_ buffers: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>,
                                                    of _: T.Type, count: Int, rank: Int) {
        let size = buffers.count
        let mine = evenShare(rank, of: count, parts: size), lo = mine.lowerBound, hi = mine.upperBound
        guard size > 1, lo < hi else { return }
        func chunk(_ r: Int) -> UnsafeMutablePointer<T> { buffers[r]!.assumingMemoryBound(to: T.self) + lo }
        let sum = chunk(0)
        for r in 1..<size {
            let term = UnsafePointer(chunk(r))
            for i in 0..<(hi - lo) { sum[i] += term[i] }
        }
        for r in 1..<size { chunk(r).update(from: sum, count: hi - lo) }
    }
}
