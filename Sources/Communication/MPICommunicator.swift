import CMPI
import Foundation
import Support

/// The communicator of one MPI rank in `MPI_COMM_WORLD`: the step's shared memory (a window per
/// block of ranks on one machine), its messages (`TreeExchange`, `MPI_Allreduce`), and the
/// collectives of start-up, evaluation and checkpoints. With `TreeExchange`, the only code
/// that calls MPI.
///
/// Create at most one per process (MPI cannot be initialised twice) and call `finalize()` before
/// a normal exit: Open MPI's launcher reports an exit without `MPI_Finalize` as a failure.
public final class MPICommunicator: Communicator {
    /// How a rank waits for the others: at the barriers of a block's shared window, for its
    /// messages, and in the collectives.
    public enum Wait: String, Sendable, CaseIterable {
        /// `MPI_Barrier`, `MPI_Waitall`, `MPI_Allgather`, `MPI_Allreduce` (Open MPI polls; it
        /// yields between polls when ranks outnumber cores, `yieldsWhenOutnumbered`). The
        /// default: the fastest measured here with a core per rank and with 4 ranks on 2 cores
        /// alike (bench/RESULTS.md, runs 1–3).
        case block
        /// Their nonblocking forms, then `MPI_Testall` with a short sleep between tests: a
        /// waiting rank gives its core away. It won only while other processes loaded the machine.
        case sleep
    }

    public let rank: Int
    public let worldSize: Int
    public let ranksOnThisNode: Int
    /// How many ranks on this node may run on exactly this rank's cores (`Cores.available`).
    public let ranksSharingCores: Int
    public let placement: RankPlacement
    public var summary: String {
        (worldSize == 1 ? "1 MPI rank" : "\(worldSize) MPI ranks")
            + (yields ? ", waits yield (\(ranksOnThisNode) ranks on \(Cores.available) core(s))" : "")
    }
    let world: MPI_Comm
    /// The communicator of this rank's block, by block size (`sharedBlock`).
    private var blocks: [Int: MPI_Comm?] = [:]
    /// Every shared window made, freed at `finalize`.
    private var windows: [MPI_Win?] = []
    private var finalized = false

    /// Whether this process was started by an MPI launcher (Open MPI's mpirun, or PMIx/PMI).
    public static func launchedByMPI(_ environment: [String: String]) -> Bool {
        ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { environment[$0] != nil }
    }

    public let wait: Wait
    /// Whether this rank asked Open MPI to yield between polls (`yieldsWhenOutnumbered`).
    public let yields: Bool

    /// Open MPI waits its own way when it knows a machine runs more ranks than it has slots
    /// (`--oversubscribe`; it sets `OMPI_MCA_mpi_oversubscribe=1`). When a machine's ranks
    /// outnumber the cores they may use and Open MPI does not know — a hostfile's slots above the
    /// cores, a cpuset — a waiting rank polls on the core that the rank it waits for needs, and
    /// a step takes several times as long (bench/RESULTS.md, run 15). So before `MPI_Init`, when
    /// the launcher did not bind this rank (its cores are its parent's, shared by its siblings),
    /// those cores are fewer than the ranks on this machine (`OMPI_COMM_WORLD_LOCAL_SIZE`), Open
    /// MPI does not know it, and `OMPI_MCA_mpi_yield_when_idle` is not set, this sets it to 1 and
    /// returns true.
    static func yieldsWhenOutnumbered() -> Bool {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OMPI_MCA_mpi_yield_when_idle"] == nil, environment["OMPI_MCA_mpi_oversubscribe"] != "1",
              let local = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init),
              local > Cores.available, Cores.sameAsParent else { return false }
        setenv("OMPI_MCA_mpi_yield_when_idle", "1", 1)
        return true
    }

    /// Initialises MPI and finds where every rank runs (`placement`). Throws `.environment` if MPI
    /// cannot start.
    public init(wait: Wait = .block) throws {
        yields = Self.yieldsWhenOutnumbered()
        guard MPI_Init(nil, nil) == shim_success() else {
            throw TrainerError(.environment, subject: "MPI_Init", "MPI could not be initialised")
        }
        world = shim_comm_world()
        self.wait = wait
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(world, &rank)
        MPI_Comm_size(world, &size)
        self.rank = Int(rank)
        worldSize = Int(size)
        // The ranks that can share memory with this one run on its machine, which is named by
        // the lowest world rank on it; of those, the ones allowed the same cores (all of them
        // when the launcher bound none) share those cores.
        var node = shim_comm_null()
        var local: Int32 = 1, sharing: Int32 = 1, machine = rank
        if MPI_Comm_split_type(world, shim_comm_type_shared(), rank, shim_info_null(), &node) == shim_success() {
            MPI_Comm_size(node, &local)
            MPI_Allreduce(&rank, &machine, 1, shim_int32(), shim_op_min(), node)
            var same = shim_comm_null()
            if MPI_Comm_split(node, Int32(truncatingIfNeeded: Cores.affinityFingerprint & 0x3fff_ffff), rank, &same) == shim_success() {
                MPI_Comm_size(same, &sharing)
                MPI_Comm_free(&same)
            }
            MPI_Comm_free(&node)
        }
        var machines = [Int32](repeating: 0, count: Int(size))
        machines.withUnsafeMutableBufferPointer { _ = MPI_Allgather(&machine, 1, shim_int32(), $0.baseAddress, 1, shim_int32(), shim_comm_world()) }
        placement = .mpi(machines: machines.map(Int.init))
        ranksOnThisNode = Int(max(local, 1))
        ranksSharingCores = Int(max(sharing, 1))
    }

    /// The ranks of this rank's aligned block of `size` (which lie on one machine).
    private func block(of size: Int) -> MPI_Comm? {
        if let comm = blocks[size] { return comm }
        var comm: MPI_Comm? = shim_comm_null()
        MPI_Comm_split(world, Int32(rank / size), Int32(rank), &comm)
        blocks[size] = comm
        return comm
    }

    /// A block of one rank is memory of its own; a larger block is an MPI-3 shared-memory window
    /// (`MPI_Win_allocate_shared`) over the block's ranks: each rank's part holds its `floats`,
    /// the block's first rank's part also (from a 64-byte boundary) the `shared` floats.
    /// Collective over all ranks; a failed window allocation ends the job (MPI_ERRORS_ARE_FATAL).
    public func sharedBlock(_ plan: ReductionPlan, floats: Int, shared: Int) -> SharedBlock {
        let size = min(plan.blockRanks, worldSize), first = rank / size * size, ranks = min(size, worldSize - first)
        let slots = UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>.allocate(capacity: ranks)
        let offset = (floats + 15) / 16 * 16
        let mine = ranks == 1 || rank == first ? offset + shared : floats
        let comm = size > 1 ? block(of: size) : world  // collective: every rank splits, also a block's only rank
        guard ranks > 1 else {
            let memory = UnsafeMutableRawPointer.allocate(byteCount: 4 * max(1, mine), alignment: 64)
            memory.initializeMemory(as: Float.self, repeating: 0, count: max(1, mine))
            slots[0] = memory
            return SharedBlock(slots: slots, rank: 0, shared: shared > 0 ? memory.assumingMemoryBound(to: Float.self) + offset : nil,
                               barrier: {}, release: { memory.deallocate(); slots.deallocate() })
        }
        var base: UnsafeMutableRawPointer? = nil
        var window: MPI_Win? = shim_win_null()
        _ = withUnsafeMutablePointer(to: &base) {
            MPI_Win_allocate_shared(MPI_Aint(4 * max(1, mine)), 4, shim_info_null(), comm, $0, &window)
        }
        MPI_Win_lock_all(shim_mode_nocheck(), window)
        windows.append(window)
        for r in 0..<ranks {
            var bytes: MPI_Aint = 0, unit: Int32 = 0
            var slot: UnsafeMutableRawPointer? = nil
            _ = withUnsafeMutablePointer(to: &slot) { MPI_Win_shared_query(window, Int32(r), &bytes, &unit, $0) }
            slots[r] = slot
        }
        base!.bindMemory(to: Float.self, capacity: max(1, mine)).initialize(repeating: 0, count: max(1, mine))
        let barrier = { [unowned self] in self.barrier(comm, window: window) }
        barrier()
        return SharedBlock(slots: slots, rank: rank - first,
                           shared: shared > 0 ? slots[0]!.assumingMemoryBound(to: Float.self) + offset : nil, barrier: barrier,
                           release: { slots.deallocate() })
    }

    /// Every rank of `comm` has arrived, and sees the others' writes to `window`.
    private func barrier(_ comm: MPI_Comm?, window: MPI_Win?) {
        MPI_Win_sync(window)
        collective({ MPI_Barrier(comm) }, { MPI_Ibarrier(comm, $0) })
        MPI_Win_sync(window)
    }

    public func exchange(_ plan: ReductionPlan, count: Int) -> BlockExchange? {
        switch plan.messages(count: count) {
        case .none: return nil
        case .allreduce: return MPIAllreduceExchange(communicator: self, count: count)
        case .halving:
            return TreeExchange.halving(plan.tree, from: plan.blockRanks.trailingZeroBitCount, rank: rank, count: count, communicator: self)
        case .doubling:
            guard rank % plan.blockRanks == 0 else { return nil }
            return TreeExchange.doubling(blocks: plan.blocks, block: rank / plan.blockRanks, blockRanks: plan.blockRanks,
                                         count: count, communicator: self)
        }
    }

    /// Waits for `count` requests, as `wait` says: `MPI_Waitall`, or `MPI_Testall` with short
    /// sleeps between tests after the first few.
    func complete(_ requests: UnsafeMutablePointer<MPI_Request?>, count: Int) {
        switch wait {
        case .block:
            MPI_Waitall(Int32(count), requests, shim_statuses_ignore())
        case .sleep:
            var done: Int32 = 0, polls = 0
            while true {
                MPI_Testall(Int32(count), requests, &done, shim_statuses_ignore())
                if done != 0 { return }
                polls += 1
                if polls > 20 { usleep(20) }
            }
        }
    }

    /// A collective, waited for as `wait` says: its blocking form, or its nonblocking form
    /// (which sets the request it is given) and `complete`.
    private func collective(_ blocking: () -> Void, _ nonblocking: (UnsafeMutablePointer<MPI_Request?>) -> Void) {
        guard wait == .sleep else { return blocking() }
        var request: MPI_Request? = nil
        nonblocking(&request)
        complete(&request, count: 1)
    }

    /// Sum-allreduce of `count` values of `type` in place, through `MPI_Allreduce`.
    func allreduce(_ base: UnsafeMutableRawPointer, count: Int, type: MPI_Datatype) {
        collective({ _ = MPI_Allreduce(shim_in_place(), base, Int32(count), type, shim_op_sum(), world) },
                   { _ = MPI_Iallreduce(shim_in_place(), base, Int32(count), type, shim_op_sum(), world, $0) })
    }

    /// Every rank's buffer to every rank (`MPI_Allgather`), then the sum of the N buffers in the
    /// tree's order on each: the bits of N threads, for the small sums of evaluation.
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {
        guard worldSize > 1, let base = buffer.baseAddress, !buffer.isEmpty else { return }
        let count = buffer.count
        var all = [Double](repeating: 0, count: count * worldSize)
        all.withUnsafeMutableBytes { gathered in
            collective({ _ = MPI_Allgather(base, Int32(count), shim_double(), gathered.baseAddress, Int32(count), shim_double(), world) },
                       { _ = MPI_Iallgather(base, Int32(count), shim_double(), gathered.baseAddress, Int32(count), shim_double(), world, $0) })
            let terms = UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>.allocate(capacity: worldSize)
            defer { terms.deallocate() }
            for r in 0..<worldSize { terms[r] = gathered.baseAddress! + r * count * 8 }
            let bytes = ReductionTree.scratchBytes(terms: worldSize, of: Double.self)
            let scratch = bytes > 0 ? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) : nil
            defer { scratch?.deallocate() }
            ReductionTree.sum(terms, offset: 0, count: count, into: base, scratch: scratch)
        }
    }

    public func allreduceMinMax(_ values: [UInt64]) -> (min: [UInt64], max: [UInt64]) {
        var low = values, high = values
        guard !values.isEmpty else { return (low, high) }
        low.withUnsafeMutableBufferPointer {
            _ = MPI_Allreduce(shim_in_place(), $0.baseAddress, Int32($0.count), shim_uint64(), shim_op_min(), world)
        }
        high.withUnsafeMutableBufferPointer {
            _ = MPI_Allreduce(shim_in_place(), $0.baseAddress, Int32($0.count), shim_uint64(), shim_op_max(), world)
        }
        return (low, high)
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) {
        guard let base = buffer.baseAddress else { return }
        // MPI counts are Int32: send large buffers in pieces of 1 GiB.
        var offset = 0
        while offset < buffer.count {
            let piece = min(buffer.count - offset, 1 << 30)
            MPI_Bcast(base + offset, Int32(piece), shim_byte(), Int32(root), world)
            offset += piece
        }
    }

    /// Ends MPI for a normal exit (every rank must call it). Idempotent.
    public func finalize() {
        guard !finalized else { return }
        finalized = true
        for index in windows.indices {
            MPI_Win_unlock_all(windows[index])
            MPI_Win_free(&windows[index])
        }
        for size in blocks.keys { MPI_Comm_free(&blocks[size]!) }
        MPI_Finalize()
    }

    /// Ends every rank of the job now with `code` — for an error only this rank knows about.
    public func abort(code: Int32) -> Never { Self.abortJob(code: code) }

    /// `abort(code:)` for a thread that holds no communicator (e.g. a watchdog's): MPI_Abort on
    /// MPI_COMM_WORLD; should it return, the process exits, which ends the job as well.
    public static func abortJob(code: Int32) -> Never {
        MPI_Abort(shim_comm_world(), code)
        _exit(code)
    }
}
