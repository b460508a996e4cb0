import Foundation
import TestSupport
import XCTest

/// Local mode's worker threads compute exactly what MPI ranks compute.
final class LocalThreadsTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(Launcher.mpirun == nil, "mpirun is not installed")
    }

    /// N threads and N ranks on one node both sum the gradients in shared memory in the tree's
    /// order (`ReductionTree`: the threads' buffers, the ranks' MPI-3 shared window), so the
    /// parameters and every number of the metrics file but its timings match for any N — not only
    /// for 2, where a + b = b + a would make any order agree (5 and more: more terms than
    /// `ReductionTree.sum` unrolls; 16: 8 ranks a core).
    func testLocalThreadsEqualMPIRanksBitwise() throws {
        let arguments = SingleProcessEquivalenceTests.job + ["--model", "mlp:16-8:relu", "--momentum", "0.9"]
        for n in [2, 3, 4, 5, 6, 7, 8, 16] {
            let threads = try RunResult.train(ranks: nil, arguments + ["--threads", String(n)])
            let ranks = try RunResult.train(ranks: n, arguments)
            XCTAssertEqual(threads.parameterBytes, ranks.parameterBytes, "\(n) threads vs \(n) ranks")
            XCTAssertEqual(threads.losses.map(\.1), ranks.losses.map(\.1), "\(n) threads vs \(n) ranks")
            XCTAssertEqual(threads.metrics, ranks.metrics, "\(n) threads vs \(n) ranks: every metric but timings")
        }
    }

    /// `--mpi-reduce flat`: the ranks of one machine send their buffers to each other over MPI
    /// instead of summing in the window — by recursive doubling (a small model) and recursive
    /// halving (mlp:512-256, 137k floats) — the same bytes.
    func testTheFlatSumOfRanksEqualsThreadsBitwise() throws {
        for (n, model) in [(3, "mlp:16-8:relu"), (4, "mlp:16-8:relu"), (3, "mlp:512-256:tanh"), (5, "mlp:512-256:tanh")] {
            let arguments = SingleProcessEquivalenceTests.job + ["--model", model, "--momentum", "0.9"]
            let threads = try RunResult.train(ranks: nil, arguments + ["--threads", String(n)])
            let ranks = try RunResult.train(ranks: n, arguments + ["--mpi-reduce", "flat"])
            XCTAssertEqual(threads.parameterBytes, ranks.parameterBytes, "\(n) threads vs \(n) ranks, flat, \(model)")
            XCTAssertEqual(threads.metrics, ranks.metrics, "\(n) threads vs \(n) ranks, flat, \(model)")
        }
    }

    /// Compressed sums of ranks on one machine: PowerSGD's two sums each in a shared window of
    /// their own; bf16 by messages alone (`flat`), halving a large buffer over 3 ranks — each
    /// rank's contribution on the wire as bfloat16 in the first round, the rounded sum in the
    /// gather — the same bytes as threads.
    func testCompressedSumsOfRanksEqualThreadsBitwise() throws {
        for (compression, reduce, model) in [("powersgd:2", "ordered", "mlp:16-8:relu"), ("bf16", "flat", "mlp:512-256:tanh"),
                                             ("bf16", "ordered", "mlp:16-8:relu")] {
            let arguments = SingleProcessEquivalenceTests.job + ["--model", model, "--grad-compression", compression]
            let threads = try RunResult.train(ranks: nil, arguments + ["--threads", "3"])
            let ranks = try RunResult.train(ranks: 3, arguments + ["--mpi-reduce", reduce])
            XCTAssertEqual(threads.parameterBytes, ranks.parameterBytes, "3 threads vs 3 ranks, \(compression), \(reduce)")
            XCTAssertEqual(threads.metrics, ranks.metrics, "3 threads vs 3 ranks, \(compression), \(reduce)")
        }
    }

    /// A model larger than a core's own cache is updated in shards (one copy of the parameters
    /// and the momentum for all threads, or in the ranks' shared window): the same bytes again.
    func testShardedUpdatesOfThreadsAndRanksAreBitwiseEqual() throws {
        let arguments = SingleProcessEquivalenceTests.job + ["--model", "mlp:1024-1024:tanh", "--momentum", "0.9", "--epochs", "1"]
        for n in [2, 3] {
            let threads = try RunResult.train(ranks: nil, arguments + ["--threads", String(n)])
            let ranks = try RunResult.train(ranks: n, arguments)
            XCTAssertEqual(threads.parameterBytes, ranks.parameterBytes, "\(n) threads vs \(n) ranks")
            XCTAssertEqual(threads.losses.map(\.1), ranks.losses.map(\.1), "\(n) threads vs \(n) ranks")
        }
    }

    /// Any number of threads trains the single-process model (up to rounding), like ranks do.
    func testThreeAndFourThreadsMatchOneThread() throws {
        let arguments = SingleProcessEquivalenceTests.job + ["--model", "softmax"]
        let one = try RunResult.train(ranks: nil, arguments + ["--threads", "1"])
        for threads in [3, 4] {
            let many = try RunResult.train(ranks: nil, arguments + ["--threads", String(threads)])
            let scale = one.parameters.map { abs($0) }.max() ?? 1
            let largest = zip(one.parameters, many.parameters).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(largest / scale, 1e-5, "\(threads) threads")
        }
    }
}
