import Foundation
import XCTest

/// Local mode's worker threads compute exactly what MPI ranks compute.
final class LocalThreadsTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(Launcher.mpirun == nil, "mpirun is not installed")
    }

    /// With 2 threads and 2 ranks the sums are the same additions (a + b), so the bytes match.
    func testTwoLocalThreadsEqualTwoMPIRanksBitwise() throws {
        let arguments = SingleProcessEquivalenceTests.job + ["--model", "mlp:16-8:relu", "--momentum", "0.9"]
        let threads = try RunResult.train(ranks: nil, arguments + ["--threads", "2"])
        let ranks = try RunResult.train(ranks: 2, arguments)
        XCTAssertEqual(threads.parameterBytes, ranks.parameterBytes)
        XCTAssertEqual(threads.losses.map(\.1), ranks.losses.map(\.1))
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
