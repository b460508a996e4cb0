import Foundation
import Support
import TestSupport
import Training
import XCTest

/// CRC-32C's check values, and our event files read by PyPI's `tensorboard` (in `.build/venv`,
/// made by `launch/install --tests`): its EventAccumulator for the scalars, its record reader
/// for the CRCs. Fails, never skips, when that package is missing.
final class TensorBoardTests: XCTestCase {
    func testCRC32CCheckValues() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([]), 0)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
        // tensorboard's masked_crc32c(b"123456789"): rotated right by 15, plus 0xA282EAD8.
        XCTAssertEqual(CRC32C.masked(0xE306_9283), 0xC78A_B0E5)
    }

    func testRecordFraming() {
        let record = TensorBoardWriter.record([1, 2, 3])
        XCTAssertEqual(record.count, 8 + 4 + 3 + 4)
        XCTAssertEqual(Array(record[0..<8]), [3, 0, 0, 0, 0, 0, 0, 0])
        let headerCRC = CRC32C.masked(CRC32C.checksum(Array(record[0..<8])))
        XCTAssertEqual(Array(record[8..<12]), withUnsafeBytes(of: headerCRC.littleEndian) { Array($0) })
        XCTAssertEqual(Array(record[12..<15]), [1, 2, 3])
        let dataCRC = CRC32C.masked(CRC32C.checksum([1, 2, 3]))
        XCTAssertEqual(Array(record[15...]), withUnsafeBytes(of: dataCRC.littleEndian) { Array($0) })
    }

    static let tags = ["loss/train", "accuracy/test", "lr"]

    /// Step `step`'s value of tag number `index`: small, large, negative, zero.
    static func value(_ index: Int, _ step: Int) -> Double {
        switch index {
        case 0: return 2.302585092994046 / Double(step) * (step == 5 ? 1e-30 : 1)
        case 1: return step == 3 ? 0 : 0.8 + Double(step) * 0.01
        default: return step == 4 ? 3.5e30 : -0.1 * Double(step)
        }
    }

    static let script = """
        import json, shutil, struct, sys
        from tensorboard.backend.event_processing import event_accumulator
        from tensorboard.compat.proto import event_pb2
        from tensorboard.compat.tensorflow_stub import errors
        from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import PyRecordReader_New
        directory, path, corrupt = sys.argv[1:4]
        f32 = lambda v: format(struct.unpack("<I", struct.pack("<f", v))[0], "08x")
        f64 = lambda v: format(struct.unpack("<Q", struct.pack("<d", v))[0], "016x")
        ea = event_accumulator.EventAccumulator(directory, size_guidance={event_accumulator.SCALARS: 0})
        ea.Reload()
        scalars = {tag: [[e.step, f32(e.value), f64(e.wall_time)] for e in ea.Scalars(tag)]
                   for tag in ea.Tags()["scalars"]}
        def records(file):  # tensorboard's reader without TensorFlow: checks both CRCs of each record
            reader = PyRecordReader_New(file.encode(), 0, b"", None)
            out = []
            while True:
                try:
                    reader.GetNext()
                except errors.OutOfRangeError:
                    return out
                out.append(reader.record())
        events = [event_pb2.Event.FromString(r) for r in records(path)]
        try:
            records(corrupt)
            corrupted = "read without error"
        except errors.DataLossError as e:
            corrupted = e.message
        print(json.dumps({"scalars": scalars, "file_version": ea.file_version,
                          "first_wall_time": f64(ea.FirstEventTimestamp()),
                          "events": [e.WhichOneof("what") for e in events],
                          "version_string": events[0].file_version, "corrupted": corrupted}))
        """

    struct Report: Decodable {
        let scalars: [String: [[Either]]]
        let file_version: Double
        let first_wall_time: String
        let events: [String]
        let version_string: String
        let corrupted: String
    }

    /// A step (number) or bits (hex string) in the report.
    enum Either: Decodable, Equatable {
        case number(Int), text(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Int.self) { self = .number(n) } else { self = .text(try c.decode(String.self)) }
        }
    }

    func testTensorBoardReadsOurScalars() throws {
        let python = try tensorboardPython()
        let scratch = try scratchDirectory()
        let directory = scratch + "/runs/a/b"  // intermediate directories are created
        let start = 1_700_000_000.25
        let writer = try TensorBoardWriter(directory: directory, wallTime: start)
        XCTAssertTrue(writer.path.hasPrefix(directory + "/events.out.tfevents.1700000000."), writer.path)
        for step in 1...5 {
            let scalars = Self.tags.indices.map { (tag: Self.tags[$0], value: Self.value($0, step)) }
            try writer.write(scalars, step: step, wallTime: start + Double(step))
        }
        try writer.flush()

        // A copy with the last data byte of the last record flipped (its final 4 bytes are the CRC).
        var bytes = try FileIO.readAll(writer.path)
        bytes[bytes.count - 5] ^= 0x01
        let corrupt = scratch + "/corrupt.tfevents"
        try Data(bytes).write(to: URL(fileURLWithPath: corrupt))

        let outcome = try ProcessRunner.run(python, ["-c", Self.script, directory, writer.path, corrupt], timeout: 120)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let report = try JSONDecoder().decode(Report.self, from: Data(outcome.stdout.utf8))

        XCTAssertEqual(report.version_string, "brain.Event:2")
        XCTAssertEqual(report.file_version, 2)
        XCTAssertEqual(report.first_wall_time, hex(start.bitPattern, 16))
        XCTAssertEqual(report.events, ["file_version"] + Array(repeating: "summary", count: 5))
        XCTAssertTrue(report.corrupted.hasSuffix("corrupt.tfevents' failed event crc32 check"), report.corrupted)
        XCTAssertEqual(Set(report.scalars.keys), Set(Self.tags))
        for (index, tag) in Self.tags.enumerated() {
            let expected = (1...5).map { step -> [Either] in
                [.number(step), .text(hex(UInt64(Float(Self.value(index, step)).bitPattern), 8)),
                 .text(hex((start + Double(step)).bitPattern, 16))]
            }
            XCTAssertEqual(report.scalars[tag], expected, tag)
        }
    }

    func testUnwritableDirectoryThrows() throws {
        let scratch = try scratchDirectory()
        let file = scratch + "/plain-file"
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data([1])))
        let directory = file + "/logs"
        assertTrainerError(.cannotWrite, subject: directory, ["not a directory"]) { try TensorBoardWriter(directory: directory) }
    }

    /// `.build/venv/bin/python3` of this repository, which must import tensorboard.
    func tensorboardPython() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let python = root.appendingPathComponent(".build/venv/bin/python3").path
        let hint = "run launch/install --tests to make .build/venv with PyPI's tensorboard"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            XCTFail("no \(python): \(hint)")
            throw TrainerError(.environment, subject: python, "missing")
        }
        let check = try ProcessRunner.run(python, ["-c", "import tensorboard"], timeout: 60)
        guard check.status == 0 else {
            XCTFail("\(python) cannot import tensorboard: \(hint)\n\(check.stderr)")
            throw TrainerError(.environment, subject: python, "cannot import tensorboard")
        }
        return python
    }

    func hex(_ value: UInt64, _ digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
