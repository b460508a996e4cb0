import CMPI
import Support

/// The step's sum across nodes, in the one order of `RankOrderReduction`: a reduce-scatter in
/// which rank r receives chunk r (`evenShare`) of every other rank's buffer and adds the N
/// chunks in rank order, then an allgather of the summed chunks. Each rank sends and receives
/// 2(N−1)/N of the buffer, as a ring allreduce does, and N ranks on any number of machines sum
/// bit for bit like N local threads — which `MPI_Allreduce` does not promise (Open MPI picks its
/// algorithm, and so its order, by message size and rank count).
///
/// Point-to-point over `MPI_COMM_WORLD`: nonblocking receives and sends of the chunks, then one
/// `MPI_Allgatherv` in place. Everything is allocated once; a step allocates nothing.
final class OrderedStepReduction: StepReduction {
    let values: UnsafeMutableBufferPointer<Float>
    unowned let communicator: MPICommunicator
    /// The other ranks' copies of this rank's chunk: slot r at r × `chunkCapacity`.
    private let staging: UnsafeMutableBufferPointer<Float>
    private let chunkCapacity: Int
    /// The N terms of this rank's chunk, in rank order: its own chunk at `rank`, staging elsewhere.
    private let terms: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>
    private let requests: UnsafeMutableBufferPointer<MPI_Request?>
    /// Rank r's chunk: `counts[r]` floats from `offsets[r]` (`evenShare`).
    private let counts: UnsafeMutableBufferPointer<Int32>, offsets: UnsafeMutableBufferPointer<Int32>
    private var mine: Range<Int> {
        let rank = communicator.rank
        return Int(offsets[rank])..<Int(offsets[rank] + counts[rank])
    }
    private static let tag: Int32 = 7

    init(count: Int, communicator: MPICommunicator) {
        let size = communicator.worldSize, rank = communicator.rank
        self.communicator = communicator
        values = .allocate(capacity: count)
        values.initialize(repeating: 0)
        counts = .allocate(capacity: size)
        offsets = .allocate(capacity: size)
        for r in 0..<size {
            let chunk = evenShare(r, of: count, parts: size)
            counts[r] = Int32(chunk.count)
            offsets[r] = Int32(chunk.lowerBound)
        }
        chunkCapacity = Int(counts.max() ?? 0)
        staging = .allocate(capacity: max(1, size * chunkCapacity))
        staging.initialize(repeating: 0)
        terms = .allocate(capacity: size)
        for r in 0..<size {
            terms[r] = UnsafeMutableRawPointer(r == rank ? values.baseAddress! + Int(offsets[r]) : staging.baseAddress! + r * chunkCapacity)
        }
        requests = .allocate(capacity: 2 * size)
        requests.initialize(repeating: nil)
    }

    deinit {
        values.deallocate(); staging.deallocate(); terms.deallocate()
        requests.deallocate(); counts.deallocate(); offsets.deallocate()
    }

    func sum() {
        let size = communicator.worldSize, rank = communicator.rank, world = communicator.world
        guard size > 1, let base = values.baseAddress else { return }
        // Reduce-scatter: every other rank's copy of my chunk in, my copy of theirs out.
        let mine = self.mine
        var pending: Int32 = 0
        for r in 0..<size where r != rank {
            MPI_Irecv(staging.baseAddress! + r * chunkCapacity, Int32(mine.count), shim_float(), Int32(r), Self.tag, world,
                      &requests[Int(pending)])
            pending += 1
        }
        for r in 0..<size where r != rank {
            MPI_Isend(base + Int(offsets[r]), counts[r], shim_float(), Int32(r), Self.tag, world, &requests[Int(pending)])
            pending += 1
        }
        communicator.waitAll(requests.baseAddress!, count: pending)
        // The N terms of my chunk in rank order, into the first; then the sum into my chunk.
        RankOrderReduction.accumulate(terms, of: Float.self, offset: 0, count: mine.count)
        if rank != 0, !mine.isEmpty {
            (base + mine.lowerBound).update(from: staging.baseAddress!, count: mine.count)
        }
        communicator.allgatherInPlace(base, counts: counts.baseAddress!, offsets: offsets.baseAddress!)
    }
}
