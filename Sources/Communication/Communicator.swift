import Support

/// What the training loop needs from its peers — and nothing about models: the memory and the
/// messages of the step's sum (`makeStepSum`, as a `ReductionPlan` says), sums in the tree's
/// order, min/max agreement on 64-bit words, a broadcast of raw bytes, and the rank and world size.
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
    /// For people: "1 thread", "2 threads", "4 MPI ranks".
    var summary: String { get }
    /// Where the ranks are: what a `ReductionPlan` is made from. The same on every rank.
    var placement: RankPlacement { get }
    /// Replaces `buffer` on every rank by the elementwise sum of all ranks' buffers, added in the
    /// order of `ReductionTree` (the step's order).
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>)
    /// Elementwise minimum and maximum of `values` over all ranks.
    func allreduceMinMax(_ values: [UInt64]) -> (min: [UInt64], max: [UInt64])
    /// Copies `root`'s bytes into `buffer` on every other rank.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int)
    /// This rank's block of `plan` (the aligned block of `plan.blockRanks` ranks it belongs to):
    /// `floats` zeroed floats of its own that the block's ranks all read, and `shared` zeroed
    /// floats at one address for all of them. Collective; the memory lives until the communicator
    /// ends (a window, the threads' memory) or the block is released (`SharedBlock.release`).
    func sharedBlock(_ plan: ReductionPlan, floats: Int, shared: Int) -> SharedBlock
    /// The messages between this rank's block and the others for a sum of `count` floats, as
    /// `plan.messages(count:)` says; nil when this rank sends none. Collective.
    func exchange(_ plan: ReductionPlan, count: Int) -> BlockExchange?
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }
}

/// The flat buffer a training step sums over all ranks: this rank writes its contribution into
/// `values`, then `sum()` leaves the elementwise sum over ranks in `values` on every rank.
public protocol StepReduction: AnyObject {
    /// `count` floats, zeroed at first.
    var values: UnsafeMutableBufferPointer<Float> { get }
    /// Replaces `values` on every rank by the sum over all ranks. Collective.
    func sum()
    /// What this reduction carries from step to step (error-feedback residuals, warm starts);
    /// empty for an exact sum.
    var carried: CarriedState { get }
}

extension StepReduction {
    public var carried: CarriedState { CarriedState() }
}

/// How MPI ranks sum the step's buffer (`--mpi-reduce`).
public enum MPIReduction: String, Sendable, CaseIterable {
    /// In the order of `ReductionTree`, so that N ranks anywhere sum like N threads: in one MPI-3
    /// shared-memory window when every rank runs on one machine; across machines, in a window per
    /// block of ranks on one machine and by point-to-point messages between the blocks
    /// (`ReductionPlan`).
    case ordered
    /// The same order by point-to-point messages alone, whatever the layout: every rank sends its
    /// own buffer, also to ranks on its own machine (the same bits; for comparison).
    case flat
    /// `MPI_Allreduce`, in the order Open MPI picks (for comparison).
    case allreduce
}
