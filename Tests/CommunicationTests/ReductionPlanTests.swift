import Communication
import XCTest

/// The one decision of how a run's sums travel, from the facts every rank agrees on — walked as
/// a table of placements × flags, without starting MPI.
final class ReductionPlanTests: XCTestCase {
    /// `hosts` machines of `ranks` consecutive ranks each (the last may have fewer: `total`).
    static func machines(_ hosts: Int, _ ranks: Int, total: Int? = nil) -> RankPlacement {
        .mpi(machines: (0..<(total ?? hosts * ranks)).map { $0 / ranks * ranks })
    }

    func testTheTableOfPlacementsAndFlags() {
        typealias Row = (placement: RankPlacement, reduce: MPIReduction, compression: GradientCompression, shards: Bool,
                         transport: ReductionPlan.Transport, blockRanks: Int, sharded: Bool, line: String)
        let rows: [Row] = [
            (.threads(1), .ordered, .none, false, .alone, 1, false, "sum: none (one rank)"),
            (.threads(2), .ordered, .none, false, .threads, 2, false, "sum: threads' shared memory, tree order, float32"),
            (.threads(6), .ordered, .none, true, .threads, 8, true, "sum: threads' shared memory, tree order, float32, sharded update"),
            (.threads(4), .ordered, .bfloat16, true, .threads, 4, false, "sum: threads' shared memory, tree order, bf16"),
            (.mpi(machines: [0]), .ordered, .none, false, .alone, 1, false, "sum: none (one rank)"),
            (Self.machines(1, 4), .ordered, .none, false, .sharedWindow, 4, false, "sum: one MPI shared window, tree order, float32"),
            (Self.machines(1, 3), .ordered, .none, true, .sharedWindow, 4, true, "sum: one MPI shared window, tree order, float32, sharded update"),
            (Self.machines(1, 4), .flat, .none, true, .pointToPoint, 1, false, "sum: point-to-point, tree order, float32"),
            (Self.machines(1, 4), .allreduce, .none, false, .mpiAllreduce, 1, false, "sum: MPI_Allreduce, Open MPI's order, float32"),
            (Self.machines(2, 1), .ordered, .none, true, .pointToPoint, 1, false, "sum: point-to-point, tree order, float32"),
            (Self.machines(3, 1), .ordered, .bfloat16, false, .pointToPoint, 1, false, "sum: point-to-point, tree order, bf16"),
            (Self.machines(2, 2), .ordered, .none, true, .hierarchical, 2, false,
             "sum: shared windows of 2 ranks, point-to-point across 2 of them, tree order, float32"),
            (Self.machines(2, 2), .ordered, .powerSGD(rank: 4), false, .hierarchical, 2, false,
             "sum: shared windows of 2 ranks, point-to-point across 2 of them, tree order, powersgd:4 factors"),
            (Self.machines(8, 2), .ordered, .none, false, .hierarchical, 2, false,
             "sum: shared windows of 2 ranks, point-to-point across 8 of them, tree order, float32"),
            (Self.machines(3, 2), .ordered, .none, false, .hierarchical, 2, false,
             "sum: shared windows of 2 ranks, point-to-point across 3 of them, tree order, float32"),
            (Self.machines(2, 4), .ordered, .none, false, .hierarchical, 4, false,
             "sum: shared windows of 4 ranks, point-to-point across 2 of them, tree order, float32"),
            (Self.machines(2, 2, total: 3), .ordered, .none, false, .hierarchical, 2, false,
             "sum: shared windows of 2 ranks, point-to-point across 2 of them, tree order, float32"),
            // 4 + 2 ranks: blocks of 4 (the second block is the 2 ranks of the second machine).
            (.mpi(machines: [0, 0, 0, 0, 4, 4]), .ordered, .none, false, .hierarchical, 4, false,
             "sum: shared windows of 4 ranks, point-to-point across 2 of them, tree order, float32"),
            // 2 machines × 3 ranks: no aligned block of 2 lies on one machine ([2, 3] straddles).
            (Self.machines(2, 3), .ordered, .none, false, .pointToPoint, 1, false, "sum: point-to-point, tree order, float32"),
            // Ranks dealt round robin: no two consecutive ranks share a machine.
            (.mpi(machines: [0, 1, 0, 1]), .ordered, .none, false, .pointToPoint, 1, false, "sum: point-to-point, tree order, float32"),
            (Self.machines(2, 2), .flat, .none, false, .pointToPoint, 1, false, "sum: point-to-point, tree order, float32"),
            (Self.machines(2, 2), .allreduce, .bfloat16, false, .mpiAllreduce, 1, false, "sum: MPI_Allreduce, Open MPI's order, bf16"),
        ]
        for row in rows {
            let plan = ReductionPlan(placement: row.placement, reduce: row.reduce, compression: row.compression, shardsUpdate: row.shards)
            let label = "\(row.placement) \(row.reduce) \(row.compression) shards \(row.shards)"
            XCTAssertEqual(plan.transport, row.transport, label)
            XCTAssertEqual(plan.blockRanks, row.blockRanks, label)
            XCTAssertEqual(plan.shardedUpdate, row.sharded, label)
            XCTAssertEqual(plan.description, row.line, label)
            XCTAssertEqual(plan.ranks, row.placement.ranks, label)
        }
    }

    /// Messages between blocks: none within one block; between 2 blocks recursive doubling (one
    /// round of the whole buffer beats two rounds of halves) until the whole buffer is past the
    /// model's knee and its halves are not; between many, doubling for small sums (fewer rounds)
    /// and halving for large ones (fewer bytes).
    func testHowMessagesRunDependsOnTheBlocksAndTheSize() {
        XCTAssertEqual(ReductionPlan(placement: .threads(4)).messages(count: 1 << 20), .none)
        XCTAssertEqual(ReductionPlan(placement: Self.machines(1, 4)).messages(count: 1 << 20), .none)
        XCTAssertEqual(ReductionPlan(placement: Self.machines(2, 1)).messages(count: 100_000), .doubling)
        XCTAssertEqual(ReductionPlan(placement: Self.machines(2, 1)).messages(count: 235_150), .halving)
        XCTAssertEqual(ReductionPlan(placement: Self.machines(2, 4)).messages(count: 1_000), .doubling)
        XCTAssertEqual(ReductionPlan(placement: Self.machines(8, 2)).messages(count: 100), .doubling)
        XCTAssertEqual(ReductionPlan(placement: Self.machines(8, 2)).messages(count: 235_150), .halving)
        XCTAssertEqual(ReductionPlan(placement: Self.machines(4, 1)).messages(count: 235_150), .halving)
        XCTAssertEqual(ReductionPlan(placement: Self.machines(2, 2), reduce: .allreduce).messages(count: 10), .allreduce)
    }
}
