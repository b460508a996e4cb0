import Foundation
import XCTest
import Checkpoint
import Support

final class SafeTensorsFormatTests: XCTestCase {
    func sample() -> SafeTensors {
        SafeTensors(
            tensors: [
                f32Entry("layer0.weight", [2, 3], [1, -2.5, 3.25, .pi, -0.0, 1e-30]),
                f64Entry("layer0/bias", [3], [0.1, -1e300, .infinity]),
                TensorEntry(name: "step", shape: [], int64s: [Int64.min]),
                TensorEntry(name: "counts", shape: [2, 2], int64s: [0, -1, Int64.max, 42]),
                f32Entry("empty", [0, 4], []),
            ],
            metadata: ["format": "trainer", "step": "12", "note": "ünïcode \"quoted\" / slash\nnewline"])
    }

    func testRoundTripWithMetadata() throws {
        let original = sample()
        let decoded = try SafeTensors(decoding: original.encoded(), source: "mem")
        XCTAssertEqual(decoded, original)
        XCTAssertEqual(decoded["layer0.weight"]?.floats(), [1, -2.5, 3.25, .pi, -0.0, 1e-30])
        XCTAssertEqual(decoded["layer0/bias"]?.doubles(), [0.1, -1e300, .infinity])
        XCTAssertEqual(decoded["step"]?.int64s(), [Int64.min])
        XCTAssertEqual(decoded["step"]?.elementCount, 1)
        XCTAssertEqual(decoded["counts"]?.int64s(), [0, -1, Int64.max, 42])
        XCTAssertEqual(decoded["empty"]?.elementCount, 0)
        XCTAssertEqual(decoded["empty"]?.shape, [0, 4])
        XCTAssertNil(decoded["missing"])
        XCTAssertNil(decoded["layer0/bias"]?.floats())
        XCTAssertEqual(decoded.metadata["note"], "ünïcode \"quoted\" / slash\nnewline")
    }

    func testRoundTripPreservesFileOrder() throws {
        let original = SafeTensors(tensors: [
            f32Entry("z", [1], [1]), f32Entry("a", [2], [2, 3]), f32Entry("m", [1], [4]),
        ])
        let decoded = try SafeTensors(decoding: original.encoded(), source: "mem")
        XCTAssertEqual(decoded.tensors.map(\.name), ["z", "a", "m"])
    }

    func testRoundTripEmptyMetadataWritesNoMetadataKey() throws {
        let original = SafeTensors(tensors: [f32Entry("w", [2], [1, 2])])
        let bytes = original.encoded()
        let header = String(decoding: bytes[8..<(8 + Int(bytes[0]))], as: UTF8.self)
        XCTAssertFalse(header.contains("__metadata__"))
        let decoded = try SafeTensors(decoding: bytes, source: "mem")
        XCTAssertEqual(decoded, original)
        XCTAssertEqual(decoded.metadata, [:])
    }

    func testRoundTripNoTensors() throws {
        let empty = SafeTensors(tensors: [])
        XCTAssertEqual(empty.encoded(), le64(8) + Array("{}      ".utf8))
        XCTAssertEqual(try SafeTensors(decoding: empty.encoded(), source: "mem"), empty)
        let onlyMetadata = SafeTensors(tensors: [], metadata: ["k": "v"])
        XCTAssertEqual(try SafeTensors(decoding: onlyMetadata.encoded(), source: "mem"), onlyMetadata)
    }

    func testHeaderIsPaddedWithSpacesToMultipleOf8() throws {
        for length in 0..<16 {
            let name = String(repeating: "n", count: length + 1)
            let bytes = SafeTensors(tensors: [f32Entry(name, [1], [7])]).encoded()
            let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
            XCTAssertEqual(headerLength % 8, 0, "name length \(length + 1)")
            XCTAssertEqual(bytes.count, 8 + headerLength + 4)
            let header = Array(bytes[8..<(8 + headerLength)])
            guard let close = header.lastIndex(of: UInt8(ascii: "}")) else {
                return XCTFail("no closing brace")
            }
            XCTAssertLessThan(header.count - 1 - close, 8)
            XCTAssertTrue(header[(close + 1)...].allSatisfy { $0 == UInt8(ascii: " ") })
            XCTAssertEqual(try SafeTensors(decoding: bytes, source: "mem")[name]?.floats(), [7])
        }
    }

    /// A tiny file written out byte by byte from the specification.
    func testKnownBytesMatchSpecification() throws {
        let file = SafeTensors(tensors: [f32Entry("a", [2], [1.0, -2.0])])
        let json = #"{"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}}"#  // 54 bytes
        let expected: [UInt8] =
            [56, 0, 0, 0, 0, 0, 0, 0]  // N = 54 + 2 spaces of padding
            + Array(json.utf8) + [0x20, 0x20]
            + [0x00, 0x00, 0x80, 0x3F]  // 1.0 as little-endian F32
            + [0x00, 0x00, 0x00, 0xC0]  // -2.0
        XCTAssertEqual(file.encoded(), expected)
        XCTAssertEqual(try SafeTensors(decoding: expected, source: "mem"), file)
    }

    /// Headers as the reference writer lays them out: unsorted keys, no padding, metadata first.
    func testDecodesOtherWritersLayouts() throws {
        let data = floatBytes([0, 1, 2, 3, 4, 5])
        let reference = rawFile(
            header: #"{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}"#, data: data)
        XCTAssertEqual(reference.count, 8 + 64 + 24)
        let decoded = try SafeTensors(decoding: reference, source: "mem")
        XCTAssertEqual(decoded["attn.0"]?.shape, [1, 2, 3])
        XCTAssertEqual(decoded["attn.0"]?.floats(), [0, 1, 2, 3, 4, 5])

        // Listed out of offset order, with metadata, trailing whitespace, and an ignored field.
        let header = """
            { "__metadata__": {"format": "pt"},
              "b": {"shape": [1], "dtype": "F32", "data_offsets": [4, 8], "extra": [1, 2]},
              "a": {"dtype": "U8", "shape": [2, 2], "data_offsets": [0, 4]} }\u{20}\u{20}\t\n
            """
        let bytes = rawFile(header: header, data: [1, 2, 3, 4] + floatBytes([9.5]))
        let other = try SafeTensors(decoding: bytes, source: "mem")
        XCTAssertEqual(other.tensors.map(\.name), ["a", "b"])
        XCTAssertEqual(other["a"]?.bytes, [1, 2, 3, 4])
        XCTAssertEqual(other["a"]?.dtype, .u8)
        XCTAssertEqual(other["b"]?.floats(), [9.5])
        XCTAssertEqual(other.metadata, ["format": "pt"])
        // A null metadata object is no metadata.
        let nullMetadata = rawFile(header: #"{"__metadata__":null}"#, data: [])
        XCTAssertEqual(try SafeTensors(decoding: nullMetadata, source: "mem").metadata, [:])
    }

    func testEveryWholeByteDtypeDecodes() throws {
        for dtype in TensorDType.allCases {
            let header = #"{"t":{"dtype":"\#(dtype.rawValue)","shape":[3],"data_offsets":[0,\#(3 * dtype.byteSize)]}}"#
            let bytes = rawFile(header: header, data: [UInt8](repeating: 7, count: 3 * dtype.byteSize))
            let decoded = try SafeTensors(decoding: bytes, source: "mem")
            XCTAssertEqual(decoded["t"]?.dtype, dtype)
            XCTAssertEqual(decoded["t"]?.elementCount, 3)
            XCTAssertEqual(try SafeTensors(decoding: decoded.encoded(), source: "mem"), decoded)
        }
    }

    func testCopyFloats() throws {
        let entry = f32Entry("w", [2, 2], [1, 2, 3, 4])
        var destination = [Float](repeating: 0, count: 4)
        try destination.withUnsafeMutableBufferPointer { try entry.copyFloats(into: $0, source: "ck.st") }
        XCTAssertEqual(destination, [1, 2, 3, 4])

        var tooSmall = [Float](repeating: 0, count: 3)
        let countMessage = dataError("ck.st") {
            try tooSmall.withUnsafeMutableBufferPointer { try entry.copyFloats(into: $0, source: "ck.st") }
        }
        XCTAssertTrue(countMessage.contains("'w'") && countMessage.contains("4 elements"), countMessage)

        let doubles = f64Entry("d", [1], [1])
        var one = [Float](repeating: 0, count: 1)
        let dtypeMessage = dataError("ck.st") {
            try one.withUnsafeMutableBufferPointer { try doubles.copyFloats(into: $0, source: "ck.st") }
        }
        XCTAssertTrue(dtypeMessage.contains("'d'") && dtypeMessage.contains("F64"), dtypeMessage)
    }

    func testCheckedEntryInitialiser() throws {
        let entry = try TensorEntry(name: "u", dtype: .u16, shape: [2], bytes: [1, 0, 2, 0])
        XCTAssertEqual(entry.elementCount, 2)
        XCTAssertThrowsError(try TensorEntry(name: "u", dtype: .u16, shape: [2], bytes: [1, 0, 2]))
        XCTAssertThrowsError(try TensorEntry(name: "u", dtype: .u8, shape: [-1], bytes: []))
        XCTAssertThrowsError(try TensorEntry(name: "u", dtype: .u8, shape: [Int.max, 2], bytes: []))
    }

    func testCRC32() {
        XCTAssertEqual(crc32(of: Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(crc32(of: []), 0)
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = crc32(of: bytes)
        let firstHalf = crc32(of: Array(bytes[..<400]))
        XCTAssertEqual(crc32(of: Array(bytes[400...]), initial: firstHalf), whole)
        let floats: [Float] = [1, 2, 3]
        XCTAssertEqual(floats.withUnsafeBytes { crc32(of: $0) }, crc32(of: floatBytes(floats)))
    }
}
