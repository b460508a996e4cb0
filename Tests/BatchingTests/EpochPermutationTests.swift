import XCTest
import Batching

final class EpochPermutationTests: XCTestCase {
    func testIsAPermutation() {
        for count in [0, 1, 2, 3, 10, 1001] {
            let order = epochPermutation(count: count, seed: 42, epoch: 3)
            XCTAssertEqual(order.sorted(), Array(0..<Int32(count)), "count \(count)")
        }
    }

    func testIsDeterministicAndVaries() {
        let a = epochPermutation(count: 500, seed: 42, epoch: 0)
        XCTAssertEqual(a, epochPermutation(count: 500, seed: 42, epoch: 0))
        XCTAssertNotEqual(a, epochPermutation(count: 500, seed: 42, epoch: 1))
        XCTAssertNotEqual(a, epochPermutation(count: 500, seed: 43, epoch: 0))
        XCTAssertNotEqual(a, Array(0..<500))
        XCTAssertEqual(epochPermutation(count: 10, seed: 1, epoch: -1), epochPermutation(count: 10, seed: 1, epoch: -1))
    }

    /// Every position receives every value about equally often (a biased shuffle would not).
    func testIsRoughlyUniform() {
        var counts = Array(repeating: Array(repeating: 0, count: 4), count: 4)
        for epoch in 0..<4000 {
            for (position, value) in epochPermutation(count: 4, seed: 9, epoch: epoch).enumerated() {
                counts[position][Int(value)] += 1
            }
        }
        for row in counts { for count in row { XCTAssertEqual(Double(count), 1000, accuracy: 120) } }
    }
}
