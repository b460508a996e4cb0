import Support

/// Where a run's ranks are: the facts a `ReductionPlan` is made from, the same on every rank.
public enum RankPlacement: Sendable, Equatable {
    /// Local mode: this many threads of one process.
    case threads(Int)
    /// MPI ranks: `machines[r]` names rank r's machine (ranks with the same value share memory).
    case mpi(machines: [Int])

    public var ranks: Int {
        switch self {
        case .threads(let count): return count
        case .mpi(let machines): return machines.count
        }
    }
}

/// How every sum of a run travels, decided once from what every rank agrees on — the placement
/// of the ranks, `--mpi-reduce`, `--grad-compression` and whether the update is sharded — by
/// `init`, and built by one factory (`Communicator.makeStepSum`). Whatever the transport, every
/// sum adds in the order of `ReductionTree`, except through `MPI_Allreduce`.
public struct ReductionPlan: Sendable, Equatable, CustomStringConvertible {
    public enum Transport: Sendable, Equatable {
        /// One rank: nothing to sum.
        case alone
        /// Local mode's threads, in the process's memory.
        case threads
        /// MPI ranks all on one machine, in one MPI-3 shared-memory window.
        case sharedWindow
        /// Blocks of `blockRanks` ranks of one machine each sum in a shared window, and the
        /// blocks' sums meet by point-to-point messages.
        case hierarchical
        /// Every rank sends its own buffer: point-to-point messages only (`--mpi-reduce flat`,
        /// or machines whose ranks form no aligned blocks of 2).
        case pointToPoint
        /// `MPI_Allreduce`, in the order Open MPI picks (`--mpi-reduce allreduce`).
        case mpiAllreduce
    }

    /// What the step's sum sends.
    public enum Payload: Sendable, Equatable {
        case float32
        /// bfloat16 wherever the values are bfloat16 numbers (a rank's own contribution, the
        /// rounded sum); partial sums as float32.
        case bfloat16
        /// PowerSGD's factors P and Q, each an exact float32 sum of this plan's transport.
        case powerSGD(rank: Int)
    }

    /// How the messages between blocks run, chosen per sum by its size (`messages(count:)`).
    public enum Messages: Sendable, Equatable {
        /// None: one block holds every rank.
        case none
        /// Recursive halving then doubling: each rank of a block keeps a shrinking part of the
        /// sum, 2⌈log₂ B⌉ rounds for B blocks, each rank sending 2(B−1)/B of its part.
        case halving
        /// Recursive doubling: each block's first rank exchanges its block's whole sum, ⌈log₂ B⌉
        /// rounds of the whole buffer; fewer rounds, more bytes (small sums, or 2 blocks).
        case doubling
        /// `MPI_Allreduce`.
        case allreduce
    }

    public let ranks: Int
    public let transport: Transport
    /// Ranks that sum in shared memory together: the aligned blocks [j·L, (j+1)·L) of the tree,
    /// each on one machine (N or more: one block; 1: none).
    public let blockRanks: Int
    public let payload: Payload
    /// Ranks sharing memory keep one copy of the parameters and the optimizer's state, each
    /// updating its chunk (`TreeStepReduction.sumAndUpdate`).
    public let shardedUpdate: Bool
    /// The order of every sum.
    public let tree: ReductionTree
    /// How messages run whatever the size (`pinning(_:)`, for measuring each); nil: by the model.
    public private(set) var pinnedMessages: Messages? = nil

    /// The plan for `placement`; `shardsUpdate`: the update would be sharded where ranks share
    /// memory (`ReductionPlan.shardsUpdate`), which only an exact sum in one block does.
    public init(placement: RankPlacement, reduce: MPIReduction = .ordered, compression: GradientCompression = .none,
                shardsUpdate: Bool = false) {
        ranks = placement.ranks
        tree = ReductionTree(ranks: ranks)
        switch compression {
        case .none: payload = .float32
        case .bfloat16: payload = .bfloat16
        case .powerSGD(let rank): payload = .powerSGD(rank: rank)
        }
        let everyBlock = 1 << tree.levels
        switch placement {
        case _ where ranks == 1:
            (transport, blockRanks) = (.alone, 1)
        case .threads:
            (transport, blockRanks) = (.threads, everyBlock)
        case .mpi(let machines):
            switch reduce {
            case .allreduce: (transport, blockRanks) = (.mpiAllreduce, 1)
            case .flat: (transport, blockRanks) = (.pointToPoint, 1)
            case .ordered:
                let block = Self.blockRanks(machines: machines)
                blockRanks = block
                transport = block >= ranks ? .sharedWindow : block == 1 ? .pointToPoint : .hierarchical
            }
        }
        shardedUpdate = shardsUpdate && payload == .float32 && (transport == .threads || transport == .sharedWindow)
    }

    /// The largest L = 2ᵏ for which every aligned block of L ranks, [j·L, (j+1)·L) ∩ [0, N), runs
    /// on one machine: each block is a subtree of `ReductionTree`, summed in shared memory.
    static func blockRanks(machines: [Int]) -> Int {
        var size = 1 << ReductionTree(ranks: machines.count).levels
        while size > 1 {
            let blocks = stride(from: 0, to: machines.count, by: size).map { machines[$0..<min($0 + size, machines.count)] }
            if blocks.allSatisfy({ block in block.allSatisfy { $0 == block.first } }) { return size }
            size /= 2
        }
        return 1
    }

    /// The blocks of `blockRanks` ranks, ⌈N / L⌉.
    public var blocks: Int { (ranks + blockRanks - 1) / blockRanks }

    /// How a sum of `count` floats crosses between blocks: by recursive doubling when the α–β
    /// model (`LinkModel.measured`) says its fewer rounds win over halving's fewer bytes and
    /// smaller messages (small sums; between 2 blocks, all but messages past the model's knee),
    /// else by halving.
    public func messages(count: Int) -> Messages {
        switch transport {
        case .alone, .threads, .sharedWindow: return .none
        case .mpiAllreduce: return .allreduce
        case .hierarchical, .pointToPoint:
            if let pinnedMessages { return pinnedMessages }
            let bytes = Double(4 * count), model = LinkModel.measured
            return model.doublingSeconds(blocks: blocks, bytes: bytes) <= model.halvingSeconds(blocks: blocks, bytes: bytes)
                ? .doubling : .halving
        }
    }

    /// This plan with its messages between blocks run by `messages` (halving or doubling) whatever
    /// a sum's size: the same bits, for measuring each (bench/alphabeta).
    public func pinning(_ messages: Messages) -> ReductionPlan {
        var plan = self
        plan.pinnedMessages = messages
        return plan
    }

    /// Whether ranks that share memory should keep one copy of the parameters and the optimizer's
    /// state (`parameterCount` × (1 + `stateCount`) floats) rather than one each: when the copies
    /// per core would outgrow a core's own cache. Below that each rank's copy stays in its cache
    /// from step to step and sharing lost (bench/RESULTS.md, run 14).
    public static func shardsUpdate(parameterCount: Int, ranksOnMachine: Int) -> Bool {
        let copiesPerCore = (ranksOnMachine + Cores.online - 1) / Cores.online
        return 4 * parameterCount * copiesPerCore > Cores.privateCacheBytes
    }

    public var description: String {
        let order = transport == .mpiAllreduce ? "Open MPI's order" : "tree order"
        let how: String
        switch transport {
        case .alone: return "sum: none (one rank)"
        case .threads: how = "threads' shared memory"
        case .sharedWindow: how = "one MPI shared window"
        case .hierarchical: how = "shared windows of \(blockRanks) ranks, point-to-point across \(blocks) of them"
        case .pointToPoint: how = "point-to-point"
        case .mpiAllreduce: how = "MPI_Allreduce"
        }
        let sends: String
        switch payload {
        case .float32: sends = "float32"
        case .bfloat16: sends = "bf16"
        case .powerSGD(let rank): sends = "powersgd:\(rank) factors"
        }
        return "sum: \(how), \(order), \(sends)" + (shardedUpdate ? ", sharded update" : "")
    }
}

/// The time of one message of b bytes between blocks: α + β·b (Hockney's model) up to a knee
/// K, and α + β·K + β′·(b − K) beyond it — on the test hosts here, one-core network namespaces
/// of a VM, the bytes of a message past ~768 KiB went at less than half the speed of those before
/// (bench/RESULTS.md, run 16). From it, the time of a sum's messages across B blocks.
public struct LinkModel: Sendable, Equatable {
    /// Seconds per message, per byte up to `knee` bytes, and per byte beyond it.
    public let alpha: Double, beta: Double, knee: Double, betaAbove: Double

    public init(alpha: Double, beta: Double, knee: Double = .infinity, betaAbove: Double = 0) {
        self.alpha = alpha
        self.beta = beta
        self.knee = knee
        self.betaAbove = betaAbove
    }

    /// Measured between two pinned hosts of launch/cluster over their unshaped link (bench/alphabeta,
    /// bench/RESULTS.md run 16).
    public static let measured = LinkModel(alpha: 6.9e-6, beta: 0.30e-9, knee: 768 * 1024, betaAbove: 0.79e-9)

    /// One message of `bytes`.
    public func seconds(message bytes: Double) -> Double {
        alpha + beta * min(bytes, knee) + betaAbove * max(0, bytes - knee)
    }

    static func rounds(_ blocks: Int) -> Int { ReductionTree(ranks: max(1, blocks)).levels }

    /// Recursive halving and doubling: ⌈log₂ B⌉ rounds each way, the message halving each round.
    public func halvingSeconds(blocks: Int, bytes: Double) -> Double {
        (0..<Self.rounds(blocks)).reduce(0) { total, k in total + 2 * seconds(message: bytes / Double(2 << k)) }
    }

    /// Recursive doubling: ⌈log₂ B⌉ rounds of the whole buffer.
    public func doublingSeconds(blocks: Int, bytes: Double) -> Double {
        Double(Self.rounds(blocks)) * seconds(message: bytes)
    }
}
