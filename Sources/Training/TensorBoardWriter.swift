import Foundation
import Support

/// Writes scalars to one TensorBoard event file, `DIRECTORY/events.out.tfevents.<unix seconds>.<host>`,
/// which `tensorboard --logdir DIRECTORY` reads.
///
/// The file is a sequence of TFRecords, each holding a serialized `tensorboard.Event` protobuf
/// (tensorboard/compat/proto/event.proto and summary.proto), encoded here by hand:
///
///     Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
///     Summary { repeated Value value = 1; }
///     Value   { string tag = 1; float simple_value = 2; }
///
/// The first record is the Event with `file_version` "brain.Event:2". The file is opened for
/// appending, so a second writer in the same second on the same host adds its records after the
/// first's rather than destroying them (TensorBoard reads such a file as one run).
public final class TensorBoardWriter {
    /// The event file's path.
    public let path: String
    private let fd: Int32

    /// Creates `directory` (with intermediate directories) if missing, and the event file in it
    /// named after the whole seconds of `wallTime`, with its first record. Throws `.cannotWrite`
    /// naming the path and the system's reason.
    public init(directory: String, wallTime: Double = Date().timeIntervalSince1970) throws {
        try Self.makeDirectories(directory)
        let path = (directory.hasSuffix("/") ? directory : directory + "/")
            + "events.out.tfevents.\(Int(wallTime.rounded(.down))).\(hostName ?? "localhost")"
        self.path = path
        let fd = FileIO.retrying { open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { throw FileIO.writeError(path, "cannot create the event file", errno) }
        self.fd = fd
        var event = double(field: 1, wallTime)
        event += lengthDelimited(field: 3, Array("brain.Event:2".utf8))
        try append(Self.record(event))
    }

    deinit { _ = close(fd) }

    /// Appends one Event at `step` holding one Summary with a Value per scalar (`value` rounded
    /// to Float, as TensorBoard's `simple_value` is). Each Event is one `write` to the file.
    public func write(_ scalars: [(tag: String, value: Double)], step: Int,
                      wallTime: Double = Date().timeIntervalSince1970) throws {
        var summary: [UInt8] = []
        for scalar in scalars {
            let value = lengthDelimited(field: 1, Array(scalar.tag.utf8)) + float(field: 2, Float(scalar.value))
            summary += lengthDelimited(field: 1, value)
        }
        var event = double(field: 1, wallTime)
        event += key(field: 2, wireType: 0) + varint(UInt64(bitPattern: Int64(step)))
        event += lengthDelimited(field: 5, summary)
        try append(Self.record(event))
    }

    /// Makes the file durable (fsync). Every `write` already hands its bytes to the kernel, so
    /// other processes read them as soon as it returns; after `flush` they survive a crash too.
    public func flush() throws {
        guard FileIO.retrying({ fsync(fd) }) == 0 else { throw FileIO.writeError(path, "cannot flush", errno) }
    }

    /// TFRecord framing of `data`: its length as uint64 little-endian, the masked CRC-32C of
    /// those 8 bytes, the data, the masked CRC-32C of the data (the CRCs as uint32 little-endian).
    public static func record(_ data: [UInt8]) -> [UInt8] {
        let length = littleEndian(UInt64(data.count))
        return length + littleEndian(CRC32C.masked(CRC32C.checksum(length)))
            + data + littleEndian(CRC32C.masked(CRC32C.checksum(data)))
    }

    /// Writes `bytes` at the end of the file: one `write` call, repeated only for what a short
    /// write (a signal, a full disk) left.
    private func append(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw FileIO.writeError(path, "cannot write", count < 0 ? errno : ENOSPC) }
            offset += count
        }
    }

    /// `mkdir -p directory`, with the system's reason for the first component that fails.
    private static func makeDirectories(_ directory: String) throws {
        var prefix = directory.hasPrefix("/") ? "/" : ""
        for component in directory.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            guard mkdir(prefix, 0o777) != 0 else { continue }
            let code = errno
            if code == EEXIST && FileKind(at: prefix) == .directory { continue }
            let problem = code == EEXIST ? "\(prefix) is not a directory" : "\(prefix): \(FileIO.describe(code))"
            throw TrainerError(.cannotWrite, subject: directory, "cannot create the directory: \(problem)")
        }
    }

}

/// POSIX `write` (inside the class, `write` names the method).
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }

// Protobuf wire format (protobuf.dev/programming-guides/encoding): each field is a key,
// `field number << 3 | wire type`, as a varint, then the value.

/// The bytes of `value`, least significant first.
private func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// Base-128 varint: 7 bits per byte, least significant group first, high bit set on all but
/// the last byte. A negative int64 is its two's complement as uint64 (ten bytes).
private func varint(_ value: UInt64) -> [UInt8] {
    var bytes: [UInt8] = [], rest = value
    while rest >= 0x80 {
        bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
        rest >>= 7
    }
    return bytes + [UInt8(rest)]
}

/// A field's key; wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
private func key(field: Int, wireType: Int) -> [UInt8] { varint(UInt64(field << 3 | wireType)) }

/// A `double` field: wire type 1, the IEEE 754 bits as 8 bytes little-endian.
private func double(field: Int, _ value: Double) -> [UInt8] {
    key(field: field, wireType: 1) + littleEndian(value.bitPattern)
}

/// A `float` field: wire type 5, the IEEE 754 bits as 4 bytes little-endian.
private func float(field: Int, _ value: Float) -> [UInt8] {
    key(field: field, wireType: 5) + littleEndian(value.bitPattern)
}

/// A `string`, `bytes` or embedded-message field: wire type 2, the length as a varint, the bytes.
private func lengthDelimited(field: Int, _ bytes: [UInt8]) -> [UInt8] {
    key(field: field, wireType: 2) + varint(UInt64(bytes.count)) + bytes
}
