import Foundation
import Support
import Synchronization

/// W threads of one process acting as W ranks: local mode's data parallelism. Every thread runs
/// the same training loop on its slice of each global batch with a single-threaded BLAS, and
/// the collectives go through shared memory, so local mode computes what `mpirun -n W` computes.
///
/// `ThreadGroup.run(size:)` starts the threads; each gets its `ThreadCommunicator`.
public final class ThreadGroup: @unchecked Sendable {
    public let size: Int
    /// Each rank's buffer for the collective in progress.
    let slots: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>
    let barrier: SpinBarrier

    init(size: Int) {
        self.size = size
        slots = .allocate(capacity: size)
        slots.initialize(repeating: nil)
        barrier = SpinBarrier(parties: size)
    }

    /// Memory the threads use until the group ends (`ThreadCommunicator.sharedBlock`).
    private var kept: [UnsafeMutableRawPointer] = []
    private let keeping = NSLock()

    deinit {
        slots.deallocate()
        kept.forEach { $0.deallocate() }
    }

    /// `bytes` zeroed bytes that live as long as the group. Any thread may call it.
    func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(64, bytes), alignment: 64)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: max(64, bytes))
        keeping.withLock { kept.append(memory) }
        return memory
    }

    /// Runs `body` on `size` threads (the calling thread is rank 0) and returns each rank's
    /// result, in rank order, once all have finished.
    public static func run<T: Sendable>(size: Int, _ body: @escaping @Sendable (ThreadCommunicator) -> T) -> [T] {
        let group = ThreadGroup(size: max(1, size))
        let results = ResultSlots<T>(count: group.size)
        let done = DispatchGroup()
        for rank in 1..<group.size {
            done.enter()
            let thread = Thread {
                results.set(rank, body(ThreadCommunicator(group: group, rank: rank)))
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        results.set(0, body(ThreadCommunicator(group: group, rank: 0)))
        done.wait()
        return results.values()
    }
}

/// One thread's view of its `ThreadGroup`.
public final class ThreadCommunicator: Communicator, @unchecked Sendable {
    let group: ThreadGroup
    public let rank: Int
    public var worldSize: Int { group.size }
    public var ranksOnThisNode: Int { group.size }
    public var summary: String { group.size == 1 ? "1 thread" : "\(group.size) threads" }

    init(group: ThreadGroup, rank: Int) {
        self.group = group
        self.rank = rank
    }

    /// The communicator of a group of one thread: the calling thread alone (local mode on 1 thread).
    public static func alone() -> ThreadCommunicator { ThreadCommunicator(group: ThreadGroup(size: 1), rank: 0) }

    public var placement: RankPlacement { .threads(group.size) }

    /// The sum in the tree's order, each thread summing its owned chunk of every thread's
    /// buffer (`ReductionTree`) into the first buffer and copying it into the others.
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {
        guard group.size > 1 else { return }
        group.slots[rank] = UnsafeMutableRawPointer(buffer.baseAddress)
        group.barrier.wait()
        let mine = ReductionTree(ranks: group.size).ownedChunk(rank, count: buffer.count)
        if !mine.isEmpty {
            let bytes = ReductionTree.scratchBytes(terms: group.size, of: Double.self)
            let scratch = bytes > 0 ? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) : nil
            defer { scratch?.deallocate() }
            let sum = group.slots[0]!.assumingMemoryBound(to: Double.self) + mine.lowerBound
            ReductionTree.sum(group.slots, offset: mine.lowerBound, count: mine.count, into: sum, scratch: scratch)
            for r in 1..<group.size { (group.slots[r]!.assumingMemoryBound(to: Double.self) + mine.lowerBound).update(from: sum, count: mine.count) }
        }
        group.barrier.wait()
    }

    /// Threads are one block: each thread's buffer from the group's memory, the shared floats
    /// allocated by thread 0.
    public func sharedBlock(_ plan: ReductionPlan, floats: Int, shared: Int) -> SharedBlock {
        let mine = group.allocate(bytes: 4 * floats)
        group.slots[rank] = rank == 0 && shared > 0 ? group.allocate(bytes: 4 * shared) : nil
        group.barrier.wait()
        let common = group.slots[0]?.assumingMemoryBound(to: Float.self)
        group.barrier.wait()
        group.slots[rank] = mine
        group.barrier.wait()
        let slots = UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>(
            start: group.allocate(bytes: group.size * MemoryLayout<UnsafeMutableRawPointer?>.stride)
                .bindMemory(to: UnsafeMutableRawPointer?.self, capacity: group.size), count: group.size)
        _ = slots.initialize(from: group.slots)
        group.barrier.wait()
        return SharedBlock(slots: slots, rank: rank, shared: common, barrier: { [group] in group.barrier.wait() })
    }

    /// Threads send no messages.
    public func exchange(_ plan: ReductionPlan, count: Int) -> BlockExchange? { nil }

    public func allreduceMinMax(_ values: [UInt64]) -> (min: [UInt64], max: [UInt64]) {
        guard group.size > 1 else { return (values, values) }
        var low = values, high = values
        values.withUnsafeBufferPointer { mine in
            group.slots[rank] = UnsafeMutableRawPointer(mutating: mine.baseAddress)
            group.barrier.wait()
            for r in 0..<group.size {
                let theirs = group.slots[r]!.assumingMemoryBound(to: UInt64.self)
                for i in values.indices {
                    low[i] = Swift.min(low[i], theirs[i])
                    high[i] = Swift.max(high[i], theirs[i])
                }
            }
            group.barrier.wait()
        }
        return (low, high)
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) {
        guard group.size > 1 else { return }
        group.slots[rank] = buffer.baseAddress
        group.barrier.wait()
        // (A buffer the threads share — the sharded update's parameters — is already the root's.)
        if rank != root, buffer.count > 0, let source = group.slots[root], source != buffer.baseAddress {
            buffer.baseAddress!.copyMemory(from: source, byteCount: buffer.count)
        }
        group.barrier.wait()
    }
}

/// A reusable barrier for a fixed number of threads. With a core per thread it spins for about
/// a millisecond — threads on their own cores meet well within that, and a sleeping thread
/// would cost a wake-up per step (a 50 µs spin measured slower: bench/RESULTS.md, runs 4 and 5) —
/// and then sleeps on a condition variable. With more threads than cores it sleeps at once,
/// so a waiting thread never holds a core a computing one needs.
final class SpinBarrier: @unchecked Sendable {
    let parties: Int
    /// Spin iterations (atomic loads, ~1 ns each) before sleeping.
    let spins: Int
    private let condition = NSCondition()
    private var arrived = 0          // guarded by `condition`
    private var generation = 0       // guarded by `condition`
    private let published = Atomic<Int>(0)  // `generation`, readable without the lock

    init(parties: Int, cores: Int = Cores.available) {
        self.parties = parties
        spins = parties <= cores ? 1_000_000 : 0
    }

    func wait() {
        condition.lock()
        let current = generation
        arrived += 1
        if arrived == parties {
            arrived = 0
            generation &+= 1
            published.store(generation, ordering: .releasing)
            condition.broadcast()
            condition.unlock()
            return
        }
        condition.unlock()
        for _ in 0..<spins where published.load(ordering: .acquiring) != current { return }
        condition.lock()
        while generation == current { condition.wait() }
        condition.unlock()
    }
}

/// Per-rank results written by the threads, read after all have finished.
final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: T) { lock.withLock { slots[index] = value } }
    func values() -> [T] { lock.withLock { slots.compactMap { $0 } } }
}
