import Communication
import Support
import XCTest

/// Local mode's collectives, run by real threads: what every rank reads back, and the order of
/// the additions that makes threads and MPI ranks agree bit for bit.
final class ThreadCommunicatorTests: XCTestCase {
    /// Values whose sum depends on the order of additions in Float: 1e8 absorbs a 1 added to it,
    /// so ((1e8 + 1) + −1e8) + 1 = 1 but (1e8 + 1) + (−1e8 + 1) = 0.
    static func contribution(rank: Int, count: Int) -> [Float] {
        (0..<count).map { i in rank % 2 == 1 ? Float(i % 7) + 0.5 : (rank % 4 == 0 ? 1e8 : -1e8) }
    }

    /// The sum of every rank's `contribution`, element by element, in the tree's order.
    static func treeSum(ranks: Int, count: Int) -> [Float] {
        let terms = (0..<ranks).map { contribution(rank: $0, count: count) }
        return (0..<count).map { i in ReductionTreeTests.treeSum(terms.map { $0[i] }) }
    }

    func testStepReductionSumsInTreeOrderOnEveryThread() {
        for ranks in 1...9 {
            let count = 1001  // not a multiple of the chunk count: uneven chunks
            let results = ThreadGroup.run(size: ranks) { communicator -> [Float] in
                let reduction = communicator.makeTreeSum(ReductionPlan(placement: communicator.placement), count: count)
                _ = reduction.values.update(fromContentsOf: Self.contribution(rank: communicator.rank, count: count))
                reduction.sum()
                return Array(reduction.values)
            }
            XCTAssertEqual(results.count, ranks)
            let expected = Self.treeSum(ranks: ranks, count: count)
            for (rank, result) in results.enumerated() {
                XCTAssertEqual(result.map(\.bitPattern), expected.map(\.bitPattern), "\(ranks) threads, rank \(rank)")
            }
        }
        // The contributions tell the tree from a left fold.
        let fold = (1..<4).reduce(Self.contribution(rank: 0, count: 1)[0]) { $0 + Self.contribution(rank: $1, count: 1)[0] }
        XCTAssertNotEqual(fold, Self.treeSum(ranks: 4, count: 1)[0])
    }

    func testMinMaxBroadcastAndDoubleSums() {
        let results = ThreadGroup.run(size: 3) { communicator -> ([UInt64], [UInt64], [UInt8], [Double]) in
            let (low, high) = communicator.allreduceMinMax([UInt64(communicator.rank), 10 - UInt64(communicator.rank)])
            var bytes = communicator.rank == 2 ? [UInt8]([7, 8, 9]) : [0, 0, 0]
            bytes.withUnsafeMutableBytes { communicator.broadcast($0, root: 2) }
            var sums = [Double(communicator.rank), 0.25]
            sums.withUnsafeMutableBufferPointer { communicator.allreduceSum($0) }
            return (low, high, bytes, sums)
        }
        for (low, high, bytes, sums) in results {
            XCTAssertEqual(low, [0, 8])
            XCTAssertEqual(high, [2, 10])
            XCTAssertEqual(bytes, [7, 8, 9])
            XCTAssertEqual(sums, [3, 0.75])
        }
    }
}

extension ThreadCommunicatorTests {
    /// Evaluation's sums (Float64) add in the step's order: (1e20 + 1) + (−1e20 + 1) = 0, where a
    /// left fold gives 1.
    func testDoubleSumsAddInTreeOrder() {
        let results = ThreadGroup.run(size: 4) { communicator -> Double in
            var sums = [[1e20, 1, -1e20, 1][communicator.rank]]
            sums.withUnsafeMutableBufferPointer { communicator.allreduceSum($0) }
            return sums[0]
        }
        XCTAssertEqual(results, [0, 0, 0, 0])
    }
}

/// Rank r's share of a range: the one cut used for batches, the test set and reduction chunks.
final class EvenShareTests: XCTestCase {
    func testSharesPartitionTheRangeInOrderWithSizesWithinOne() {
        for size in [0, 1, 5, 128, 1001] {
            for parts in 1...7 {
                let shares = (0..<parts).map { evenShare($0, of: size, parts: parts) }
                XCTAssertEqual(shares.first?.lowerBound, 0)
                XCTAssertEqual(shares.last?.upperBound, size)
                for (a, b) in zip(shares, shares.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
                let counts = shares.map(\.count)
                XCTAssertLessThanOrEqual(counts.max()! - counts.min()!, 1, "\(size) in \(parts)")
            }
        }
        XCTAssertEqual(evenShare(3, of: Int.max, parts: 4).upperBound, Int.max, "no overflow")
    }
}
