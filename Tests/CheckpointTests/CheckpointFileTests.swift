import Foundation
import TestSupport
import XCTest
import Checkpoint
import Support

final class CheckpointFileTests: XCTestCase {
    func entries(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    func testWriteThenRead() throws {
        let directory = try scratchDirectory()
        let path = directory + "/model.safetensors"
        let checkpoint = SafeTensors(tensors: [f32Entry("w", [3], [1, 2, 3])], metadata: ["step": "1"])
        try checkpoint.write(to: path)
        XCTAssertEqual(try SafeTensors(contentsOf: path), checkpoint)
        XCTAssertEqual(try entries(in: directory), ["model.safetensors"])
    }

    func testWriteReplacesExistingFileAndLeavesNoTemporaries() throws {
        let directory = try scratchDirectory()
        let path = directory + "/model.safetensors"
        try Array("old contents that are longer than the new file will be, by quite a lot".utf8)
            .withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
        let checkpoint = SafeTensors(tensors: [f32Entry("w", [1], [5])])
        try checkpoint.write(to: path)
        XCTAssertEqual(try Array(Data(contentsOf: URL(fileURLWithPath: path))), checkpoint.encoded())
        let second = SafeTensors(tensors: [f32Entry("w", [2], [6, 7])])
        try second.write(to: path)
        XCTAssertEqual(try SafeTensors(contentsOf: path), second)
        XCTAssertEqual(try entries(in: directory), ["model.safetensors"])
    }

    func testAtomicFileWritesBytesAndRelativePaths() throws {
        let directory = try scratchDirectory()
        try AtomicFile.write(Array("latest-0001\n".utf8), to: directory + "/latest")
        XCTAssertEqual(try String(contentsOfFile: directory + "/latest", encoding: .utf8), "latest-0001\n")
        try AtomicFile.write([], to: directory + "/empty")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: directory + "/empty")).count, 0)
        XCTAssertEqual(AtomicFile.directory(of: "a/b/c"), "a/b")
        XCTAssertEqual(AtomicFile.directory(of: "c"), ".")
        XCTAssertEqual(AtomicFile.directory(of: "/c"), "/")
        // A bare file name goes to the working directory (and fsyncs ".").
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(directory))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        try AtomicFile.write([1, 2, 3], to: "bare")
        XCTAssertEqual(try Array(Data(contentsOf: URL(fileURLWithPath: directory + "/bare"))), [1, 2, 3])
        XCTAssertEqual(try entries(in: directory), ["bare", "empty", "latest"])
    }

    /// An output that cannot be written is "cannot write" (exit 73), whatever the reason.
    func testWriteIntoMissingDirectoryNamesThePath() throws {
        let directory = try scratchDirectory()
        let path = directory + "/no/such/dir/model.safetensors"
        assertTrainerError(.cannotWrite, subject: path) { try SafeTensors(tensors: []).write(to: path) }
        XCTAssertEqual(try entries(in: directory), [])
    }

    func testWriteOverADirectoryFailsAndCleansUp() throws {
        let directory = try scratchDirectory()
        let target = directory + "/ckpt"
        try FileManager.default.createDirectory(atPath: target + "/inside", withIntermediateDirectories: true)
        do {
            try AtomicFile.write([1], to: target)
            XCTFail("expected an error")
        } catch let error as TrainerError {
            XCTAssertTrue(error.message.hasPrefix(target + ": "), error.message)
        }
        XCTAssertEqual(try entries(in: directory), ["ckpt"])
    }

    func testWriteRefusesDuplicateOrReservedNames() throws {
        let directory = try scratchDirectory()
        let path = directory + "/dup.safetensors"
        let duplicate = SafeTensors(tensors: [f32Entry("w", [1], [1]), f32Entry("w", [1], [2])])
        XCTAssertNotNil(duplicate.encodingProblem())
        let message = dataError(path) { try duplicate.write(to: path) }
        XCTAssertTrue(message.contains("duplicate"), message)
        let reserved = SafeTensors(tensors: [f32Entry("__metadata__", [1], [1])])
        _ = dataError(path) { try reserved.write(to: path) }
        XCTAssertEqual(try entries(in: directory), [])
    }

    func testReadMissingOrDirectoryIsNoInput() throws {
        let directory = try scratchDirectory()
        assertTrainerError(.noInput, subject: directory) { _ = try SafeTensors(contentsOf: directory) }
        let missing = directory + "/missing.safetensors"
        assertTrainerError(.noInput, subject: missing) { _ = try SafeTensors(contentsOf: missing) }
        assertTrainerError(.noInput, subject: "") { _ = try SafeTensors(contentsOf: "") }
    }

    func testReadMalformedFileIsDataNamingPath() throws {
        let directory = try scratchDirectory()
        let path = directory + "/bad.safetensors"
        try AtomicFile.write([1, 2, 3], to: path)
        let message = dataError(path) { _ = try SafeTensors(contentsOf: path) }
        XCTAssertTrue(message.contains("truncated"), message)
    }

    func testLargeFileRoundTrip() throws {
        let directory = try scratchDirectory()
        let path = directory + "/large.safetensors"
        let values = (0..<600_000).map { Float($0) * 0.5 }
        let checkpoint = SafeTensors(tensors: [f32Entry("big", [600, 1000], values)])
        try checkpoint.write(to: path)
        let read = try SafeTensors(contentsOf: path)
        var destination = [Float](repeating: 0, count: values.count)
        try destination.withUnsafeMutableBufferPointer { try read["big"]?.copyFloats(into: $0, source: path) }
        XCTAssertEqual(destination, values)
    }
}
