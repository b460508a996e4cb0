import Support

/// The step's sum as the training step runs it: the whole sum, after which every rank updates
/// all of its parameters; or the sharded sum, which updates each rank's chunk of one shared copy.
public enum StepSum {
    case whole(StepReduction)
    case sharded(TreeStepReduction)

    public var reduction: StepReduction {
        switch self {
        case .whole(let reduction): return reduction
        case .sharded(let reduction): return reduction
        }
    }
}

extension Communicator {
    /// The one factory of a run's sums. The step's sum of [gradients (`gradientCount` floats, with
    /// these `matrices`) | `extraSlots` floats summed exactly] by `plan`: its payload (exact,
    /// bfloat16, PowerSGD's factors; `seed` starts PowerSGD's warm start) over its transport; with
    /// `plan.shardedUpdate`, `arenas` shared buffers of `gradientCount` floats for the parameters
    /// and the optimizer's state. Collective.
    public func makeStepSum(_ plan: ReductionPlan, gradientCount: Int, extraSlots: Int, matrices: [GradientMatrix],
                            seed: UInt64, arenas: Int = 0) -> StepSum {
        let count = gradientCount + extraSlots
        switch plan.payload {
        case .float32:
            guard plan.shardedUpdate, arenas > 0 else { return .whole(makeTreeSum(plan, count: count)) }
            return .sharded(makeTreeSum(plan, count: count, tail: extraSlots, arenas: arenas))
        case .bfloat16:
            return .whole(BFloat16StepReduction(base: makeTreeSum(plan, count: count), gradientCount: gradientCount))
        case .powerSGD(let rank):
            return .whole(PowerSGDStepReduction(gradientCount: gradientCount, extraSlots: extraSlots, matrices: matrices,
                                                rank: rank, seed: seed, plan: plan, communicator: self))
        }
    }

    /// An exact sum of `count` floats over `plan`'s transport (`TreeStepReduction`): this rank's
    /// block, the part of the block's sum it computes — its owned chunk when the block holds every
    /// rank; its part at the block's level of the tree for recursive halving; everything for the
    /// block's first rank for recursive doubling — and its messages. Collective.
    public func makeTreeSum(_ plan: ReductionPlan, count: Int, tail: Int = 0, arenas: Int = 0) -> TreeStepReduction {
        let messages = plan.messages(count: count)
        let block = sharedBlock(plan, floats: count,
                                shared: TreeStepReduction.sharedFloats(count: count, tail: tail, arenas: arenas, ranks: worldSize))
        let part: Range<Int>
        switch messages {
        case .none: part = plan.tree.ownedChunk(rank, count: count)
        case .halving: part = plan.tree.holding(rank, level: plan.blockRanks.trailingZeroBitCount, count: count)
        case .doubling: part = block.rank == 0 ? 0..<count : 0..<0
        case .allreduce: part = 0..<count
        }
        return TreeStepReduction(tree: plan.tree, rank: rank, count: count, block: block, part: part,
                                 exchange: exchange(plan, count: count),
                                 everyRankCompletes: messages == .doubling || messages == .allreduce, tail: tail, arenas: arenas)
    }
}

/// `--grad-compression bf16`: each rank sends bf16(g + r) and keeps r ← (g + r) − bf16(g + r);
/// the sum S (exact, in tree order, of bfloat16 numbers) comes back as bf16(S), its owner keeping
/// S − bf16(S) in its residual. Messages that carry bfloat16 numbers — a rank's own contribution,
/// the rounded sum — carry 2 bytes a value; partial sums travel as float32.
final class BFloat16StepReduction: StepReduction {
    let base: TreeStepReduction
    let gradientCount: Int
    let residual: UnsafeMutableBufferPointer<Float>

    init(base: TreeStepReduction, gradientCount: Int) {
        self.base = base
        self.gradientCount = gradientCount
        residual = .allocate(capacity: gradientCount)
        residual.initialize(repeating: 0)
        base.prepareBFloat16(prefix: gradientCount)
    }

    deinit { residual.deallocate() }

    var values: UnsafeMutableBufferPointer<Float> { base.values }
    var carried: CarriedState { CarriedState(perRank: residual) }

    func sum() {
        guard let v = base.values.baseAddress, let r = residual.baseAddress else { return base.sum() }
        BFloat16.compress(v, residual: r, count: gradientCount)
        base.sumRoundingToBFloat16(prefix: gradientCount, residual: r)
    }
}
