import TestSupport
import XCTest
import Data
import Support

final class GzipDecompressionTests: XCTestCase {
    func testOutputGrowsPastTheFirstBuffer() throws {
        let file = gzipZeros(after: [1, 2, 200], zeroCount: 1_000_000)
        XCTAssertLessThan(file.count, 10_000)
        let output = try gunzip(file, path: "zeros.gz")
        XCTAssertEqual(output.count, 1_000_003)
        XCTAssertEqual(Array(output.prefix(4)), [1, 2, 200, 0])
        XCTAssertTrue(output.dropFirst(3).allSatisfy { $0 == 0 })
    }

    func testLimitIsEnforced() throws {
        let file = gzipZeros(after: [], zeroCount: 300_000)
        assertTrainerError(.data, ["zeros.gz: decompresses to more than 299999 bytes"]) {
            try gunzip(file, path: "zeros.gz", limit: 299_999)
        }
        XCTAssertEqual(try gunzip(file, path: "zeros.gz", limit: 300_000).count, 300_000)
        XCTAssertEqual(maximumDecompressedSize, 1 << 31)
    }

    func testHighlyCompressedIDXLoads() throws {
        let directory = try scratchDirectory()
        let header = idxImages(count: 1000, rows: 28, columns: 28, pixels: [])
        try write(gzipZeros(after: header, zeroCount: 1000 * 784), to: "train-images-idx3-ubyte.gz", in: directory)
        try write(gzipZeros(after: idxLabels([], count: 1000), zeroCount: 1000), to: "train-labels-idx1-ubyte.gz",
                  in: directory)
        let set = try DataSource.idx(directory: directory).load(split: .train, seed: 0)
        XCTAssertEqual(set.count, 1000)
        XCTAssertEqual(set.featureCount, 784)
        XCTAssertEqual(set.inferredClassCount, 1)
    }

    func testGzipDetectedByMagicWithoutSuffix() throws {
        let directory = try scratchDirectory()
        let path = try write(gzipStored(Array("1,2\n".utf8)), to: "packed.csv", in: directory)
        XCTAssertEqual(try DataSource.csv(path: path).load(split: .train, seed: 0).labels, [1])
    }

    func testDevicesAreRejected() {
        assertTrainerError(.noInput, ["/dev/zero: is a device or socket"]) {
            try DataSource.csv(path: "/dev/zero").load(split: .train, seed: 0)
        }
    }
}
