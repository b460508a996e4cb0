import Foundation
import XCTest

/// Local mode's worker threads compute exactly what MPI ranks compute.
final class LocalThreadsTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(Launcher.mpirun == nil, "mpirun is not installed")
    }

    /// N threads and N ranks on one node both sum the gradients in shared memory in rank order
    /// (`RankOrderReduction`: the threads' buffers, the ranks' MPI-3 shared window), so the bytes
    /// match for any N — not only for 2, where a + b = b + a would make any order agree (6: more
    /// terms than `RankOrderReduction.sum` unrolls).
    func testLocalThreadsEqualMPIRanksBitwise() throws {
        let arguments = SingleProcessEquivalenceTests.job + ["--model", "mlp:16-8:relu", "--momentum", "0.9"]
        for n in [2, 3, 4, 6] {
            let threads = try RunResult.train(ranks: nil, arguments + ["--threads", String(n)])
            let ranks = try RunResult.train(ranks: n, arguments)
            XCTAssertEqual(threads.parameterBytes, ranks.parameterBytes, "\(n) threads vs \(n) ranks")
            XCTAssertEqual(threads.losses.map(\.1), ranks.losses.map(\.1), "\(n) threads vs \(n) ranks")
        }
    }

    /// `--mpi-reduce flat`: the ranks of one machine send their chunks to each other over MPI
    /// instead of summing in the window — the same bytes.
    func testTheFlatSumOfRanksEqualsThreadsBitwise() throws {
        let arguments = SingleProcessEquivalenceTests.job + ["--model", "mlp:16-8:relu", "--momentum", "0.9"]
        for n in [3, 4] {
            let threads = try RunResult.train(ranks: nil, arguments + ["--threads", String(n)])
            let ranks = try RunResult.train(ranks: n, arguments + ["--mpi-reduce", "flat"])
            XCTAssertEqual(threads.parameterBytes, ranks.parameterBytes, "\(n) threads vs \(n) ranks, flat")
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
