import Foundation
import XCTest
import Checkpoint
import Support

/// Malformed files: every one is a `.data` error whose one-line message names the file.
final class SafeTensorsRejectionTests: XCTestCase {
    let valid = SafeTensors(
        tensors: [f32Entry("a", [2], [1, 2]), f32Entry("b", [1, 1], [3])],
        metadata: ["k": "v"]
    ).encoded()

    /// Header for tensors given as (name, dtype, shape, begin, end), data of `dataLength` bytes.
    func file(_ entries: [(String, String, String, String)], dataLength: Int, extra: String = "") -> [UInt8] {
        let fields = entries.map { name, dtype, shape, offsets in
            #""\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}"#
        }
        let header = "{" + (fields + (extra.isEmpty ? [] : [extra])).joined(separator: ",") + "}"
        return rawFile(header: header, data: [UInt8](repeating: 0, count: dataLength))
    }

    func assertRejected(
        _ bytes: [UInt8], mentioning words: [String], file: StaticString = #filePath, line: UInt = #line
    ) {
        let message = rejection(bytes, file: file, line: line)
        for word in words {
            XCTAssertTrue(message.contains(word), "\(message) should mention \(word)", file: file, line: line)
        }
    }

    func testTruncatedFiles() throws {
        XCTAssertNoThrow(try SafeTensors(decoding: valid, source: "mem"))
        let headerLength = Int(valid[0])
        // Inside the 8-byte length, just after it, inside the header, at the end of the header,
        // and inside the data.
        let cuts = [0, 1, 5, 7, 8, 9, 8 + headerLength / 2, 8 + headerLength - 1, 8 + headerLength,
                    8 + headerLength + 3, valid.count - 1]
        for cut in cuts {
            let message = rejection(Array(valid[..<cut]))
            if cut < 8 + headerLength {
                XCTAssertTrue(message.contains("truncated"), "cut \(cut): \(message)")
            }
        }
    }

    func testHeaderLengthBeyondFile() {
        assertRejected(le64(1000) + Array("{}".utf8), mentioning: ["truncated", "1000"])
    }

    func testHeaderLengthBeyondLimit() {
        assertRejected(le64(100_000_001) + Array("{}".utf8), mentioning: ["header length 100000001", "limit"])
        assertRejected(le64(UInt64.max) + Array("{}".utf8), mentioning: ["limit"])
        assertRejected(le64(1 << 63) + Array("{}".utf8), mentioning: ["limit"])
    }

    func testHeaderNotJSON() {
        assertRejected(rawFile(header: "{not json}", data: []), mentioning: ["not valid JSON"])
        assertRejected(rawFile(header: #"{"a":{"dtype":"F32""#, data: []), mentioning: ["JSON"])
        assertRejected(rawFile(header: "", data: []), mentioning: ["JSON object"])
        // Padding must be whitespace: a NUL after the object is garbage.
        assertRejected(rawFile(header: "{}\u{0}", data: []), mentioning: ["not valid JSON"])
        // A deeply nested value is an error, not a stack overflow.
        let deep = "{\"a\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        _ = rejection(rawFile(header: deep, data: []))
    }

    func testHeaderNotUTF8() {
        let header: [UInt8] = Array(#"{"a"#.utf8) + [0xFF, 0xFE] + Array(#"":1}"#.utf8)
        assertRejected(le64(UInt64(header.count)) + header, mentioning: ["UTF-8"])
    }

    func testHeaderNotAnObject() {
        assertRejected(rawFile(header: "[1, 2, 3]", data: []), mentioning: ["JSON object"])
        assertRejected(rawFile(header: #""text""#, data: []), mentioning: ["JSON object"])
        assertRejected(rawFile(header: " {}", data: []), mentioning: ["JSON object"])
        assertRejected(rawFile(header: #"{"a":[1]}"#, data: []), mentioning: ["'a'"])
        assertRejected(rawFile(header: #"{"a":"F32"}"#, data: []), mentioning: ["'a'"])
    }

    func testUnknownDtype() {
        assertRejected(file([("w", "F33", "[1]", "[0,4]")], dataLength: 4), mentioning: ["'w'", "F33", "dtype"])
        assertRejected(file([("w", "f32", "[1]", "[0,4]")], dataLength: 4), mentioning: ["f32"])
        assertRejected(file([("w", "F4", "[2]", "[0,1]")], dataLength: 1), mentioning: ["F4", "sub-byte"])
        assertRejected(rawFile(header: #"{"w":{"dtype":4,"shape":[],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
                       mentioning: ["'w'.dtype"])
    }

    func testMissingFields() {
        assertRejected(rawFile(header: #"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
                       mentioning: ["'w'", "dtype"])
        assertRejected(rawFile(header: #"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
                       mentioning: ["'w'", "shape"])
        assertRejected(rawFile(header: #"{"w":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0]),
                       mentioning: ["'w'", "data_offsets"])
        assertRejected(rawFile(header: #"{"w":{"dtype":"F32","shape":null,"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
                       mentioning: ["'w'", "shape"])
    }

    func testShapeOffsetMismatch() {
        assertRejected(file([("w", "F32", "[2]", "[0,4]")], dataLength: 4), mentioning: ["'w'", "needs 8 bytes", "span 4"])
        assertRejected(file([("w", "F64", "[1]", "[0,4]")], dataLength: 4), mentioning: ["'w'"])
        assertRejected(file([("w", "F32", "[]", "[0,0]")], dataLength: 0), mentioning: ["'w'"])
    }

    func testShapeOverflow() {
        let huge = "[4611686018427387904,4611686018427387904]"  // 2^62 * 2^62
        assertRejected(file([("w", "F32", huge, "[0,4]")], dataLength: 4), mentioning: ["'w'", "too large"])
        let bytesOverflow = "[4611686018427387904]"  // elements fit, bytes (x4) do not
        assertRejected(file([("w", "F32", bytesOverflow, "[0,4]")], dataLength: 4), mentioning: ["'w'", "too large"])
        let beyondInt = "[9223372036854775808]"  // 2^63
        assertRejected(file([("w", "U8", beyondInt, "[0,1]")], dataLength: 1), mentioning: ["'w'.shape[0]", "too large"])
        assertRejected(file([("w", "U8", "[1]", "[0,18446744073709551615]")], dataLength: 1), mentioning: ["too large"])
        assertRejected(file([("w", "U8", "[1e30]", "[0,1]")], dataLength: 1), mentioning: ["'w'.shape[0]"])
    }

    func testNegativeAndNonIntegerNumbers() {
        assertRejected(file([("w", "U8", "[-1]", "[0,1]")], dataLength: 1), mentioning: ["'w'.shape[0]", "-1", "negative"])
        assertRejected(file([("w", "U8", "[1]", "[-1,0]")], dataLength: 1), mentioning: ["'w'.data_offsets[0]", "negative"])
        assertRejected(file([("w", "U8", "[1.5]", "[0,1]")], dataLength: 1), mentioning: ["'w'.shape[0]", "1.5"])
        assertRejected(file([("w", "U8", "[true]", "[0,1]")], dataLength: 1), mentioning: ["'w'.shape[0]"])
        assertRejected(file([("w", "U8", #"["1"]"#, "[0,1]")], dataLength: 1), mentioning: ["'w'.shape[0]"])
        assertRejected(file([("w", "U8", "[1]", "[0]")], dataLength: 1), mentioning: ["'w'", "exactly 2"])
        assertRejected(file([("w", "U8", "[1]", "[0,1,1]")], dataLength: 1), mentioning: ["'w'", "exactly 2"])
        assertRejected(file([("w", "U8", "[1]", "{}")], dataLength: 1), mentioning: ["'w'.data_offsets"])
    }

    func testEndBeforeBegin() {
        assertRejected(file([("w", "U8", "[0]", "[1,0]")], dataLength: 1), mentioning: ["'w'", "[1, 0]"])
    }

    func testOverlappingTensors() {
        let entries = [("a", "F32", "[2]", "[0,8]"), ("b", "F32", "[1]", "[4,8]")]
        assertRejected(file(entries, dataLength: 8), mentioning: ["overlap", "'a'"])
        let same = [("a", "F32", "[1]", "[0,4]"), ("b", "I32", "[1]", "[0,4]")]
        assertRejected(file(same, dataLength: 4), mentioning: ["overlap"])
    }

    func testGapBetweenTensors() {
        let entries = [("a", "F32", "[1]", "[0,4]"), ("b", "F32", "[1]", "[8,12]")]
        assertRejected(file(entries, dataLength: 12), mentioning: ["'b'", "gap", "4..<8"])
        assertRejected(file([("a", "F32", "[1]", "[4,8]")], dataLength: 8), mentioning: ["'a'", "gap", "0..<4"])
    }

    func testTrailingBytesNotCovered() {
        assertRejected(file([("a", "F32", "[1]", "[0,4]")], dataLength: 5), mentioning: ["1 trailing byte after"])
        assertRejected(rawFile(header: "{}", data: [0]), mentioning: ["trailing"])
        assertRejected(valid + [0], mentioning: ["trailing"])
    }

    func testOffsetsPastTheEnd() {
        assertRejected(file([("a", "F32", "[1]", "[0,4]")], dataLength: 3), mentioning: ["'a'", "past the end", "3-byte"])
        assertRejected(file([("a", "U8", "[0]", "[9,9]")], dataLength: 0), mentioning: ["'a'", "past the end"])
    }

    func testDuplicateNames() throws {
        // Foundation's JSON parsers keep one of two equal keys and give no way to notice.
        // A duplicate that claims a different range leaves a gap, which is caught...
        let different = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
        _ = rejection(rawFile(header: different, data: [1, 2]))
        // ...but a duplicate of the same range goes unnoticed: the file reads as one tensor.
        let same = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
        let decoded = try SafeTensors(decoding: rawFile(header: same, data: [1]), source: "mem")
        XCTAssertEqual(decoded.tensors.count, 1)
    }

    func testNonStringMetadata() {
        for metadata in [#"{"k":1}"#, #"{"k":{"n":"v"}}"#, #"{"k":null}"#, #"["v"]"#, #""v""#, "3"] {
            let bytes = rawFile(header: #"{"__metadata__":\#(metadata)}"#, data: [])
            assertRejected(bytes, mentioning: ["__metadata__", "strings"])
        }
    }

    /// Decodes damaged `bytes`: either a well-formed file, which encodes and decodes to itself,
    /// or a `.data` error naming `source`, never a trap. Returns whether it decoded.
    func decodesOrIsRejected(_ bytes: [UInt8], source: String, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        do {
            let decoded = try SafeTensors(decoding: bytes, source: source)
            XCTAssertEqual(try SafeTensors(decoding: decoded.encoded(), source: source), decoded, file: file, line: line)
            return true
        } catch let error as TrainerError {
            XCTAssertEqual(error.kind, .data, error.message, file: file, line: line)
            XCTAssertTrue(error.message.hasPrefix(source + ": "), error.message, file: file, line: line)
            return false
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return false
        }
    }

    func testBitFlipsNeverTrap() {
        var random = SplitMix64(state: 0x5AFE_7E45)
        var decoded = 0
        for _ in 0..<200 {
            var bytes = valid
            let position = random.next(below: bytes.count)
            bytes[position] ^= UInt8(1) << UInt8(random.next(below: 8))
            if decodesOrIsRejected(bytes, source: "/ckpt/flip") { decoded += 1 }
        }
        // Flips in the data buffer decode; flips in the length or JSON structure do not.
        XCTAssertGreaterThan(decoded, 0)
        XCTAssertLessThan(decoded, 200)
    }

    func testRandomBytesAndMultipleFlipsNeverTrap() {
        var random = SplitMix64(state: 42)
        var decoded = 0
        for round in 0..<300 {
            var bytes = valid
            for _ in 0..<(1 + random.next(below: 6)) {
                let position = random.next(below: bytes.count)
                bytes[position] = UInt8(truncatingIfNeeded: random.next())
            }
            if round % 3 == 0 {
                bytes = Array(bytes[..<random.next(below: bytes.count + 1)])
            }
            if decodesOrIsRejected(bytes, source: "/ckpt/random") { decoded += 1 }
        }
        // Both outcomes occur: the damage reaches the data buffer alone, and the structure.
        XCTAssertGreaterThan(decoded, 0)
        XCTAssertLessThan(decoded, 300)
    }
}

/// Small deterministic generator for the fuzz tests (SplitMix64).
private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
