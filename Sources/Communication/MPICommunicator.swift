import CMPI
import Foundation
import Support

/// The communicator of one MPI rank in `MPI_COMM_WORLD`. The only code that touches the C shim.
///
/// Create at most one per process (MPI cannot be initialised twice) and call `finalize()` before
/// a normal exit: Open MPI's launcher reports an exit without `MPI_Finalize` as a failure.
public final class MPICommunicator: Communicator {
    /// How a rank waits for the others in the step's sum: at the two barriers of the shared-memory
    /// sum (ranks on one node), for the chunks and the allgather of the ordered sum (across nodes),
    /// or in `MPI_Allreduce` (`--mpi-reduce allreduce`).
    public enum Wait: String, Sendable, CaseIterable {
        /// `MPI_Barrier` / `MPI_Waitall` / `MPI_Allgatherv` / `MPI_Allreduce` (Open MPI polls; it
        /// yields between polls when ranks outnumber cores, `yieldsWhenOutnumbered`). The
        /// default: fastest measured here with a core per rank and with 4 ranks on 2 cores alike.
        case block
        /// Their nonblocking forms, then `MPI_Test(all)` with a short sleep between tests: a
        /// waiting rank gives its core away. It won only while other processes loaded the machine;
        /// measured slower (1.14 vs 0.87–0.91 s/epoch, 4 ranks on 2 cores) on an idle one.
        case sleep
    }

    public let rank: Int
    public let worldSize: Int
    public let ranksOnThisNode: Int
    /// How many ranks on this node may run on exactly this rank's cores (`Cores.available`).
    public let ranksSharingCores: Int
    public var summary: String {
        guard worldSize > 1 else { return "1 MPI rank" }
        let how = reducesInSharedMemory ? "in shared memory"
            : reduction == .allreduce ? "by MPI_Allreduce"
            : chained ? "in rank order, in shared memory per machine and along the machines"
            : "in rank order, reduce-scatter + allgather"
        return "\(worldSize) MPI ranks (sum \(how))" + (yields ? ", waits yield (\(ranksOnThisNode) ranks on \(Cores.available) core(s))" : "")
    }
    /// How the step's sum travels (`--mpi-reduce`).
    public let reduction: MPIReduction
    /// True when every rank runs on this node and the sum is in rank order (`.ordered`).
    let reducesInSharedMemory: Bool
    /// True when the step's sum is hierarchical (`HierarchicalStepReduction`).
    private var chained = false
    let world: MPI_Comm
    /// The ranks on this node (ranks numbered as in `world`): the shared window's ranks, every
    /// rank's when they all run here, else those of this machine's part of a hierarchical sum.
    private var node: MPI_Comm?
    /// The shared-memory window of the step's reduction.
    private var window: MPI_Win?
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
    /// cores, a cpuset — a waiting rank polls on the core that the rank it waits for needs: 2
    /// pinned hosts × 2 ranks ran the default job at 6.3 s/epoch, and at 1.2–1.5 with yielding
    /// (`--mpi-wait sleep`: 2.2). So before `MPI_Init`, when the launcher did not bind this rank
    /// (its cores are its parent's, shared by its siblings), those cores are fewer than the ranks
    /// on this machine (`OMPI_COMM_WORLD_LOCAL_SIZE`), Open MPI does not know it, and
    /// `OMPI_MCA_mpi_yield_when_idle` is not set, this sets it to 1 and returns true.
    static func yieldsWhenOutnumbered() -> Bool {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OMPI_MCA_mpi_yield_when_idle"] == nil, environment["OMPI_MCA_mpi_oversubscribe"] != "1",
              let local = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init),
              local > Cores.available, Cores.sameAsParent else { return false }
        setenv("OMPI_MCA_mpi_yield_when_idle", "1", 1)
        return true
    }

    /// Initialises MPI; `reduction` says how the step sums (`makeStepReduction`). Throws
    /// `.environment` if MPI cannot start.
    public init(wait: Wait = .block, reduction: MPIReduction = .ordered) throws {
        yields = Self.yieldsWhenOutnumbered()
        guard MPI_Init(nil, nil) == shim_success() else {
            throw TrainerError(.environment, subject: "MPI_Init", "MPI could not be initialised")
        }
        world = shim_comm_world()
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(world, &rank)
        MPI_Comm_size(world, &size)
        self.rank = Int(rank)
        worldSize = Int(size)
        // Ranks that can share memory with this one are the ranks on this node; of those, the
        // ones allowed the same cores (all of them when the launcher bound none) share those cores.
        var node = shim_comm_null()
        var local: Int32 = 1, sharing: Int32 = 1, split = false
        if MPI_Comm_split_type(world, shim_comm_type_shared(), rank, shim_info_null(), &node) == shim_success() {
            split = true
            MPI_Comm_size(node, &local)
            var same = shim_comm_null()
            if MPI_Comm_split(node, Int32(truncatingIfNeeded: Cores.affinityFingerprint & 0x3fff_ffff), rank, &same) == shim_success() {
                MPI_Comm_size(same, &sharing)
                MPI_Comm_free(&same)
            }
            self.node = node
        }
        ranksOnThisNode = Int(max(local, 1))
        reducesInSharedMemory = split && local == size && size > 1 && reduction == .ordered
        ranksSharingCores = Int(max(sharing, 1))
        self.wait = wait
        self.reduction = reduction
    }

    /// When every rank runs on this node: a slot of an MPI-3 shared-memory window
    /// (`MPI_Win_allocate_shared`), summed in shared memory, each rank adding up its chunk of
    /// every rank's slot in rank order (`RankOrderReduction`, as local mode's threads do)
    /// between two barriers — no copies through MPI's transport. Across nodes, memory of its own
    /// summed in the same order by `OrderedStepReduction`; with `.allreduce`, by `MPI_Allreduce`.
    /// Ranks cannot disagree on the path: `--mpi-reduce` is in the fingerprint, and a failed
    /// window allocation ends the job (MPI_ERRORS_ARE_FATAL). At most one shared reduction per
    /// communicator.
    public func makeStepReduction(count: Int) -> StepReduction {
        if reduction == .allreduce || worldSize == 1 { return OwnedStepReduction(count: count, communicator: self) }
        guard window == nil, count > 0 else { return OrderedStepReduction(count: count, communicator: self) }
        if reducesInSharedMemory { return sharedWindowReduction(count: count, tail: 0, arenas: 0) }
        if reduction == .ordered, let chain = hierarchicalReduction(count: count) { return chain }
        return OrderedStepReduction(count: count, communicator: self)
    }

    /// Across machines, when some machine runs several ranks and every machine's ranks are
    /// consecutive: `HierarchicalStepReduction` (a window per machine, the sum chained along the
    /// machines). Every rank decides alike from the same gathered facts. Else nil.
    private func hierarchicalReduction(count: Int) -> HierarchicalStepReduction? {
        guard let host = node else { return nil }
        var localRank: Int32 = 0, localSize: Int32 = 1
        MPI_Comm_rank(host, &localRank)
        MPI_Comm_size(host, &localSize)
        var mine = Int32(rank) - localRank
        var firsts = [Int32](repeating: 0, count: worldSize)
        firsts.withUnsafeMutableBytes { _ = MPI_Allgather(&mine, 4, shim_byte(), $0.baseAddress, 4, shim_byte(), world) }
        // Blocks of consecutive ranks, each rank's block as long as its machine's rank count.
        let consecutive = firsts.indices.allSatisfy { r in firsts[r] == r || (r > 0 && firsts[r] == firsts[r - 1]) }
        let sized = firsts.filter { $0 == mine }.count == Int(localSize)
        let agreed = allreduceMinMax([consecutive && sized ? 1 : 0]).min[0] == 1
        let several = Set(firsts).count < worldSize && Set(firsts).count > 1
        guard agreed, several else { return nil }
        chained = true
        return HierarchicalStepReduction(count: count, communicator: self, host: host, firsts: firsts.map(Int.init))
    }

    /// The shared window's reduction with `arenas` shared buffers after rank 0's slot, when every
    /// rank runs on this node and sums in rank order.
    public func makeSharedStepReduction(count: Int, tail: Int, arenas: Int) -> SharedMemoryStepReduction? {
        guard reducesInSharedMemory, window == nil, count > 0 else { return nil }
        return sharedWindowReduction(count: count, tail: tail, arenas: arenas)
    }

    /// Rank r's slot of `count` floats in the node's window; rank 0's is followed (from a
    /// 64-byte boundary) by the shared floats of `SharedMemoryStepReduction`.
    private func sharedWindowReduction(count: Int, tail: Int, arenas: Int) -> SharedMemoryStepReduction {
        let sharedOffset = (count + 15) / 16 * 16, sharedCount = SharedMemoryStepReduction.sharedFloats(count: count, tail: tail, arenas: arenas, ranks: worldSize)
        let slots = allocateSharedWindow(on: node!, floats: rank == 0 ? sharedOffset + sharedCount : count, ranks: worldSize)
        defer { slots.deallocate() }
        let shared = slots[0]!.assumingMemoryBound(to: Float.self) + sharedOffset
        nodeBarrier()
        return SharedMemoryStepReduction(slots: slots, rank: rank, count: count, tail: tail, shared: shared, arenas: arenas,
                                         barrier: { [unowned self] in self.nodeBarrier() })
    }

    /// The communicator's shared-memory window (`window`) over `comm`, this rank's part `floats`
    /// zeroed floats; returns the `ranks` parts' addresses by rank of `comm` (the caller frees
    /// the list).
    func allocateSharedWindow(on comm: MPI_Comm, floats: Int, ranks: Int) -> UnsafeMutableBufferPointer<UnsafeMutableRawPointer?> {
        let stride = MemoryLayout<Float>.stride
        var base: UnsafeMutableRawPointer? = nil
        var window: MPI_Win? = shim_win_null()
        _ = withUnsafeMutablePointer(to: &base) {
            MPI_Win_allocate_shared(MPI_Aint(floats * stride), Int32(stride), shim_info_null(), comm, $0, &window)
        }
        MPI_Win_lock_all(shim_mode_nocheck(), window)
        self.window = window
        let slots = UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>.allocate(capacity: ranks)
        for r in 0..<ranks {
            var size: MPI_Aint = 0, unit: Int32 = 0
            var slot: UnsafeMutableRawPointer? = nil
            _ = withUnsafeMutablePointer(to: &slot) { MPI_Win_shared_query(window, Int32(r), &size, &unit, $0) }
            slots[r] = slot
        }
        base!.bindMemory(to: Float.self, capacity: floats).initialize(repeating: 0, count: floats)
        return slots
    }

    /// Every rank of the node has arrived, and sees the others' writes to the window.
    private func nodeBarrier() {
        guard reducesInSharedMemory, let node else { return }
        sharedBarrier(node)
    }

    /// Every rank of `comm` has arrived, and sees the others' writes to the window.
    func sharedBarrier(_ comm: MPI_Comm) {
        MPI_Win_sync(window)
        switch wait {
        case .block:
            MPI_Barrier(comm)
        case .sleep:
            var request: MPI_Request? = nil
            MPI_Ibarrier(comm, &request)
            waitSleeping(&request)
        }
        MPI_Win_sync(window)
    }

    /// Tests `request` until it completes, sleeping briefly between tests after the first few.
    private func waitSleeping(_ request: inout MPI_Request?) {
        withUnsafeMutablePointer(to: &request) { waitSleeping($0, count: 1) }
    }

    /// Tests `count` requests until all complete, sleeping briefly between tests after the first few.
    private func waitSleeping(_ requests: UnsafeMutablePointer<MPI_Request?>, count: Int32) {
        var done: Int32 = 0, polls = 0
        while true {
            MPI_Testall(count, requests, &done, shim_statuses_ignore())
            if done != 0 { return }
            polls += 1
            if polls > 20 { usleep(20) }
        }
    }

    /// Waits for `count` requests, as `wait` says.
    func waitAll(_ requests: UnsafeMutablePointer<MPI_Request?>, count: Int32) {
        switch wait {
        case .block:
            MPI_Waitall(count, requests, shim_statuses_ignore())
        case .sleep:
            waitSleeping(requests, count: count)
        }
    }

    /// Every rank's floats `base[offsets[r] ..< offsets[r] + counts[r]]` to every rank, in place.
    func allgatherInPlace(_ base: UnsafeMutablePointer<Float>, counts: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>) {
        allgatherInPlace(UnsafeMutableRawPointer(base), counts: counts, offsets: offsets, type: shim_float())
    }

    /// Every rank's bytes `base[offsets[r] ..< offsets[r] + counts[r]]` to every rank, in place.
    func allgatherInPlace(_ base: UnsafeMutableRawPointer, byteCounts: UnsafePointer<Int32>, byteOffsets: UnsafePointer<Int32>) {
        allgatherInPlace(base, counts: byteCounts, offsets: byteOffsets, type: shim_byte())
    }

    private func allgatherInPlace(_ base: UnsafeMutableRawPointer, counts: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>,
                                  type: MPI_Datatype) {
        switch wait {
        case .block:
            MPI_Allgatherv(shim_in_place(), 0, shim_datatype_null(), base, counts, offsets, type, world)
        case .sleep:
            var request: MPI_Request? = nil
            MPI_Iallgatherv(shim_in_place(), 0, shim_datatype_null(), base, counts, offsets, type, world, &request)
            waitSleeping(&request)
        }
    }

    /// Sum-allreduce in place, waiting as `wait` says.
    func allreduce(_ base: UnsafeMutableRawPointer, count: Int, type: MPI_Datatype) {
        switch wait {
        case .block:
            MPI_Allreduce(shim_in_place(), base, Int32(count), type, shim_op_sum(), world)
        case .sleep:
            var request: MPI_Request? = nil
            MPI_Iallreduce(shim_in_place(), base, Int32(count), type, shim_op_sum(), world, &request)
            waitSleeping(&request)
        }
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return }
        allreduce(base, count: buffer.count, type: shim_float())
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return }
        allreduce(base, count: buffer.count, type: shim_double())
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
        if window != nil {
            MPI_Win_unlock_all(window)
            MPI_Win_free(&window)
        }
        if node != nil { MPI_Comm_free(&node) }
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
