import Communication
import Support
import XCTest

/// The tree's order, and the parts each rank holds on the way: the schedule of recursive halving
/// and doubling played out in memory, for every N up to 40, against the order's definition.
final class ReductionTreeTests: XCTestCase {
    /// The definition: the left subtree is the largest power of two below N, the right one the rest.
    static func treeSum<T: FloatingPoint>(_ terms: [T]) -> T {
        guard terms.count > 1 else { return terms[0] }
        var left = 1
        while 2 * left < terms.count { left *= 2 }
        return treeSum(Array(terms[..<left])) + treeSum(Array(terms[left...]))
    }

    /// Rank r's buffer: values whose sums depend on their order.
    static func buffer(rank: Int, count: Int) -> [Float] {
        var random = PortableRandom(seed: 3, stream: .gradientCheck, index: UInt64(rank))
        return (0..<count).map { _ in Float(random.nextGaussian()) * (rank % 3 == 0 ? 1e6 : 1) }
    }

    func testTheDefinitionOnSmallCases() {
        let b: [Float] = [1e8, 1, -1e8, 1, 1e8, 1, -1e8]
        XCTAssertEqual(Self.treeSum(Array(b[..<4])), (b[0] + b[1]) + (b[2] + b[3]))
        XCTAssertEqual(Self.treeSum(Array(b[..<6])).bitPattern, (((b[0] + b[1]) + (b[2] + b[3])) + (b[4] + b[5])).bitPattern)
        XCTAssertEqual(Self.treeSum(b).bitPattern, (((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + b[6])).bitPattern)
    }

    /// `ReductionTree.sum` for 1 to 40 terms, into a buffer of its own and in place into a term.
    func testSumAddsInTheTreesOrder() {
        let count = 700  // more than one block of the general sum
        for n in 1...40 {
            var terms = (0..<n).map { Self.buffer(rank: $0, count: count) }
            let expected = (0..<count).map { i in Self.treeSum(terms.map { $0[i] }).bitPattern }
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(1, ReductionTree.scratchBytes(terms: n, of: Float.self)), alignment: 64)
            defer { scratch.deallocate() }
            for into in [-1, 0, n - 1] {
                let pointers = UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>.allocate(capacity: n)
                var out = [Float](repeating: 0, count: count)
                for r in 0..<n { pointers[r] = UnsafeMutableRawPointer.allocate(byteCount: 4 * count, alignment: 16) }
                for r in 0..<n { pointers[r]!.copyMemory(from: terms[r], byteCount: 4 * count) }
                if into < 0 {
                    ReductionTree.sum(pointers, offset: 0, count: count, into: &out, scratch: scratch)
                } else {
                    ReductionTree.sum(pointers, offset: 0, count: count, into: pointers[into]!.assumingMemoryBound(to: Float.self), scratch: scratch)
                    out = Array(UnsafeBufferPointer(start: pointers[into]!.assumingMemoryBound(to: Float.self), count: count))
                }
                XCTAssertEqual(out.map(\.bitPattern), expected, "\(n) terms into \(into)")
                for r in 0..<n { pointers[r]!.deallocate() }
                pointers.deallocate()
            }
            terms.removeAll()
        }
    }

    /// At every level the parts the real ranks of a block hold partition the range; at level 0
    /// each rank holds all, at the last its owned chunk.
    func testHoldingsPartitionTheRange() {
        for n in 1...70 {
            let tree = ReductionTree(ranks: n)
            for count in [0, 1, 5, 1001] {
                for level in 0...tree.levels {
                    let size = 1 << level
                    for first in stride(from: 0, to: n, by: size) {
                        let parts = (first..<min(first + size, n)).map { tree.holding($0, level: level, count: count) }.filter { !$0.isEmpty }
                            .sorted { $0.lowerBound < $1.lowerBound }
                        XCTAssertEqual(parts.first?.lowerBound ?? 0, 0, "N \(n), level \(level)")
                        XCTAssertEqual(parts.last?.upperBound ?? 0, count, "N \(n), level \(level)")
                        for (a, b) in zip(parts, parts.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound, "N \(n), level \(level)") }
                    }
                }
                XCTAssertEqual(tree.holding(n - 1, level: 0, count: count), 0..<count)
                XCTAssertEqual(tree.ownedChunk(n - 1, count: count), tree.holding(n - 1, level: tree.levels, count: count))
            }
        }
    }

    /// Recursive halving from blocks of L = 2ʲ ranks (the block's part summed in memory first),
    /// then the gather: every rank ends with the tree's sum on its block-level part, having
    /// received at most one range per round.
    func testHalvingFromAnyBlockSizeGivesTheTreesSum() {
        for n in 1...40 {
            let tree = ReductionTree(ranks: n)
            for count in [13, 1001] {
                let given = (0..<n).map { Self.buffer(rank: $0, count: count) }
                let expected = (0..<count).map { i in Self.treeSum(given.map { $0[i] }) }
                for j in 0...tree.levels {
                    let size = 1 << j
                    var values = given
                    for x in 0..<n {
                        let block = (x / size * size)..<min(x / size * size + size, n)
                        for i in tree.holding(x, level: j, count: count) { values[x][i] = Self.treeSum(block.map { given[$0][i] }) }
                    }
                    for k in j..<tree.levels {
                        let before = values
                        let transfers = tree.transfers(level: k, count: count)
                        for x in 0..<n {
                            XCTAssertLessThanOrEqual(transfers.filter { $0.to == x }.count, 1, "N \(n): rank \(x) receives once in round \(k)")
                            let kept = tree.holding(x, level: k + 1, count: count)
                            XCTAssertTrue(kept.isEmpty || tree.holding(x, level: k, count: count).contains(kept.lowerBound))
                        }
                        for t in transfers {
                            XCTAssertNotEqual(t.from, t.to)
                            for i in t.range { values[t.to][i] = values[t.to][i] + before[t.from][i] }
                        }
                    }
                    for x in 0..<n {
                        for i in tree.ownedChunk(x, count: count) {
                            XCTAssertEqual(values[x][i].bitPattern, expected[i].bitPattern, "N \(n), from level \(j), rank \(x), index \(i)")
                        }
                    }
                    for k in (j..<tree.levels).reversed() {
                        for t in tree.transfers(level: k, count: count) { for i in t.range { values[t.from][i] = values[t.to][i] } }
                    }
                    for x in 0..<n {
                        let part = tree.holding(x, level: j, count: count)
                        XCTAssertEqual(values[x][part].map(\.bitPattern), expected[part].map(\.bitPattern), "N \(n), from level \(j), rank \(x)")
                    }
                }
            }
        }
    }

    /// Recursive doubling: each round every rank adds the partner block's whole sum, received
    /// from the partner or a rank standing for it; all end with the tree's sum.
    func testDoublingGivesEveryRankTheTreesSum() {
        for n in 1...40 {
            let tree = ReductionTree(ranks: n)
            let given = (0..<n).map { Self.buffer(rank: $0, count: 3) }
            var values = given
            for k in 0..<tree.levels {
                let before = values
                for x in 0..<n {
                    guard let source = tree.doublingSource(of: x, level: k) else { continue }
                    XCTAssertNotEqual(source / (1 << k), x / (1 << k), "from the other block")
                    XCTAssertEqual(source >> (k + 1), x >> (k + 1), "within the pair of blocks")
                    for i in 0..<3 { values[x][i] = values[x][i] + before[source][i] }
                }
            }
            let expected = (0..<3).map { i in Self.treeSum(given.map { $0[i] }).bitPattern }
            for x in 0..<n { XCTAssertEqual(values[x].map(\.bitPattern), expected, "N \(n), rank \(x)") }
        }
    }
}
