import XCTest
import Batching
import Data

final class BatchBufferTests: XCTestCase {
    let bytes = Dataset(name: "bytes", count: 3, featureCount: 2, storage: .bytes([0, 255, 51, 102, 7, 9], scale: 1 / 255),
                        labels: [2, 0, 1])
    let floats = Dataset(name: "floats", count: 3, featureCount: 2, storage: .floats([1, 2, 3, 4, 5, 6]),
                         labels: [0.5, -1, 2])

    func testGatherBytesAsFloat() {
        let buffer = BatchBuffer<Float>(capacity: 4, featureCount: 2)
        XCTAssertEqual(buffer.rows, 0)
        buffer.gather(from: bytes, indices: [1, 0, 1][...])
        XCTAssertEqual(buffer.rows, 3)
        XCTAssertEqual(Array(buffer.features.prefix(6)), [51, 102, 0, 255, 51, 102].map { Float($0) * (1 / 255) })
        XCTAssertEqual(buffer.features[3], 1)
        XCTAssertEqual(Array(buffer.labels.prefix(3)), [0, 2, 0])
    }

    func testGatherFloatsAndReuse() {
        let buffer = BatchBuffer<Float>(capacity: 3, featureCount: 2)
        buffer.gather(from: floats, indices: [2, 0, 1][...])
        XCTAssertEqual(Array(buffer.features), [5, 6, 1, 2, 3, 4])
        XCTAssertEqual(Array(buffer.labels), [2, 0.5, -1])
        let order: [Int32] = [0, 1, 2, 1]
        buffer.gather(from: floats, indices: order[3...])
        XCTAssertEqual(buffer.rows, 1)
        XCTAssertEqual(Array(buffer.features.prefix(2)), [3, 4])
        XCTAssertEqual(buffer.labels[0], -1)
        buffer.gather(from: floats, indices: [][...])
        XCTAssertEqual(buffer.rows, 0)
    }

    func testGatherIntoDouble() {
        let buffer = BatchBuffer<Double>(capacity: 2, featureCount: 2)
        buffer.gather(from: bytes, indices: [2, 1][...])
        XCTAssertEqual(Array(buffer.features), [7, 9, 51, 102].map { Double($0) * Double(Float(1) / 255) })
        XCTAssertEqual(Array(buffer.labels), [1, 0])
        buffer.gather(from: floats, indices: [1][...])
        XCTAssertEqual(Array(buffer.features.prefix(2)), [3, 4])
    }
}

final class BatchBufferSizeTests: XCTestCase {
    func testExactCounts() {
        let buffer = BatchBuffer<Float>(capacity: 5, featureCount: 3)
        XCTAssertEqual(buffer.features.count, 15)
        XCTAssertEqual(buffer.labels.count, 5)
        XCTAssertTrue(buffer.features.allSatisfy { $0 == 0 })
        let empty = BatchBuffer<Float>(capacity: 0, featureCount: 3)
        XCTAssertEqual(empty.features.count, 0)
        XCTAssertEqual(empty.labels.count, 0)
    }
}
