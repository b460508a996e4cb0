/// What the training loop needs from its peers — and nothing about models: one sum-allreduce
/// per step over a flat buffer, a broadcast of raw bytes, min/max agreement on 64-bit words,
/// and the rank and world size.
///
/// Implementations: `LocalCommunicator` (one process, no MPI) and `MPICommunicator` (under
/// `mpirun`). Every call is collective: all ranks make the same calls in the same order.
public protocol Communicator: AnyObject {
    /// This process's index, 0..<worldSize. Rank 0 alone logs and writes files.
    var rank: Int { get }
    var worldSize: Int { get }
    /// How many ranks share this machine (for choosing BLAS threads).
    var ranksOnThisNode: Int { get }
    /// For people: "1 process", "2 threads", "4 MPI ranks".
    var summary: String { get }
    /// Replaces `buffer` on every rank by the elementwise sum of all ranks' buffers.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>)
    /// Replaces `buffer` on every rank by the elementwise sum of all ranks' buffers.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>)
    /// Elementwise minimum and maximum of `values` over all ranks.
    func allreduceMinMax(_ values: [UInt64]) -> (min: [UInt64], max: [UInt64])
    /// Copies `root`'s bytes into `buffer` on every other rank.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int)
    /// Memory for the buffer this rank will pass to `allreduceSum` every step — `count` zeroed
    /// floats, placed where that sum is cheapest — or nil: the caller allocates its own. MPI
    /// ranks that all run on one node get a slot of a shared-memory window, which the other
    /// ranks read and write directly. Collective; the communicator owns the memory, which stays
    /// valid until the communicator ends (`finalize` for MPI).
    func reductionBuffer(count: Int) -> UnsafeMutableBufferPointer<Float>?
    /// Whether MPI ranks sum through a shared-memory window (`reductionBuffer`) rather than
    /// `MPI_Allreduce` — a choice every rank must make alike (`--mpi-reduce`).
    var reducesInSharedMemory: Bool { get }
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }
    public func reductionBuffer(count: Int) -> UnsafeMutableBufferPointer<Float>? { nil }
    public var reducesInSharedMemory: Bool { false }
}

/// The communicator of a single process: the sum over one rank is the rank's own buffer.
public final class LocalCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var worldSize: Int { 1 }
    public var ranksOnThisNode: Int { 1 }
    public var summary: String { "1 process" }
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {}
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {}
    public func allreduceMinMax(_ values: [UInt64]) -> (min: [UInt64], max: [UInt64]) { (values, values) }
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) {}
}
