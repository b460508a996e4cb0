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
    var ownedChunk: Range<Int> {
        let rank = communicator.rank
        return Int(offsets[rank])..<Int(offsets[rank] + counts[rank])
    }
    /// The bytes on the wire of `sumRoundingToBFloat16`, laid out by `prepareBFloat16`.
    private var wire: BFloat16Wire?
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

    /// Rank r's chunk of `values`.
    private func chunk(_ r: Int) -> Range<Int> { Int(offsets[r])..<Int(offsets[r] + counts[r]) }

    func sum() {
        let size = communicator.worldSize, rank = communicator.rank, world = communicator.world
        guard size > 1, let base = values.baseAddress else { return }
        // Reduce-scatter: every other rank's copy of my chunk in, my copy of theirs out.
        let mine = ownedChunk
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
        RankOrderReduction.sum(terms, offset: 0, count: mine.count, into: terms[0]!.assumingMemoryBound(to: Float.self))
        if rank != 0, !mine.isEmpty {
            (base + mine.lowerBound).update(from: staging.baseAddress!, count: mine.count)
        }
        communicator.allgatherInPlace(base, counts: counts.baseAddress!, offsets: offsets.baseAddress!)
    }

    /// As `sum()`, with the bfloat16 prefix 2 bytes a value on the wire both ways: the chunks
    /// of the reduce-scatter are the ranks' bf16 contributions; the owner rounds its summed
    /// chunk (keeping S − bf16(S)) before the allgather, so what it sends is bf16 too.
    func prepareBFloat16(prefix: Int) {
        let size = communicator.worldSize
        if size > 1, wire?.prefix != prefix { wire = BFloat16Wire(prefix: prefix, chunks: (0..<size).map(chunk), rank: communicator.rank) }
    }

    func sumRoundingToBFloat16(prefix: Int, residual: UnsafeMutablePointer<Float>) {
        let size = communicator.worldSize, rank = communicator.rank, world = communicator.world
        let mine = ownedChunk, owned = mine.clamped(to: 0..<prefix)
        guard size > 1, let base = values.baseAddress else {
            if let base = values.baseAddress { BFloat16.round(base, count: prefix, owned: owned, residual: residual) }
            return
        }
        prepareBFloat16(prefix: prefix)
        let wire = self.wire!
        var pending: Int32 = 0
        for r in 0..<size where r != rank {
            MPI_Irecv(wire.received(from: r), Int32(wire.bytes[rank]), shim_byte(), Int32(r), Self.tag, world, &requests[Int(pending)])
            pending += 1
        }
        for r in 0..<size where r != rank {
            wire.encode(chunk: r, of: base, at: wire.outgoing + wire.offsets[r])
            MPI_Isend(wire.outgoing + wire.offsets[r], Int32(wire.bytes[r]), shim_byte(), Int32(r), Self.tag, world,
                      &requests[Int(pending)])
            pending += 1
        }
        communicator.waitAll(requests.baseAddress!, count: pending)
        for r in 0..<size where r != rank {
            wire.decode(chunk: rank, from: wire.received(from: r), into: staging.baseAddress! + r * chunkCapacity)
        }
        RankOrderReduction.sum(terms, offset: 0, count: mine.count, into: terms[0]!.assumingMemoryBound(to: Float.self))
        if rank != 0, !mine.isEmpty {
            (base + mine.lowerBound).update(from: staging.baseAddress!, count: mine.count)
        }
        BFloat16.round(base + mine.lowerBound, count: owned.count, owned: 0..<owned.count, residual: residual + mine.lowerBound)
        wire.encode(chunk: rank, of: base, at: wire.gathered + wire.offsets[rank])
        communicator.allgatherInPlace(wire.gathered, byteCounts: wire.byteCounts, byteOffsets: wire.byteOffsets)
        for r in 0..<size where r != rank { wire.decode(chunk: r, from: wire.gathered + wire.offsets[r], into: base + Int(offsets[r])) }
    }
}

/// Where `OrderedStepReduction` puts the bytes of a sum whose first `prefix` values are
/// bfloat16: rank r's chunk is its bf16 values (2 bytes each, padded to 4) and then its exact
/// Floats (the statistics), at `offsets[r]` of a buffer laid out like the whole vector.
final class BFloat16Wire {
    let prefix: Int
    let chunks: [Range<Int>]
    /// Each chunk's bf16 values and its bytes on the wire.
    let halves: [Int], bytes: [Int], offsets: [Int]
    /// The same as MPI counts.
    let byteCounts: UnsafeMutablePointer<Int32>, byteOffsets: UnsafeMutablePointer<Int32>
    /// Every chunk, for the reduce-scatter's sends and for the allgather.
    let outgoing: UnsafeMutableRawPointer, gathered: UnsafeMutableRawPointer
    /// The other ranks' copies of this rank's chunk, slot r at r × `bytes[rank]`.
    let incoming: UnsafeMutableRawPointer
    private let slot: Int

    init(prefix: Int, chunks: [Range<Int>], rank: Int) {
        self.prefix = prefix
        self.chunks = chunks
        let halves = chunks.map { $0.clamped(to: 0..<prefix).count }
        let bytes = zip(chunks, halves).map { chunk, half in (2 * half + 3) / 4 * 4 + 4 * (chunk.count - half) }
        self.halves = halves
        self.bytes = bytes
        offsets = bytes.indices.map { bytes[..<$0].reduce(0, +) }
        byteCounts = .allocate(capacity: bytes.count)
        byteOffsets = .allocate(capacity: bytes.count)
        for r in bytes.indices { byteCounts[r] = Int32(bytes[r]); byteOffsets[r] = Int32(offsets[r]) }
        let total = max(4, bytes.reduce(0, +))
        outgoing = .allocate(byteCount: total, alignment: 4)
        gathered = .allocate(byteCount: total, alignment: 4)
        slot = bytes[rank]
        incoming = .allocate(byteCount: max(4, slot * chunks.count), alignment: 4)
    }

    deinit {
        byteCounts.deallocate(); byteOffsets.deallocate()
        outgoing.deallocate(); gathered.deallocate(); incoming.deallocate()
    }

    func received(from r: Int) -> UnsafeMutableRawPointer { incoming + r * slot }

    /// Chunk r of `values` in its wire form, at `at`.
    func encode(chunk r: Int, of values: UnsafePointer<Float>, at: UnsafeMutableRawPointer) {
        let chunk = chunks[r], half = halves[r]
        BFloat16.encode(values + chunk.lowerBound, count: half, into: at.assumingMemoryBound(to: UInt16.self))
        let floats = (at + (2 * half + 3) / 4 * 4).assumingMemoryBound(to: Float.self)
        floats.update(from: values + chunk.lowerBound + half, count: chunk.count - half)
    }

    /// The Floats of chunk r from its wire form at `wire`.
    func decode(chunk r: Int, from wire: UnsafeRawPointer, into values: UnsafeMutablePointer<Float>) {
        let chunk = chunks[r], half = halves[r]
        BFloat16.decode(wire.assumingMemoryBound(to: UInt16.self), count: half, into: values)
        let floats = (wire + (2 * half + 3) / 4 * 4).assumingMemoryBound(to: Float.self)
        (values + half).update(from: floats, count: chunk.count - half)
    }
}
