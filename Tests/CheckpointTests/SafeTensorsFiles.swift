import Foundation
import XCTest
import Checkpoint
import Support
import TestSupport

/// safetensors files and tensors written by hand, and the errors reading them must give.

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

/// The message of the `.data` error `body` throws, after checking that it starts with `source`
/// and stays short: a file's bad header is quoted in part, never whole.
func dataError(
    _ source: String, file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> Void
) -> String {
    let message = assertTrainerError(.data, subject: source, file: file, line: line, body)
    XCTAssertLessThan(message.count, 400, message, file: file, line: line)
    if ProcessInfo.processInfo.environment["CHECKPOINT_TESTS_PRINT_ERRORS"] != nil {
        print("error message: \(message)")
    }
    return message
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
