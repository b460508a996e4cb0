import Batching
import Support
import XCTest

/// `--shuffle`: both orders are permutations that depend on (count, seed, epoch) alone; blocks
/// keep each window of 8 blocks together, so reads come in runs.
final class ShuffleTests: XCTestCase {
    func testParsingNamesTheFlag() throws {
        XCTAssertEqual(try Shuffle(parsing: "global"), .global)
        XCTAssertEqual(try Shuffle(parsing: "blocks:4096"), .blocks(rows: 4096))
        XCTAssertEqual(Shuffle.blocks(rows: 7).description, "blocks:7")
        for bad in ["", "block:3", "blocks:", "blocks:0", "blocks:-1", "blocks:x", "blocks:16777217"] {
            XCTAssertThrowsError(try Shuffle(parsing: bad)) { error in
                XCTAssertTrue((error as? TrainerError)?.message.hasPrefix("--shuffle \(bad): ") ?? false, "\(error)")
            }
        }
    }

    func testGlobalIsTheEpochPermutation() {
        XCTAssertEqual(Shuffle.global.order(count: 1001, seed: 4, epoch: 2).samples, epochPermutation(count: 1001, seed: 4, epoch: 2))
        XCTAssertTrue(Shuffle.global.order(count: 10, seed: 4, epoch: 2).windows.isEmpty)
    }

    /// Every sample once; each window of the order holds the samples of its 8 blocks (the last
    /// block short), and no others; the order changes with the epoch and the seed, not otherwise.
    func testBlocksArePermutationsOfWindowsOfBlocks() {
        for (count, rows) in [(1, 1), (1001, 10), (1001, 1000), (1001, 2000), (5000, 7)] {
            let order = Shuffle.blocks(rows: rows).order(count: count, seed: 3, epoch: 1)
            XCTAssertEqual(order.samples.sorted(), Array(0..<Int32(count)), "\(count) by \(rows)")
            XCTAssertEqual(order.windows.count, ((count + rows - 1) / rows + 7) / 8)
            for (index, window) in order.windows.enumerated() {
                let end = index + 1 < order.windows.count ? order.windows[index + 1].start : count
                let held = Set(order.samples[window.start..<end].map(Int.init))
                XCTAssertEqual(held, Set(window.blocks.flatMap { Array($0) }), "window \(index)")
                XCTAssertTrue(window.blocks.allSatisfy { $0.lowerBound % rows == 0 && ($0.count == rows || $0.upperBound == count) })
            }
            XCTAssertEqual(order.samples, Shuffle.blocks(rows: rows).order(count: count, seed: 3, epoch: 1).samples)
        }
        let a = Shuffle.blocks(rows: 10).order(count: 1001, seed: 3, epoch: 1).samples
        XCTAssertNotEqual(a, Shuffle.blocks(rows: 10).order(count: 1001, seed: 3, epoch: 2).samples)
        XCTAssertNotEqual(a, Shuffle.blocks(rows: 10).order(count: 1001, seed: 4, epoch: 1).samples)
        XCTAssertNotEqual(Array(a.prefix(80)).sorted(), Array(a.prefix(80)), "rows mix within a window")
    }

    /// The window after a position is the next one: what the loop reads ahead.
    func testTheWindowAfterAPosition() {
        let order = Shuffle.blocks(rows: 10).order(count: 1001, seed: 3, epoch: 0)
        XCTAssertEqual(order.window(after: 0), order.windows[1])
        XCTAssertEqual(order.window(after: 79), order.windows[1])
        XCTAssertEqual(order.window(after: 80), order.windows[2])
        XCTAssertNil(order.window(after: 1000))
        XCTAssertNil(Shuffle.global.order(count: 100, seed: 3, epoch: 0).window(after: 0))
    }
}
