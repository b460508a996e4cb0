import TestSupport
import XCTest
import Data
import Support

final class IDXLoadingTests: XCTestCase {
    /// Three 2×2 images and their labels.
    let pixels: [UInt8] = [0, 255, 51, 102, 1, 2, 3, 4, 10, 20, 30, 40]
    let labelBytes: [UInt8] = [9, 0, 3]

    private func writePair(in directory: String, gzip: Bool = false, prefix: String = "train",
                           images: [UInt8]? = nil, labels: [UInt8]? = nil) throws {
        let imageFile = images ?? idxImages(count: 3, rows: 2, columns: 2, pixels: pixels)
        let labelFile = labels ?? idxLabels(labelBytes)
        let suffix = gzip ? ".gz" : ""
        try write(gzip ? gzipStored(imageFile) : imageFile, to: "\(prefix)-images-idx3-ubyte\(suffix)", in: directory)
        try write(gzip ? gzipStored(labelFile) : labelFile, to: "\(prefix)-labels-idx1-ubyte\(suffix)", in: directory)
    }

    private func checkGoodSet(_ set: Dataset, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(set.count, 3, file: file, line: line)
        XCTAssertEqual(set.featureCount, 4, file: file, line: line)
        XCTAssertEqual(set.labels, [9, 0, 3], file: file, line: line)
        let (element, scale, bytes) = set.storedFeatures()
        XCTAssertEqual(element, .uint8, file: file, line: line)
        XCTAssertEqual(bytes, pixels, file: file, line: line)
        XCTAssertEqual(scale, 1 / 255, file: file, line: line)
        XCTAssertEqual(set.inferredClassCount, 10, file: file, line: line)
    }

    func testRawPairLoads() throws {
        let directory = try scratchDirectory()
        try writePair(in: directory)
        let set = try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        checkGoodSet(set)
        XCTAssertEqual(set.name, directory + "/train-images-idx3-ubyte")
    }

    func testGzipPairLoadsForTestSplit() throws {
        let directory = try scratchDirectory()
        try writePair(in: directory, gzip: true, prefix: "t10k")
        let set = try DataSource.idx(directory: directory + "/").load(split: .test, seed: 1)
        checkGoodSet(set)
        XCTAssertTrue(set.name.hasSuffix("/t10k-images-idx3-ubyte.gz"))
    }

    func testRawFileIsPreferredOverGzip() throws {
        let directory = try scratchDirectory()
        try writePair(in: directory)
        // A corrupt .gz beside the raw files must not be read.
        try write([0x1F, 0x8B, 1, 2, 3], to: "train-images-idx3-ubyte.gz", in: directory)
        checkGoodSet(try DataSource.idx(directory: directory).load(split: .train, seed: 1))
    }

    func testMultiMemberGzipLoads() throws {
        let directory = try scratchDirectory()
        let images = idxImages(count: 3, rows: 2, columns: 2, pixels: pixels)
        try write(gzipStored(Array(images[..<7])) + gzipStored(Array(images[7...])),
                  to: "train-images-idx3-ubyte.gz", in: directory)
        try write(gzipStored(idxLabels(labelBytes)), to: "train-labels-idx1-ubyte.gz", in: directory)
        checkGoodSet(try DataSource.idx(directory: directory).load(split: .train, seed: 1))
    }

    func testWrongMagic() throws {
        let directory = try scratchDirectory()
        try writePair(in: directory, images: idxImages(count: 3, rows: 2, columns: 2, pixels: pixels, magic: 0x0804))
        assertTrainerError(.data, ["train-images-idx3-ubyte:", "bad magic number 0x00000804",
                                   "expected 0x00000803 (IDX3 uint8 images)"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
        try writePair(in: directory, labels: idxImages(count: 3, rows: 2, columns: 2, pixels: pixels))
        assertTrainerError(.data, ["train-labels-idx1-ubyte:", "bad magic number 0x00000803",
                                   "expected 0x00000801 (IDX1 uint8 labels)"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
    }

    func testShortHeader() throws {
        let directory = try scratchDirectory()
        try writePair(in: directory, images: [0, 0, 8, 3, 0, 0])
        assertTrainerError(.data, ["train-images-idx3-ubyte:", "file is 6 bytes", "16-byte header"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
        try writePair(in: directory, images: [0, 0])
        assertTrainerError(.data, ["file is 2 bytes"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
    }

    func testTruncatedImages() throws {
        let directory = try scratchDirectory()
        try writePair(in: directory, images: idxImages(count: 3, rows: 2, columns: 2, pixels: Array(pixels.dropLast(5))))
        assertTrainerError(.data, ["train-images-idx3-ubyte:", "truncated", "3 images of 2×2", "12 bytes",
                                   "only 7"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
    }

    func testTruncatedLabels() throws {
        let directory = try scratchDirectory()
        try writePair(in: directory, labels: idxLabels([1, 2], count: 3))
        assertTrainerError(.data, ["train-labels-idx1-ubyte:", "truncated", "3 labels", "only 2"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
    }

    func testTrailingBytes() throws {
        let directory = try scratchDirectory()
        try writePair(in: directory, images: idxImages(count: 3, rows: 2, columns: 2, pixels: pixels + [7, 7]))
        assertTrainerError(.data, ["train-images-idx3-ubyte:", "2 trailing bytes", "12 bytes"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
        try writePair(in: directory, labels: idxLabels(labelBytes, count: 2))
        assertTrainerError(.data, ["train-labels-idx1-ubyte:", "1 trailing byte after"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
    }

    func testZeroSizes() throws {
        let directory = try scratchDirectory()
        try writePair(in: directory, images: idxImages(count: 0, rows: 2, columns: 2, pixels: []))
        assertTrainerError(.data, ["0 images of 2×2"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
        try writePair(in: directory, images: idxImages(count: 3, rows: 0, columns: 2, pixels: []))
        assertTrainerError(.data, ["3 images of 0×2"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
    }

    func testCountMismatchNamesBothFiles() throws {
        let directory = try scratchDirectory()
        try writePair(in: directory, labels: idxLabels([1, 2]))
        assertTrainerError(.data, ["train-images-idx3-ubyte", "has 3 images", "train-labels-idx1-ubyte has 2 labels"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
    }

    /// IDX sizes are 32-bit, so the largest claims are ~4·10^9 images; 4·10^9 × 28 × 28 ≈ 3·10^12
    /// bytes, and 10^9 × 10^6 × 10^6 overflows 64 bits. Both must fail fast from the header alone.
    func testHugeHeaderIsRejectedBeforeAllocating() throws {
        let directory = try scratchDirectory()
        let clock = ContinuousClock()
        let start = clock.now
        try writePair(in: directory, images: idxImages(count: 4_000_000_000, rows: 28, columns: 28, pixels: pixels))
        assertTrainerError(.data, ["truncated", "4000000000 images of 28×28", "3136000000000 bytes", "only 12"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
        let gzipDirectory = try scratchDirectory()
        try writePair(in: gzipDirectory, gzip: true,
                      images: idxImages(count: 4_000_000_000, rows: 28, columns: 28, pixels: pixels))
        assertTrainerError(.data, ["train-images-idx3-ubyte.gz:", "truncated", "3136000000000 bytes"]) {
            try DataSource.idx(directory: gzipDirectory).load(split: .train, seed: 1)
        }
        try writePair(in: directory, images: idxImages(count: 1_000_000_000, rows: 1_000_000, columns: 1_000_000,
                                                       pixels: pixels))
        assertTrainerError(.data, ["1000000000 images of 1000000×1000000", "too large"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
        try writePair(in: directory, labels: idxLabels([1, 2, 3], count: 4_000_000_000))
        assertTrainerError(.data, ["train-labels-idx1-ubyte", "truncated", "4000000000 labels"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
        XCTAssertLessThan(clock.now - start, .seconds(2))
    }

    func testCorruptGzip() throws {
        let directory = try scratchDirectory()
        var damaged = gzipStored(idxImages(count: 3, rows: 2, columns: 2, pixels: pixels))
        damaged[20] ^= 0xFF  // a payload byte: the CRC check fails
        try writePair(in: directory, gzip: true)
        try write(damaged, to: "train-images-idx3-ubyte.gz", in: directory)
        assertTrainerError(.data, ["train-images-idx3-ubyte.gz:", "corrupt gzip data"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
        try write([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF], to: "train-images-idx3-ubyte.gz",
                  in: directory)
        assertTrainerError(.data, ["train-images-idx3-ubyte.gz:", "corrupt gzip data"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
        // Not gzip at all, but named .gz.
        try write(idxImages(count: 3, rows: 2, columns: 2, pixels: pixels), to: "train-images-idx3-ubyte.gz",
                  in: directory)
        assertTrainerError(.data, ["train-images-idx3-ubyte.gz:", "corrupt gzip data"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
    }

    func testTruncatedAndEmptyGzip() throws {
        let directory = try scratchDirectory()
        let whole = gzipStored(idxImages(count: 3, rows: 2, columns: 2, pixels: pixels))
        try writePair(in: directory, gzip: true)
        for cut in [1, 6, whole.count - 12] {
            try write(Array(whole.dropLast(cut)), to: "train-images-idx3-ubyte.gz", in: directory)
            assertTrainerError(.data, ["train-images-idx3-ubyte.gz:", "truncated gzip data"]) {
                try DataSource.idx(directory: directory).load(split: .train, seed: 1)
            }
        }
        try write([UInt8](), to: "train-images-idx3-ubyte.gz", in: directory)
        assertTrainerError(.data, ["train-images-idx3-ubyte.gz:", "truncated gzip data"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
    }

    func testGarbageAfterGzipStream() throws {
        let directory = try scratchDirectory()
        try writePair(in: directory, gzip: true)
        let whole = gzipStored(idxImages(count: 3, rows: 2, columns: 2, pixels: pixels))
        try write(whole + [0, 0, 0], to: "train-images-idx3-ubyte.gz", in: directory)
        assertTrainerError(.data, ["train-images-idx3-ubyte.gz:", "3 unexpected bytes after the end of the gzip stream"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
    }

    func testMissingDirectoryAndFiles() throws {
        let directory = try scratchDirectory()
        assertTrainerError(.noInput, [directory + "/nope:", "no such directory"]) {
            try DataSource.idx(directory: directory + "/nope").load(split: .train, seed: 1)
        }
        assertTrainerError(.noInput, ["train-images-idx3-ubyte nor train-images-idx3-ubyte.gz"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
        try writePair(in: directory)
        assertTrainerError(.noInput, ["t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz"]) {
            try DataSource.idx(directory: directory).load(split: .test, seed: 1)
        }
        let file = try write("x", to: "plain", in: directory)
        assertTrainerError(.noInput, [file + ":", "is not a directory"]) {
            try DataSource.idx(directory: file).load(split: .train, seed: 1)
        }
        // A directory where the images file should be.
        try FileManager.default.removeItem(atPath: directory + "/train-images-idx3-ubyte")
        try FileManager.default.createDirectory(atPath: directory + "/train-images-idx3-ubyte",
                                                withIntermediateDirectories: false)
        assertTrainerError(.noInput, ["train-images-idx3-ubyte:", "is a directory"]) {
            try DataSource.idx(directory: directory).load(split: .train, seed: 1)
        }
    }
}
