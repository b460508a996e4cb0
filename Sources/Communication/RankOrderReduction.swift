import Support

/// The one order in which every sum across ranks adds: (((b₀ + b₁) + b₂) + …) element by element,
/// rank by rank — local mode's threads, MPI ranks on one node through a shared window, and MPI
/// ranks on any number of nodes through the ordered reduce-scatter (`OrderedStepReduction`). The
/// same order gives the same bits, whichever process, thread or machine computes it, and however
/// the index range is cut into chunks: N ranks anywhere sum like N threads.
enum RankOrderReduction {
    /// d[i] ← ((t₀[i] + t₁[i]) + t₂[i]) + … for i in 0..<count, with tᵣ = `terms[r]` + `offset` as
    /// `T`s, into `destination`, which may be one of the terms: each element's terms are read
    /// before it is written.
    @inline(__always)
    static func sum<T: BinaryFloatingPoint>(_ terms: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>, offset: Int,
                                            count: Int, into destination: UnsafeMutablePointer<T>) {
        guard count > 0 else { return }
        func term(_ r: Int) -> UnsafePointer<T> { UnsafePointer(terms[r]!.assumingMemoryBound(to: T.self) + offset) }
        let d = destination
        switch terms.count {
        case 1:
            if d != term(0) { d.update(from: term(0), count: count) }
        case 2:
            let (t0, t1) = (term(0), term(1))
            for i in 0..<count { d[i] = t0[i] + t1[i] }
        case 3:
            let (t0, t1, t2) = (term(0), term(1), term(2))
            for i in 0..<count { d[i] = (t0[i] + t1[i]) + t2[i] }
        case 4:
            let (t0, t1, t2, t3) = (term(0), term(1), term(2), term(3))
            for i in 0..<count { d[i] = ((t0[i] + t1[i]) + t2[i]) + t3[i] }
        case _ where (1..<terms.count).allSatisfy({ term($0) != UnsafePointer(d) }):
            // Term by term: d ← t₀, then d += tᵣ in rank order.
            if d != term(0) { d.update(from: term(0), count: count) }
            for r in 1..<terms.count {
                let t = term(r)
                for i in 0..<count { d[i] += t[i] }
            }
        default:
            // Into a later term: element by element, so that term is read before it is written.
            for i in 0..<count {
                var s = term(0)[i]
                for r in 1..<terms.count { s += term(r)[i] }
                d[i] = s
            }
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
        let sum = buffers[0]!.assumingMemoryBound(to: T.self) + mine.lowerBound
        self.sum(buffers, offset: mine.lowerBound, count: mine.count, into: sum)
        for r in 1..<size { (buffers[r]!.assumingMemoryBound(to: T.self) + mine.lowerBound).update(from: sum, count: mine.count) }
    }
}
