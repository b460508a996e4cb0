import Foundation
import XCTest
import Checkpoint
import Support

/// Small deterministic generator for the fuzz tests (SplitMix64).
struct SplitMix64 {
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

func le64(_ value: UInt64) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } }
}

/// A file made of a raw header string (not padded) and a data buffer.
func rawFile(header: String, data: [UInt8]) -> [UInt8] {
    let json = Array(header.utf8)
    return le64(UInt64(json.count)) + json + data
}

func f32Entry(_ name: String, _ shape: [Int], _ values: [Float]) -> TensorEntry {
    values.withUnsafeBufferPointer { TensorEntry(name: name, shape: shape, floats: $0) }
}

func f64Entry(_ name: String, _ shape: [Int], _ values: [Double]) -> TensorEntry {
    values.withUnsafeBufferPointer { TensorEntry(name: name, shape: shape, doubles: $0) }
}

/// The message of the `.data` error `body` throws, after checking its kind, that it names
/// `source` and is one line.
func dataError(
    _ source: String, file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> Void
) -> String {
    do {
        try body()
        XCTFail("expected an error for \(source)", file: file, line: line)
        return ""
    } catch let error as TrainerError {
        XCTAssertEqual(error.kind, .data, error.message, file: file, line: line)
        XCTAssertTrue(error.message.hasPrefix(source + ": "), error.message, file: file, line: line)
        XCTAssertFalse(error.message.contains("\n"), error.message, file: file, line: line)
        XCTAssertLessThan(error.message.count, 400, error.message, file: file, line: line)
        if ProcessInfo.processInfo.environment["CHECKPOINT_TESTS_PRINT_ERRORS"] != nil {
            print("error message: \(error.message)")
        }
        return error.message
    } catch {
        XCTFail("unexpected error type: \(error)", file: file, line: line)
        return ""
    }
}

/// Decodes `bytes` expecting a `.data` error naming the source; returns the message.
func rejection(
    _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line
) -> String {
    let source = "/ckpt/test.safetensors"
    return dataError(source, file: file, line: line) {
        _ = try SafeTensors(decoding: bytes, source: source)
    }
}
