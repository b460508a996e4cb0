import Support

/// What the training loop needs from its peers — and nothing about models: the step's sum over
/// a flat buffer (`makeStepReduction`), sums, min/max agreement on 64-bit words, a broadcast of
/// raw bytes, and the rank and world size.
///
/// Implementations: `ThreadCommunicator` (local mode: worker threads of one process acting as
/// ranks) and `MPICommunicator` (under `mpirun`). Every call is collective: all ranks make the
/// same calls in the same order.
public protocol Communicator: AnyObject {
    /// This process's index, 0..<worldSize. Rank 0 alone logs and writes files.
    var rank: Int { get }
    var worldSize: Int { get }
    /// How many ranks share this machine (for choosing BLAS threads).
    var ranksOnThisNode: Int { get }
    /// For people: "1 thread", "2 threads", "4 MPI ranks (sum in shared memory)".
    var summary: String { get }
    /// Replaces `buffer` on every rank by the elementwise sum of all ranks' buffers.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>)
    /// Replaces `buffer` on every rank by the elementwise sum of all ranks' buffers.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>)
    /// Elementwise minimum and maximum of `values` over all ranks.
    func allreduceMinMax(_ values: [UInt64]) -> (min: [UInt64], max: [UInt64])
    /// Copies `root`'s bytes into `buffer` on every other rank.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int)
    /// The buffer of `count` floats that the training step sums every step, and the path that
    /// sum takes, chosen here once: e.g. a slot of an MPI shared-memory window when every rank
    /// runs on one machine. Collective; valid until the communicator ends.
    func makeStepReduction(count: Int) -> StepReduction
    /// The step's buffer of `count` floats when the ranks share memory (several threads, or MPI
    /// ranks all on one machine), with `arenas` shared buffers of `count − tail` floats for the
    /// sharded update (`SharedMemoryStepReduction.sumAndUpdate`); nil when they do not, or for
    /// one rank. Collective, once per communicator, as `makeStepReduction`.
    func makeSharedStepReduction(count: Int, tail: Int, arenas: Int) -> SharedMemoryStepReduction?
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }
    public func makeStepReduction(count: Int) -> StepReduction { OwnedStepReduction(count: count, communicator: self) }
    public func makeSharedStepReduction(count: Int, tail: Int, arenas: Int) -> SharedMemoryStepReduction? { nil }
}

/// The flat buffer a training step sums over all ranks: this rank writes its contribution into
/// `values`, then `sum()` leaves the elementwise sum over ranks in `values` on every rank.
public protocol StepReduction: AnyObject {
    /// `count` floats, zeroed at first.
    var values: UnsafeMutableBufferPointer<Float> { get }
    /// Replaces `values` on every rank by the sum over all ranks. Collective.
    func sum()
    /// The indices of `values` this rank sums for all (rank r: `evenShare(r, of: count, parts: N)`,
    /// whatever the path): where a compressed sum keeps the rounding error of the sum itself.
    var ownedChunk: Range<Int> { get }
    /// `sum()` for a buffer whose first `prefix` values are bfloat16 numbers (`BFloat16`): S, the
    /// sum in rank order, becomes bf16(S) there on every rank, and the rank owning index i adds
    /// S − bf16(S) to `residual[i]`. The same bits whichever path sums (only the bytes on the
    /// wire may be bfloat16). Collective.
    func sumRoundingToBFloat16(prefix: Int, residual: UnsafeMutablePointer<Float>)
    /// Allocates now what `sumRoundingToBFloat16(prefix:…)` needs, so that no step allocates.
    func prepareBFloat16(prefix: Int)
    /// What this reduction carries from step to step (error-feedback residuals, warm starts);
    /// empty for an exact sum.
    var carried: CarriedState { get }
}

extension StepReduction {
    public var carried: CarriedState { CarriedState() }

    public func prepareBFloat16(prefix: Int) {}

    /// The definition: the exact sum in rank order, then bf16 rounding of the prefix, the
    /// owner keeping the rounding error.
    public func sumRoundingToBFloat16(prefix: Int, residual: UnsafeMutablePointer<Float>) {
        sum()
        guard let base = values.baseAddress else { return }
        BFloat16.round(base, count: prefix, owned: ownedChunk.clamped(to: 0..<prefix), residual: residual)
    }
}

/// A step reduction in memory of its own, summed by the communicator's `allreduceSum`.
final class OwnedStepReduction: StepReduction {
    let values: UnsafeMutableBufferPointer<Float>
    let communicator: Communicator
    let ownedChunk: Range<Int>

    init(count: Int, communicator: Communicator) {
        values = .allocate(capacity: count)
        values.initialize(repeating: 0)
        self.communicator = communicator
        ownedChunk = evenShare(communicator.rank, of: count, parts: communicator.worldSize)
    }

    deinit { values.deallocate() }

    func sum() { communicator.allreduceSum(values) }
}

/// How MPI ranks sum the step's buffer (`--mpi-reduce`).
public enum MPIReduction: String, Sendable, CaseIterable {
    /// In rank order (`RankOrderReduction`), so that N ranks anywhere sum like N threads: in an
    /// MPI-3 shared-memory window when every rank runs on one machine; across machines of
    /// several ranks each, in a window per machine chained along the machines
    /// (`HierarchicalStepReduction`); else by the ordered reduce-scatter + allgather over MPI
    /// point-to-point (`OrderedStepReduction`).
    case ordered
    /// The ordered reduce-scatter + allgather whatever the layout: every rank sends its chunks
    /// over MPI, also to ranks on its own machine (the same bits; for comparison).
    case flat
    /// `MPI_Allreduce`, in the order Open MPI picks (for comparison).
    case allreduce
}
