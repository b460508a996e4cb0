import Foundation
import Support

/// A safetensors file held in memory: named tensors plus a string-to-string metadata map.
///
/// Format (huggingface safetensors): an 8-byte little-endian `UInt64` N, then N bytes of UTF-8
/// JSON header, then the byte buffer. The header maps each tensor name to
/// `{"dtype": ..., "shape": [...], "data_offsets": [begin, end]}` (offsets relative to the start
/// of the byte buffer), plus an optional `"__metadata__": {String: String}`.
///
/// Decoding treats the file as untrusted and follows the reference implementation's rules; see
/// `init(decoding:source:)`.
public struct SafeTensors: Sendable, Equatable {
    /// The tensors, in file order (by offset). When encoding, they are laid out in this order.
    public var tensors: [TensorEntry]
    /// Free-form metadata. Empty metadata is written as no `__metadata__` key at all.
    public var metadata: [String: String]

    /// The header key reserved for metadata; no tensor may have this name.
    public static let metadataKey = "__metadata__"
    /// The largest header accepted, in bytes (the reference implementation's limit).
    public static let maximumHeaderLength = 100_000_000

    public init(tensors: [TensorEntry], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor named `name`, if any.
    public subscript(name: String) -> TensorEntry? {
        tensors.first { $0.name == name }
    }

    /// Why these tensors cannot be encoded (a duplicate or reserved name), or nil if they can.
    public func encodingProblem() -> String? {
        var seen = Set<String>()
        for tensor in tensors {
            if tensor.name == Self.metadataKey {
                return "a tensor may not be named '\(Self.metadataKey)'"
            }
            if !seen.insert(tensor.name).inserted {
                return "duplicate tensor name '\(TensorEntry.shortened(tensor.name))'"
            }
        }
        return nil
    }

    /// The file's bytes: the header JSON with keys sorted, padded with spaces to a multiple of
    /// 8 bytes (so the byte buffer starts 8-aligned), then the tensors' bytes in `tensors` order.
    ///
    /// Precondition: tensor names are unique and none is `__metadata__` (see `encodingProblem()`;
    /// `write(to:)` checks this and throws instead).
    public func encoded() -> [UInt8] {
        if let problem = encodingProblem() {
            preconditionFailure("SafeTensors.encoded(): \(problem)")
        }
        var entries: [String: HeaderValue] = [:]
        var offset = 0
        for tensor in tensors {
            let end = offset + tensor.bytes.count
            entries[tensor.name] = .tensor(
                HeaderTensor(dtype: tensor.dtype.rawValue, shape: tensor.shape, data_offsets: [offset, end]))
            offset = end
        }
        if !metadata.isEmpty {
            entries[Self.metadataKey] = .metadata(metadata)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var header: [UInt8]
        do {
            header = Array(try encoder.encode(entries))
        } catch {
            // Only strings and integers are encoded: this cannot fail.
            preconditionFailure("SafeTensors.encoded(): JSON encoding failed: \(error)")
        }
        let padding = (8 - header.count % 8) % 8
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        for tensor in tensors {
            bytes.append(contentsOf: tensor.bytes)
        }
        return bytes
    }

    /// Reads the file at `path` and decodes it. Throws `.noInput` if the file is missing,
    /// unreadable or a directory, and `.data` if it is malformed; every message names `path`.
    public init(contentsOf path: String) throws {
        let bytes = try FileIO.readAll(path)
        try self.init(decoding: bytes, source: path)
    }

    /// Writes the file atomically and durably (see `AtomicFile.write`). Throws `.data` naming
    /// `path` if the tensors cannot be encoded (duplicate or reserved names), else as
    /// `AtomicFile.write` does.
    public func write(to path: String) throws {
        if let problem = encodingProblem() {
            throw TrainerError(.data, subject: path, "cannot write checkpoint: \(problem)")
        }
        try AtomicFile.write(encoded(), to: path)
    }
}

/// What the encoder writes for one header key.
private enum HeaderValue: Encodable {
    case tensor(HeaderTensor)
    case metadata([String: String])

    func encode(to encoder: Encoder) throws {
        switch self {
        case .tensor(let tensor): try tensor.encode(to: encoder)
        case .metadata(let metadata): try metadata.encode(to: encoder)
        }
    }
}

private struct HeaderTensor: Encodable {
    let dtype: String
    let shape: [Int]
    // The format's spelling.
    // swiftlint:disable:next identifier_name
    let data_offsets: [Int]
}
