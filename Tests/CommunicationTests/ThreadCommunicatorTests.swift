import Communication
import Support
import XCTest

/// Local mode's collectives, run by real threads: what every rank reads back, and the order of
/// the additions that makes threads and MPI ranks agree bit for bit.
final class ThreadCommunicatorTests: XCTestCase {
    /// Values whose sum depends on the order of additions in Float: 1e8 absorbs a 1 added to it.
    static func contribution(rank: Int, count: Int) -> [Float] {
        (0..<count).map { i in rank == 0 ? 1e8 : (rank == 1 ? -1e8 : Float(i % 7) + 0.5) }
    }

    /// The sum in rank order ((b₀ + b₁) + b₂) + …, element by element.
    static func rankOrderSum(ranks: Int, count: Int) -> [Float] {
        let terms = (0..<ranks).map { contribution(rank: $0, count: count) }
        return (0..<count).map { i in (1..<ranks).reduce(terms[0][i]) { $0 + terms[$1][i] } }
    }

    func testStepReductionSumsInRankOrderOnEveryThread() {
        for ranks in [1, 2, 3, 4] {
            let count = 1001  // not a multiple of the chunk count: uneven chunks
            let results = ThreadGroup.run(size: ranks) { communicator -> [Float] in
                let reduction = communicator.makeStepReduction(count: count)
                _ = reduction.values.update(fromContentsOf: Self.contribution(rank: communicator.rank, count: count))
                reduction.sum()
                return Array(reduction.values)
            }
            XCTAssertEqual(results.count, ranks)
            let expected = Self.rankOrderSum(ranks: ranks, count: count)
            for (rank, result) in results.enumerated() {
                XCTAssertEqual(result.map(\.bitPattern), expected.map(\.bitPattern), "\(ranks) threads, rank \(rank)")
            }
        }
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
