import Support

/// How an epoch is cut into global batches and each global batch into rank slices.
///
/// Positions refer to the epoch's permutation (see `epochPermutation`): global batch `step`
/// covers positions `step*batchSize ..< min((step+1)*batchSize, sampleCount)`; the last batch
/// may be smaller and is never dropped or padded.
public struct BatchPlan: Sendable, Equatable {
    /// Samples in one epoch.
    public let sampleCount: Int
    /// Samples in one global batch (over all ranks).
    public let batchSize: Int

    /// A plan for `sampleCount` samples in batches of `batchSize`; both must be ≥ 1 (the caller validated).
    public init(sampleCount: Int, batchSize: Int) {
        precondition(sampleCount >= 1 && batchSize >= 1, "BatchPlan needs sampleCount ≥ 1 and batchSize ≥ 1")
        self.sampleCount = sampleCount
        self.batchSize = batchSize
    }

    /// Global batches per epoch: ceil(sampleCount / batchSize).
    public var stepsPerEpoch: Int {
        sampleCount / batchSize + (sampleCount % batchSize == 0 ? 0 : 1)
    }

    /// The positions in the permutation that global batch `step` (0..<stepsPerEpoch) covers.
    public func globalBatch(step: Int) -> Range<Int> {
        precondition(step >= 0 && step < stepsPerEpoch, "BatchPlan.globalBatch: step \(step) outside 0..<\(stepsPerEpoch)")
        let low = step * batchSize  // ≤ sampleCount, as step < stepsPerEpoch
        return low..<(low + Swift.min(batchSize, sampleCount - low))
    }

    /// Rank `rank`'s contiguous part of global batch `step`: [lo + r*b/W, lo + (r+1)*b/W) with
    /// b the batch's size (integer division). Over the ranks 0..<worldSize the slices partition
    /// the batch in order; their sizes differ by at most one, and may be empty when b < W.
    public func slice(step: Int, rank: Int, worldSize: Int) -> Range<Int> {
        precondition(worldSize >= 1 && rank >= 0 && rank < worldSize,
                     "BatchPlan.slice: rank \(rank) outside 0..<\(worldSize)")
        let batch = globalBatch(step: step)
        let share = evenShare(rank, of: batch.count, parts: worldSize)
        return (batch.lowerBound + share.lowerBound)..<(batch.lowerBound + share.upperBound)
    }
}
