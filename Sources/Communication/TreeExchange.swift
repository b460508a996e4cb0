import CMPI

/// The messages of a sum between blocks of ranks over MPI point-to-point, in the tree's order
/// (`ReductionTree`), by recursive halving or recursive doubling (`ReductionPlan.Messages`).
///
/// Halving: from the level of the blocks up, each round a rank sends its block's partial sum on
/// the part of its range another rank keeps, receives the other block's on the part it keeps,
/// and adds — its part halves each round; `gather` runs the rounds backward, the finished sum
/// travelling the other way. Doubling (a block's first rank only): each round a rank receives
/// the whole partial sum of the partner block and adds it, ending with the whole sum; nothing to
/// gather. Either way every element is added in the tree's order; a + b = b + a, so who adds
/// changes no bit.
///
/// With a bfloat16 prefix, a message whose values are bfloat16 numbers — a rank's own
/// contribution (the first round of blocks of one rank), the rounded sum (every gather) — carries
/// 2 bytes for each of them; partial sums travel as float32. Allocates nothing per sum.
final class TreeExchange: BlockExchange {
    struct Message {
        let peer: Int32
        let range: Range<Int>
        /// Forward, a single rank's own contribution: bfloat16 numbers in a bf16 sum.
        let contribution: Bool
    }

    struct Round {
        var sends: [Message]
        var receives: [Message]
    }

    unowned let communicator: MPICommunicator
    /// The forward rounds; `gather` runs them backward, sends and receives swapped.
    private let rounds: [Round]
    private let gathers: Bool
    /// Forward receives land here, at their own indices.
    private let staging: UnsafeMutablePointer<Float>
    private let requests: UnsafeMutablePointer<MPI_Request?>
    private let requestCount: Int
    /// bfloat16 messages: the bytes sent and received in a round, laid out by `bytes(of:prefix:)`.
    private var outgoing: UnsafeMutableRawPointer?, incoming: UnsafeMutableRawPointer?
    private var prefix = 0
    private static let forwardTag: Int32 = 10, backwardTag: Int32 = 11

    private init(communicator: MPICommunicator, rounds: [Round], gathers: Bool, count: Int) {
        self.communicator = communicator
        self.rounds = rounds
        self.gathers = gathers
        staging = .allocate(capacity: max(1, count))
        staging.initialize(repeating: 0, count: max(1, count))
        requestCount = max(1, rounds.map { $0.sends.count + $0.receives.count }.max() ?? 0)
        requests = .allocate(capacity: requestCount)
        requests.initialize(repeating: nil, count: requestCount)
    }

    deinit {
        staging.deallocate()
        requests.deallocate()
        outgoing?.deallocate()
        incoming?.deallocate()
    }

    /// Recursive halving and doubling for `rank`, from `level` (blocks of 2^level ranks) up.
    static func halving(_ tree: ReductionTree, from level: Int, rank: Int, count: Int, communicator: MPICommunicator) -> TreeExchange {
        let rounds = (level..<tree.levels).map { k -> Round in
            let transfers = tree.transfers(level: k, count: count)
            return Round(sends: transfers.filter { $0.from == rank && $0.to != rank }.map { Message(peer: Int32($0.to), range: $0.range, contribution: k == 0) },
                         receives: transfers.filter { $0.to == rank && $0.from != rank }.map { Message(peer: Int32($0.from), range: $0.range, contribution: k == 0) })
        }
        return TreeExchange(communicator: communicator, rounds: rounds, gathers: true, count: count)
    }

    /// Recursive doubling between the first ranks of blocks of `blockRanks` ranks, for block `block`
    /// of `blocks` (its first rank calls this).
    static func doubling(blocks: Int, block: Int, blockRanks: Int, count: Int, communicator: MPICommunicator) -> TreeExchange {
        let units = ReductionTree(ranks: blocks)
        let rounds = (0..<units.levels).map { k -> Round in
            let single = blockRanks == 1 && k == 0
            let receives = units.doublingSource(of: block, level: k).map { [Message(peer: Int32($0 * blockRanks), range: 0..<count, contribution: single)] } ?? []
            let sends = (0..<blocks).filter { $0 != block && units.doublingSource(of: $0, level: k) == block }
                .map { Message(peer: Int32($0 * blockRanks), range: 0..<count, contribution: single) }
            return Round(sends: sends, receives: receives)
        }
        return TreeExchange(communicator: communicator, rounds: rounds, gathers: false, count: count)
    }

    func prepareBFloat16(prefix: Int) {
        self.prefix = prefix
        let most = rounds.flatMap { [$0.sends, $0.receives] }.map { $0.reduce(0) { $0 + Self.bytes(of: $1.range, prefix: prefix) } }.max() ?? 0
        guard prefix > 0, outgoing == nil else { return }
        outgoing = .allocate(byteCount: max(4, most), alignment: 64)
        incoming = .allocate(byteCount: max(4, most), alignment: 64)
    }

    /// A message's bytes with `prefix` bfloat16 values: the values of `range` below the prefix, 2
    /// bytes each (padded to 4), then the others, 4 bytes each.
    static func bytes(of range: Range<Int>, prefix: Int) -> Int {
        let half = range.clamped(to: 0..<prefix).count
        return (2 * half + 3) / 4 * 4 + 4 * (range.count - half)
    }

    func reduce(_ values: UnsafeMutablePointer<Float>, bfloat16Prefix: Int) {
        for round in rounds {
            exchange(values, receiving: round.receives, into: staging, sending: round.sends, tag: Self.forwardTag,
                     wire: { $0.contribution && bfloat16Prefix > 0 })
            for message in round.receives {
                let r = message.range
                let (v, s) = (values + r.lowerBound, UnsafePointer(staging + r.lowerBound))
                for i in 0..<r.count { v[i] = v[i] + s[i] }
            }
        }
    }

    func gather(_ values: UnsafeMutablePointer<Float>, bfloat16Prefix: Int) {
        guard gathers else { return }
        for round in rounds.reversed() {
            exchange(values, receiving: round.sends, into: values, sending: round.receives, tag: Self.backwardTag,
                     wire: { _ in bfloat16Prefix > 0 })
        }
    }

    /// Posts `receiving` (each range into `destination` at its own indices) and `sending` (from
    /// `values`), waits for all, and decodes what came as bfloat16. `wire`: whether a message
    /// travels in its bfloat16 form.
    private func exchange(_ values: UnsafeMutablePointer<Float>, receiving: [Message], into destination: UnsafeMutablePointer<Float>,
                          sending: [Message], tag: Int32, wire: (Message) -> Bool) {
        let world = communicator.world
        var pending = 0, at = 0
        for message in receiving {
            let r = message.range
            if wire(message) {
                MPI_Irecv(incoming! + at, Int32(Self.bytes(of: r, prefix: prefix)), shim_byte(), message.peer, tag, world, &requests[pending])
                at += Self.bytes(of: r, prefix: prefix)
            } else {
                MPI_Irecv(destination + r.lowerBound, Int32(r.count), shim_float(), message.peer, tag, world, &requests[pending])
            }
            pending += 1
        }
        at = 0
        var encoded: (range: Range<Int>, at: Int)? = nil
        for message in sending {
            let r = message.range
            if wire(message) {
                if encoded?.range != r {
                    encode(values, r, into: outgoing! + at)
                    encoded = (r, at)
                    at += Self.bytes(of: r, prefix: prefix)
                }
                MPI_Isend(outgoing! + encoded!.at, Int32(Self.bytes(of: r, prefix: prefix)), shim_byte(), message.peer, tag, world, &requests[pending])
            } else {
                MPI_Isend(values + r.lowerBound, Int32(r.count), shim_float(), message.peer, tag, world, &requests[pending])
            }
            pending += 1
        }
        communicator.complete(requests, count: pending)
        at = 0
        for message in receiving where wire(message) {
            decode(incoming! + at, message.range, into: destination)
            at += Self.bytes(of: message.range, prefix: prefix)
        }
    }

    /// `values[range]` in its wire form at `bytes`.
    private func encode(_ values: UnsafePointer<Float>, _ range: Range<Int>, into bytes: UnsafeMutableRawPointer) {
        let half = range.clamped(to: 0..<prefix).count
        BFloat16.encode(values + range.lowerBound, count: half, into: bytes.assumingMemoryBound(to: UInt16.self))
        let floats = (bytes + (2 * half + 3) / 4 * 4).assumingMemoryBound(to: Float.self)
        floats.update(from: values + range.lowerBound + half, count: range.count - half)
    }

    /// The floats of `range` from their wire form at `bytes`, into `values` at their indices.
    private func decode(_ bytes: UnsafeRawPointer, _ range: Range<Int>, into values: UnsafeMutablePointer<Float>) {
        let half = range.clamped(to: 0..<prefix).count
        BFloat16.decode(bytes.assumingMemoryBound(to: UInt16.self), count: half, into: values + range.lowerBound)
        let floats = (bytes + (2 * half + 3) / 4 * 4).assumingMemoryBound(to: Float.self)
        (values + range.lowerBound + half).update(from: floats, count: range.count - half)
    }
}

/// `--mpi-reduce allreduce`: the block of one rank's buffer through `MPI_Allreduce`, in the order
/// Open MPI picks (for comparison; not bit for bit like threads).
final class MPIAllreduceExchange: BlockExchange {
    unowned let communicator: MPICommunicator
    let count: Int

    init(communicator: MPICommunicator, count: Int) {
        self.communicator = communicator
        self.count = count
    }

    func prepareBFloat16(prefix: Int) {}
    func reduce(_ values: UnsafeMutablePointer<Float>, bfloat16Prefix: Int) { communicator.allreduce(values, count: count, type: shim_float()) }
    func gather(_ values: UnsafeMutablePointer<Float>, bfloat16Prefix: Int) {}
}
