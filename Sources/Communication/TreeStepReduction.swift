import Support

/// The memory a block of ranks sums in: every rank's buffer is readable by all of the block's
/// ranks (threads of one process, or MPI ranks of one machine through a shared window), and
/// `barrier` makes the writes before it visible after it. A block of one rank is its own buffer.
public struct SharedBlock {
    /// Every block rank's buffer (`floats` floats each, zeroed), by rank within the block.
    public let slots: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>
    /// This rank's place in the block.
    public let rank: Int
    /// Floats every rank of the block sees at the same address (`shared` asked of the
    /// communicator), zeroed; nil when none were asked for.
    public let shared: UnsafeMutablePointer<Float>?
    public let barrier: () -> Void
    /// Frees what the block's user owns (called once, when it is done with the block).
    let release: () -> Void

    public init(slots: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>, rank: Int, shared: UnsafeMutablePointer<Float>?,
                barrier: @escaping () -> Void, release: @escaping () -> Void = {}) {
        self.slots = slots
        self.rank = rank
        self.shared = shared
        self.barrier = barrier
        self.release = release
    }
}

/// The messages a sum sends between blocks of ranks (MPI point-to-point; threads have none).
/// `reduce` turns this rank's part of its block's sum into its part of the sum over all blocks;
/// `gather` then brings the finished sum to the rest of the rank's part.
public protocol BlockExchange: AnyObject {
    /// The values [0, `prefix`) are bfloat16 numbers in every rank's contribution, and in the sum
    /// once rounded: they may travel as 2 bytes where a message carries such values. Allocates
    /// what that needs; called once, before the first sum.
    func prepareBFloat16(prefix: Int)
    func reduce(_ values: UnsafeMutablePointer<Float>, bfloat16Prefix: Int)
    func gather(_ values: UnsafeMutablePointer<Float>, bfloat16Prefix: Int)
}

/// The step's sum in the order of `ReductionTree`, for every transport but `MPI_Allreduce`'s
/// order: after a barrier, each rank of a block sums its `part` of the block's buffers in shared
/// memory (the block's subtree); an `exchange` with the other blocks, if any, completes the sum
/// over all blocks on that part; the rank copies its part into the block's other buffers; a
/// second barrier ends the sum. Threads and one shared window are one block and no exchange;
/// `--mpi-reduce flat` is blocks of one rank and only the exchange.
///
/// `sumAndUpdate` is the sharded step, for one block of every rank: rank r sums only its chunk of
/// the gradient and updates that chunk of the parameters and the optimizer's state (`arenas`, one
/// copy for all ranks) in one pass; no rank copies anything back. Allocates nothing per step.
public final class TreeStepReduction: StepReduction {
    public let values: UnsafeMutableBufferPointer<Float>
    private let block: SharedBlock
    private let exchange: BlockExchange?
    /// The indices of the block's sum this rank computes and copies to the block's other buffers.
    private let part: Range<Int>
    /// Every rank ends the exchange with the whole sum (recursive doubling, `MPI_Allreduce`), so
    /// each rounds the bfloat16 sum itself; else the owner of each index rounds it.
    private let everyRankCompletes: Bool
    /// `ReductionTree.ownedChunk`: where this rank keeps the rounding error of a compressed sum.
    public let ownedChunk: Range<Int>
    private let scratch: UnsafeMutableRawPointer?
    /// The last `tail` values (the step's statistics) are summed by every rank for itself in
    /// `sumAndUpdate`.
    private let tail: Int
    /// Shared by all ranks, `values.count − tail` floats each; rank r writes its `updateChunk` alone.
    public let arenas: [UnsafeMutableBufferPointer<Float>]
    /// The indices of the parameters this rank updates in `sumAndUpdate`.
    public let updateChunk: Range<Int>
    /// Shared: rank r's 1 when its chunk of the update was sound.
    private let flags: UnsafeMutablePointer<Float>?
    /// This rank's sum of the statistics, until it may write them into its own buffer.
    private let tailSum: UnsafeMutableBufferPointer<Float>
    /// The sum of the block being updated: `updateBlock` floats, in cache from the sum to the update.
    private let blockSum: UnsafeMutablePointer<Float>
    /// Indices of the update handed to the caller at once: their sum stays in cache from the
    /// sum to the optimizer, and is never written to memory.
    public static let updateBlock = 4096

    /// The shared floats `sumAndUpdate` needs: `arenas` buffers of `count − tail` floats, a flag per rank.
    public static func sharedFloats(count: Int, tail: Int, arenas: Int, ranks: Int) -> Int {
        arenas == 0 ? 0 : arenas * (count - tail) + ranks
    }

    /// `block`: the block's buffers of `count` floats, with `sharedFloats(…)` shared floats for
    /// `arenas` > 0 (one block of all `tree.ranks` ranks, no exchange); `part`: what this rank sums
    /// of the block's sum; `exchange`: the messages to the other blocks, if any.
    init(tree: ReductionTree, rank: Int, count: Int, block: SharedBlock, part: Range<Int>, exchange: BlockExchange?,
         everyRankCompletes: Bool, tail: Int = 0, arenas: Int = 0) {
        self.block = block
        self.exchange = exchange
        self.part = part
        self.everyRankCompletes = everyRankCompletes
        values = UnsafeMutableBufferPointer(start: block.slots[block.rank]!.assumingMemoryBound(to: Float.self), count: count)
        ownedChunk = tree.ownedChunk(rank, count: count)
        let bytes = ReductionTree.scratchBytes(terms: block.slots.count, of: Float.self)
        scratch = bytes > 0 ? .allocate(byteCount: bytes, alignment: 64) : nil
        self.tail = tail
        let width = count - tail
        self.arenas = (0..<arenas).map { UnsafeMutableBufferPointer(start: block.shared! + $0 * width, count: width) }
        flags = arenas > 0 ? block.shared! + arenas * width : nil
        updateChunk = tree.ownedChunk(rank, count: width)
        tailSum = .allocate(capacity: arenas > 0 ? max(1, tail) : 1)
        tailSum.initialize(repeating: 0)
        blockSum = .allocate(capacity: arenas > 0 ? Self.updateBlock : 1)
        blockSum.initialize(repeating: 0, count: arenas > 0 ? Self.updateBlock : 1)
    }

    deinit {
        scratch?.deallocate()
        tailSum.deallocate()
        blockSum.deallocate()
        block.release()
    }

    public func sum() { sum(bfloat16Prefix: 0, residual: nil) }

    /// Allocates now what `sumRoundingToBFloat16(prefix:…)` needs, so that no step allocates.
    func prepareBFloat16(prefix: Int) { exchange?.prepareBFloat16(prefix: prefix) }

    /// `sum()` for a buffer whose first `prefix` values are bfloat16 numbers (`BFloat16`): S, the
    /// sum in tree order, becomes bf16(S) there on every rank, and the rank owning index i
    /// (`ownedChunk`) adds S − bf16(S) to `residual[i]`. The same bits whatever the transport;
    /// only the bytes on the wire may be bfloat16. Collective.
    func sumRoundingToBFloat16(prefix: Int, residual: UnsafeMutablePointer<Float>) {
        sum(bfloat16Prefix: prefix, residual: residual)
    }

    private func sum(bfloat16Prefix prefix: Int, residual: UnsafeMutablePointer<Float>?) {
        let base = values.baseAddress!
        block.barrier()
        ReductionTree.sum(block.slots, offset: part.lowerBound, count: part.count, into: base + part.lowerBound, scratch: scratch)
        exchange?.reduce(base, bfloat16Prefix: prefix)
        if let residual, !everyRankCompletes { roundOwned(prefix: prefix, residual: residual) }
        exchange?.gather(base, bfloat16Prefix: prefix)
        for r in 0..<block.slots.count where r != block.rank && !part.isEmpty {
            (block.slots[r]!.assumingMemoryBound(to: Float.self) + part.lowerBound).update(from: base + part.lowerBound, count: part.count)
        }
        block.barrier()
        if let residual, everyRankCompletes {
            BFloat16.round(base, count: prefix, owned: ownedChunk.clamped(to: 0..<prefix), residual: residual)
        }
    }

    /// bf16(S) on this rank's owned chunk of the prefix, the error into its residual.
    private func roundOwned(prefix: Int, residual: UnsafeMutablePointer<Float>) {
        let owned = ownedChunk.clamped(to: 0..<prefix)
        guard !owned.isEmpty else { return }
        BFloat16.round(values.baseAddress! + owned.lowerBound, count: owned.count, owned: 0..<owned.count,
                       residual: residual + owned.lowerBound)
    }

    /// The sharded step. After the first barrier every rank sums the statistics (the tail) for
    /// itself; then for each block B of `updateChunk`: the sum of B in tree order, then
    /// `update(tail's sums, B, the sum of B)` (the sum's value for index i at i − B.lowerBound,
    /// in scratch memory the call may change), which updates index range B of the arenas,
    /// touches no other index of them, and returns whether the step is sound there (finite).
    /// After the second barrier the tail's sums are in `values`' tail, every rank sees every
    /// rank's update, and the result is whether every rank's every block was sound — when it is
    /// not, some blocks were updated and others not, and the caller must stop. Collective.
    public func sumAndUpdate(_ update: (_ tail: UnsafeMutableBufferPointer<Float>, _ block: Range<Int>,
                                        _ sum: UnsafeMutablePointer<Float>) -> Bool) -> Bool {
        let base = values.baseAddress!, width = values.count - tail, flags = flags!
        block.barrier()
        ReductionTree.sum(block.slots, offset: width, count: tail, into: tailSum.baseAddress!, scratch: scratch)
        var applies = true
        var start = updateChunk.lowerBound
        while start < updateChunk.upperBound {
            let range = start..<min(start + Self.updateBlock, updateChunk.upperBound)
            ReductionTree.sum(block.slots, offset: range.lowerBound, count: range.count, into: blockSum, scratch: scratch)
            applies = update(tailSum, range, blockSum) && applies
            start = range.upperBound
        }
        flags[block.rank] = applies ? 1 : 0
        block.barrier()
        (base + width).update(from: tailSum.baseAddress!, count: tail)
        for r in 0..<block.slots.count where flags[r] == 0 { return false }
        return true
    }
}
