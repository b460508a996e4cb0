import Support

/// The step's reduction for ranks that see each other's memory — local mode's threads, and MPI
/// ranks of one machine through a shared window: every rank's buffer (`slots[r]`, its `values`)
/// is readable by all, and `barrier` makes the writes before it visible after it.
///
/// `sum()` is the plain sum: rank r adds chunk r of every buffer in rank order and copies it
/// into every buffer. `sumAndUpdate` is the sharded step: rank r sums only its chunk of the
/// gradient (`updateChunk`) and updates that chunk of what every rank reads from the shared
/// `arenas` — the parameters and the optimizer's state, one copy for all ranks — in one pass
/// over the chunk; no rank copies anything back. A rank touches 1/N of the parameters per step
/// instead of all of them. Both add in the order of `RankOrderReduction`, so they give the same
/// bits as each other, as N threads and as N ranks anywhere.
public final class SharedMemoryStepReduction: StepReduction {
    public let values: UnsafeMutableBufferPointer<Float>
    /// Every rank's buffer, `slots[rank]` is `values`.
    private let slots: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>
    private let rank: Int
    /// The last `tail` values (the step's statistics) are summed by every rank for itself.
    private let tail: Int
    /// Shared by all ranks, `values.count − tail` floats each; rank r writes chunk r alone, in
    /// `sumAndUpdate`.
    public let arenas: [UnsafeMutableBufferPointer<Float>]
    /// Shared: rank r's 1 when its chunk of the update was sound.
    private let flags: UnsafeMutablePointer<Float>
    /// This rank's sum of the statistics, until it may write them into its own buffer.
    private let tailSum: UnsafeMutableBufferPointer<Float>
    /// The sum of the block being updated: `block` floats, in cache from the sum to the update.
    private let blockSum: UnsafeMutablePointer<Float>
    private let barrier: () -> Void
    /// Runs at deinit (frees what only this rank's reduction uses).
    private let release: () -> Void
    public let ownedChunk: Range<Int>
    /// The indices of the parameters this rank updates: `evenShare(rank, of: count − tail)`.
    public let updateChunk: Range<Int>
    /// Indices of the update handed to the caller at once: their sum stays in cache from the
    /// sum to the optimizer, and is never written to memory.
    public static let block = 4096

    /// The floats of shared memory `init` needs: `arenas` buffers of `count − tail` floats, then
    /// a flag per rank.
    public static func sharedFloats(count: Int, tail: Int, arenas: Int, ranks: Int) -> Int {
        arenas * (count - tail) + ranks
    }

    /// `slots`: the ranks' buffers of `count` floats (copied); `shared`: `sharedFloats` floats
    /// every rank sees at the same address, ranks' `count`-float buffers and
    /// the shared floats all zeroed before the first barrier; `barrier` keeps alive what owns the
    /// shared memory; `release` runs at deinit.
    init(slots: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>, rank: Int, count: Int, tail: Int,
         shared: UnsafeMutablePointer<Float>, arenas: Int, barrier: @escaping () -> Void,
         release: @escaping () -> Void = {}) {
        let size = slots.count
        self.slots = .allocate(capacity: size)
        _ = self.slots.initialize(from: slots)
        self.rank = rank
        self.tail = tail
        values = UnsafeMutableBufferPointer(start: slots[rank]!.assumingMemoryBound(to: Float.self), count: count)
        let width = count - tail
        self.arenas = (0..<arenas).map { UnsafeMutableBufferPointer(start: shared + $0 * width, count: width) }
        flags = shared + arenas * width
        tailSum = .allocate(capacity: max(1, tail))
        tailSum.initialize(repeating: 0)
        blockSum = .allocate(capacity: Self.block)
        blockSum.initialize(repeating: 0, count: Self.block)
        self.barrier = barrier
        self.release = release
        ownedChunk = evenShare(rank, of: count, parts: size)
        updateChunk = evenShare(rank, of: width, parts: size)
    }

    deinit {
        slots.deallocate()
        tailSum.deallocate()
        blockSum.deallocate()
        release()
    }

    public func sum() {
        barrier()
        RankOrderReduction.reduceChunk(slots, of: Float.self, count: values.count, rank: rank)
        barrier()
    }

    /// The sharded step. After the first barrier every rank sums the statistics (the tail) for
    /// itself; then for each block B of `updateChunk`: the sum of B in rank order, then
    /// `update(tail's sums, B, the sum of B)` (the sum's value for index i at i − B.lowerBound,
    /// in scratch memory the call may change), which updates index range B of the arenas,
    /// touches no other index of them, and returns whether the step is sound there (finite).
    /// After the second barrier the tail's sums are in `values`' tail, every rank sees every
    /// rank's update, and the result is whether every rank's every block was sound — when it is
    /// not, some blocks were updated and others not, and the caller must stop. Collective.
    public func sumAndUpdate(_ update: (_ tail: UnsafeMutableBufferPointer<Float>, _ block: Range<Int>,
                                        _ sum: UnsafeMutablePointer<Float>) -> Bool) -> Bool {
        let base = values.baseAddress!, width = values.count - tail
        barrier()
        RankOrderReduction.sum(slots, offset: width, count: tail, into: tailSum.baseAddress!)
        var applies = true
        var start = updateChunk.lowerBound
        while start < updateChunk.upperBound {
            let block = start..<min(start + Self.block, updateChunk.upperBound)
            RankOrderReduction.sum(slots, offset: block.lowerBound, count: block.count, into: blockSum)
            applies = update(tailSum, block, blockSum) && applies
            start = block.upperBound
        }
        flags[rank] = applies ? 1 : 0
        barrier()
        (base + width).update(from: tailSum.baseAddress!, count: tail)
        for r in 0..<slots.count where flags[r] == 0 { return false }
        return true
    }
}

