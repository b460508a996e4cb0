import CMPI
import Support

/// The step's sum across machines when some machine runs several ranks, in the one order of
/// `RankOrderReduction` — S = (((b₀ + b₁) + b₂) + …) — and with each machine's ranks sending
/// nothing over the network but what their machine must: the left fold of S runs along the
/// machines as a chain. The ranks of machine h are one block of consecutive ranks; its leader
/// (the block's first rank) receives the partial sum P₍h−1₎ of the ranks before the block from
/// the previous machine's leader, adds its machine's buffers to it in rank order straight from
/// their slots of the machine's shared window, P_h = ((P₍h−1₎ + b_a) + b₍a+1₎) + …, and sends P_h
/// on. The last machine's P is S; it travels back along the chain into a result buffer in each
/// machine's window, from which every rank copies it. Both directions run in segments, so a
/// link carries P one way while S comes back the other: each machine sends and receives the
/// buffer once per step, whatever its rank count (the flat reduce-scatter sends 2(N−1)/N of it
/// per *rank*), and the bits are those of N threads.
final class HierarchicalStepReduction: StepReduction {
    let values: UnsafeMutableBufferPointer<Float>
    unowned let communicator: MPICommunicator
    /// This machine's ranks, and this rank's place among them.
    private let host: MPI_Comm
    private let localRank: Int
    /// The machine's ranks' slots in the window, by local rank (terms 1… of the fold; term 0 is
    /// the previous machine's partial sum, or for the first machine its leader's slot).
    private let terms: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>
    /// The leader's result area in the window, `count` floats: S, for every local rank to copy.
    private let result: UnsafeMutablePointer<Float>
    /// Leaders only: the previous machine's partial sum as it arrives (nil on the first machine).
    private let incoming: UnsafeMutablePointer<Float>?
    /// Leaders only: the world ranks of the previous and next machines' leaders.
    private let previous: Int32?, next: Int32?
    private let segments: [Range<Int>]
    private let requests: UnsafeMutableBufferPointer<MPI_Request?>
    let ownedChunk: Range<Int>
    /// Floats per message of the chain.
    static let segment = 32_768
    private static let forwardTag: Int32 = 8, backwardTag: Int32 = 9

    /// `firsts[r]`: the first world rank of rank r's machine (the machines' ranks are blocks of
    /// consecutive ranks, checked by the caller); `host`: this machine's ranks, ordered by world
    /// rank (the communicator frees it at `finalize`).
    init(count: Int, communicator: MPICommunicator, host: MPI_Comm, firsts: [Int]) {
        self.communicator = communicator
        self.host = host
        let rank = communicator.rank, size = communicator.worldSize
        let first = firsts[rank]
        let localSize = firsts.filter { $0 == first }.count
        localRank = rank - first
        let slots = communicator.allocateSharedWindow(on: host, floats: localRank == 0 ? 2 * count : count, ranks: localSize)
        values = UnsafeMutableBufferPointer(start: slots[localRank]!.assumingMemoryBound(to: Float.self), count: count)
        result = slots[0]!.assumingMemoryBound(to: Float.self) + count
        let isLeader = localRank == 0
        previous = isLeader && first > 0 ? Int32(firsts[first - 1]) : nil
        next = isLeader && first + localSize < size ? Int32(first + localSize) : nil
        incoming = previous == nil ? nil : .allocate(capacity: count)
        incoming?.initialize(repeating: 0, count: count)
        terms = .allocate(capacity: localSize + (previous == nil ? 0 : 1))
        var index = 0
        if let incoming { terms[0] = UnsafeMutableRawPointer(incoming); index = 1 }
        for r in 0..<localSize { terms[index + r] = slots[r] }
        slots.deallocate()
        segments = stride(from: 0, to: count, by: Self.segment).map { $0..<min($0 + Self.segment, count) }
        requests = .allocate(capacity: 4 * max(1, segments.count))
        requests.initialize(repeating: nil)
        ownedChunk = evenShare(rank, of: count, parts: size)
        communicator.sharedBarrier(host)
    }

    deinit { terms.deallocate(); requests.deallocate(); incoming?.deallocate() }

    func sum() {
        guard let base = values.baseAddress else { return }
        communicator.sharedBarrier(host)
        if localRank == 0 { chain() }
        communicator.sharedBarrier(host)
        base.update(from: result, count: values.count)
    }

    /// The leader's part: receive P₍h−1₎ and S by segment, fold, send P_h on and S back.
    private func chain() {
        let world = communicator.world, n = segments.count
        let recvForward = requests.baseAddress!, recvBackward = recvForward + n
        let sendForward = recvForward + 2 * n, sendBackward = recvForward + 3 * n
        let leaderSlot = terms[previous == nil ? 0 : 1]!.assumingMemoryBound(to: Float.self)
        // Post every receive first: the previous leader's partial sums, the next leader's S.
        for (s, segment) in segments.enumerated() {
            if let previous, let incoming {
                MPI_Irecv(incoming + segment.lowerBound, Int32(segment.count), shim_float(), previous, Self.forwardTag, world,
                          &recvForward[s])
            }
            if let next {
                MPI_Irecv(result + segment.lowerBound, Int32(segment.count), shim_float(), next, Self.backwardTag, world,
                          &recvBackward[s])
            }
        }
        // Forward: P_h segment by segment — into the leader's slot to send on, or on the last
        // machine into the result (it is S), sent back at once.
        for (s, segment) in segments.enumerated() {
            if previous != nil { communicator.waitAll(recvForward + s, count: 1) }
            let destination = next == nil ? result : leaderSlot
            RankOrderReduction.sum(terms, offset: segment.lowerBound, count: segment.count, into: destination + segment.lowerBound)
            if let next {
                MPI_Isend(leaderSlot + segment.lowerBound, Int32(segment.count), shim_float(), next, Self.forwardTag, world,
                          &sendForward[s])
            } else if let previous {
                MPI_Isend(result + segment.lowerBound, Int32(segment.count), shim_float(), previous, Self.backwardTag, world,
                          &sendBackward[s])
            }
        }
        // Backward: S from the next machine, passed on to the previous one.
        if next != nil {
            for (s, segment) in segments.enumerated() {
                communicator.waitAll(recvBackward + s, count: 1)
                if let previous {
                    MPI_Isend(result + segment.lowerBound, Int32(segment.count), shim_float(), previous, Self.backwardTag, world,
                              &sendBackward[s])
                }
            }
        }
        if next != nil { communicator.waitAll(sendForward, count: Int32(n)) }
        if previous != nil { communicator.waitAll(sendBackward, count: Int32(n)) }
    }
}
