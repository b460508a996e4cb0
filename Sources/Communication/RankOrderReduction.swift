import Support

/// The one order in which every sum across ranks adds: (((b₀ + b₁) + b₂) + …) element by element,
/// rank by rank — local mode's threads, MPI ranks on one node through a shared window, and MPI
/// ranks on any number of nodes through the ordered reduce-scatter (`OrderedStepReduction`). The
/// same order gives the same bits, whichever process, thread or machine computes it, and however
/// the index range is cut into chunks: N ranks anywhere sum like N threads.
enum RankOrderReduction {
    /// With tᵣ = `terms[r]` + `offset` as `T`s: t₀[i] ← ((t₀[i] + t₁[i]) + t₂[i]) + … for i in 0..<count.
    @inline(__always)
    static func accumulate<T: BinaryFloatingPoint>(_ terms: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>,
                                                   of _: T.Type, offset: Int, count: Int) {
        guard terms.count > 1, count > 0 else { return }
        let sum = terms[0]!.assumingMemoryBound(to: T.self) + offset
        for r in 1..<terms.count {
            let term = UnsafePointer(terms[r]!.assumingMemoryBound(to: T.self) + offset)
            for i in 0..<count { sum[i] += term[i] }
        }
    }

    /// For buffers every rank can see (threads, a shared window), rank r owning chunk r of the
    /// index range (`evenShare`): turns chunk `rank` of every buffer (each holding `count`
    /// values of type `T`, none nil) into the sum in rank order, in `buffers[0]` and then every
    /// other buffer. Chunks of different ranks are disjoint, so ranks run this concurrently;
    /// call it between two barriers: after every rank has written its buffer, before any reads
    /// the result.
    static func reduceChunk<T: BinaryFloatingPoint>(_ buffers: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>,
                                                    of _: T.Type, count: Int, rank: Int) {
        let size = buffers.count
        let mine = evenShare(rank, of: count, parts: size)
        guard size > 1, !mine.isEmpty else { return }
        accumulate(buffers, of: T.self, offset: mine.lowerBound, count: mine.count)
        let sum = buffers[0]!.assumingMemoryBound(to: T.self) + mine.lowerBound
        for r in 1..<size { (buffers[r]!.assumingMemoryBound(to: T.self) + mine.lowerBound).update(from: sum, count: mine.count) }
    }
}
