import Foundation
import TestSupport
import XCTest

/// `mpirun -n W trainer train …` trains the same model as `trainer train …`: each rank takes
/// its slice of every global batch, and one allreduce of [gradients | loss | correct | count]
/// gives the exact global sums, so only the order of floating-point additions differs.
final class SingleProcessEquivalenceTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(Launcher.mpirun == nil, "mpirun is not installed (launch/install installs openmpi-bin)")
    }

    /// 1,001 samples, global batch 64: 16 steps per epoch, the last of 41 samples, so with 3 or
    /// 4 ranks slices differ in size, and some steps leave a rank with few rows.
    static let job = ["--data", "blobs:1001:3:10", "--batch-size", "64", "--epochs", "3", "--lr", "0.1",
                      "--seed", "11", "--log-every", "1"]

    /// `mpiArguments` go to the distributed runs only.
    func assertMatchesLocalMode(model: String, mpiArguments: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        let arguments = Self.job + ["--model", model]
        let local = try RunResult.train(ranks: nil, arguments)
        for ranks in 1...4 {
            let distributed = try RunResult.train(ranks: ranks, arguments + mpiArguments)
            XCTAssertEqual(distributed.parameters.count, local.parameters.count, file: file, line: line)
            // Relative to the parameters' scale: near-zero entries are sums of much larger terms,
            // whose rounding is relative to those terms, not to the (tiny) result.
            let scale = local.parameters.map { abs($0) }.max() ?? 1
            let largest = zip(local.parameters, distributed.parameters).map { abs($0 - $1) }.max() ?? 0
            let distance = relativeDistance(distributed.parameters, from: local.parameters)
            XCTAssertLessThanOrEqual(largest / scale, 1e-5, "\(model) on \(ranks) ranks: max |Δθ| / max |θ|", file: file, line: line)
            XCTAssertLessThanOrEqual(distance, 1e-5, "\(model) on \(ranks) ranks: ‖Δθ‖ / ‖θ‖", file: file, line: line)
            print("\(model) on \(ranks) ranks: max |Δθ| / max |θ| = \(largest / scale), ‖Δθ‖ / ‖θ‖ = \(distance)")
            XCTAssertEqual(distributed.losses.map(\.0), local.losses.map(\.0), file: file, line: line)
            for ((name, a), (_, b)) in zip(local.losses, distributed.losses) {
                // Equal to 5 significant digits.
                XCTAssertLessThanOrEqual(abs(a - b), 5e-6 * abs(a), "\(model) on \(ranks) ranks: \(name) \(a) vs \(b)", file: file, line: line)
            }
        }
    }

    func testSmallMLPMatchesLocalModeOnOneToFourRanks() throws {
        try assertMatchesLocalMode(model: "mlp:16-8:tanh")
    }

    func testSoftmaxRegressionMatchesLocalModeOnOneToFourRanks() throws {
        try assertMatchesLocalMode(model: "softmax")
    }

    /// Ranks on several machines sum by `MPI_Allreduce`, not in shared memory: `--mpi-reduce
    /// allreduce` takes that path on this one machine.
    func testSmallMLPMatchesLocalModeThroughMPIAllreduce() throws {
        try assertMatchesLocalMode(model: "mlp:16-8:tanh", mpiArguments: ["--mpi-reduce", "allreduce"])
    }

    /// Same seed, same world size: the same bytes.
    func testRepeatedRunsAreBitwiseIdentical() throws {
        let arguments = Self.job + ["--model", "mlp:16-8:relu", "--momentum", "0.9"]
        for ranks in [2, 3] {
            let first = try RunResult.train(ranks: ranks, arguments)
            let second = try RunResult.train(ranks: ranks, arguments)
            XCTAssertEqual(first.parameterBytes, second.parameterBytes, "\(ranks) ranks")
        }
    }

    /// The default job on Fashion-MNIST: 4 ranks reach local mode's test accuracy (±0.2 pt, 3 epochs).
    func testFashionMNISTOnFourRanksMatchesLocalAccuracy() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "no Fashion-MNIST")
        let arguments = ["--epochs", "3", "--log-every", "0"]
        let local = try XCTUnwrap(RunResult.train(ranks: nil, arguments).finalTestAccuracy)
        let distributed = try XCTUnwrap(RunResult.train(ranks: 4, arguments).finalTestAccuracy)
        XCTAssertEqual(distributed, local, accuracy: 0.002)
    }
}
