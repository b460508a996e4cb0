import Foundation
import Support

extension SafeTensors {
    /// Decodes a safetensors file held in `bytes`, treating it as untrusted. `source` (a path)
    /// is named in every error; all errors are `.data`, one line.
    ///
    /// The checks follow the reference implementation (huggingface/safetensors) and its README:
    /// - at least 8 bytes; the header length N is at most 100,000,000 and fits in the file;
    /// - the header is valid UTF-8, begins with `{`, and is a JSON object (trailing whitespace,
    ///   the writers' padding, is allowed);
    /// - each tensor has a known whole-byte `dtype`, a `shape` of non-negative integers, and
    ///   `data_offsets` of exactly two non-negative integers `[begin, end]` with `begin <= end`;
    /// - the shape's element count times the dtype size equals `end - begin`, computed with
    ///   overflow checks;
    /// - sorted by offset, the tensors tile the byte buffer exactly: no gap, no overlap, nothing
    ///   past its end, no trailing bytes after the last tensor;
    /// - `__metadata__`, if present (and not null), is an object whose values are all strings.
    ///
    /// Duplicate keys in the header are not detected: Foundation's JSON parsers keep one of the
    /// values silently. A duplicate with a different byte range leaves a gap and is rejected by
    /// the tiling check; a duplicate of the same range is read as one tensor.
    public init(decoding bytes: [UInt8], source: String) throws {
        func fail(_ problem: String) -> TrainerError {
            TrainerError(.data, subject: source, problem)
        }
        guard bytes.count >= 8 else {
            throw fail("truncated: \(bytes.count) byte\(bytes.count == 1 ? "" : "s"), too short for the 8-byte header length")
        }
        var declared: UInt64 = 0
        for index in 0..<8 {
            declared |= UInt64(bytes[index]) << (8 * UInt64(index))
        }
        guard declared <= UInt64(Self.maximumHeaderLength) else {
            throw fail("header length \(declared) exceeds the limit of \(Self.maximumHeaderLength) bytes")
        }
        // At most 100,000,000 now, so it fits in Int and 8 + it cannot overflow.
        let headerLength = Int(declared)
        let headerEnd = 8 + headerLength
        guard headerEnd <= bytes.count else {
            throw fail("truncated: header length \(headerLength) but only \(bytes.count - 8) bytes follow it")
        }
        let headerBytes = bytes[8..<headerEnd]
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw fail("header is not valid UTF-8")
        }
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw fail("header is not a JSON object (it must begin with '{')")
        }

        let header: RawHeader
        do {
            header = try JSONDecoder().decode(RawHeader.self, from: Data(headerBytes))
        } catch let problem as HeaderProblem {
            throw fail("header: \(problem.message)")
        } catch let error as DecodingError {
            throw fail("header: \(Self.describe(error))")
        } catch {
            throw fail("header: \(error)")
        }

        let dataStart = headerEnd
        let dataLength = bytes.count - dataStart
        // File order: by offsets; ties (only possible between empty tensors) by name.
        let sorted = header.tensors.sorted {
            ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name)
        }
        var expected = 0
        var previous: String?
        var tensors: [TensorEntry] = []
        tensors.reserveCapacity(sorted.count)
        for raw in sorted {
            let label = "tensor '\(TensorEntry.shortened(raw.name))'"
            let offsets = "data_offsets [\(raw.begin), \(raw.end)]"
            guard raw.begin <= raw.end else {
                throw fail("\(label): \(offsets) end before they begin")
            }
            guard raw.end <= dataLength else {
                throw fail("\(label): \(offsets) extend past the end of the \(dataLength)-byte data buffer")
            }
            if raw.begin < expected, let previous {
                throw fail("\(label): \(offsets) overlap tensor '\(TensorEntry.shortened(previous))' (which ends at \(expected))")
            }
            guard raw.begin == expected else {
                throw fail("\(label): \(offsets) leave a gap: bytes \(expected)..<\(raw.begin) belong to no tensor")
            }
            guard let count = TensorEntry.product(of: raw.shape),
                  let byteCount = TensorEntry.checkedMultiply(count, raw.dtype.byteSize) else {
                throw fail("\(label): shape \(raw.shape) is too large (its size overflows)")
            }
            guard byteCount == raw.end - raw.begin else {
                throw fail("\(label): shape \(raw.shape) of \(raw.dtype.rawValue) needs \(byteCount) bytes but \(offsets) span \(raw.end - raw.begin)")
            }
            let slice = bytes[(dataStart + raw.begin)..<(dataStart + raw.end)]
            tensors.append(TensorEntry(
                validatedName: raw.name, dtype: raw.dtype, shape: raw.shape, bytes: Array(slice), elementCount: count))
            expected = raw.end
            previous = raw.name
        }
        guard expected == dataLength else {
            let trailing = dataLength - expected
            throw fail("\(trailing) trailing byte\(trailing == 1 ? "" : "s") after the last tensor belong to no tensor (the data buffer is \(dataLength) bytes, the tensors end at \(expected))")
        }
        self.init(tensors: tensors, metadata: header.metadata)
    }

    /// One line for a decoding error, naming where in the header it happened.
    private static func describe(_ error: DecodingError) -> String {
        func place(_ path: [CodingKey]) -> String {
            path.isEmpty ? "" : describePath(path) + ": "
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(place(context.codingPath))expected \(describe(type))"
        case .valueNotFound(let type, let context):
            return "\(place(context.codingPath))expected \(describe(type)), found null"
        case .keyNotFound(let key, let context):
            return "\(place(context.codingPath))missing \"\(key.stringValue)\""
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "not valid JSON" }
            return "\(place(context.codingPath))invalid value"
        @unknown default:
            return "cannot be decoded"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is [String: String].Type: return "an object of strings"
        case is [String: Any].Type: return "an object"
        case is [Any].Type: return "an array"
        default: return "a value of type \(type)"
        }
    }
}

// MARK: - The header as parsed, before cross-checks

/// Where in the header a coding path points, e.g. `'layer.weight'.shape[1]`.
private func describePath(_ path: [CodingKey]) -> String {
    guard let first = path.first else { return "the header" }
    var text = "'\(TensorEntry.shortened(first.stringValue))'"
    for key in path.dropFirst() {
        if let index = key.intValue { text += "[\(index)]" } else { text += ".\(key.stringValue)" }
    }
    return text
}

/// A problem found while decoding the header, already phrased.
struct HeaderProblem: Error {
    let message: String
}

private struct AnyKey: CodingKey {
    let stringValue: String
    init(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

private struct RawTensor {
    let name: String
    let dtype: TensorDType
    let shape: [Int]
    let begin: Int
    let end: Int
}

private struct RawHeader: Decodable {
    var tensors: [RawTensor] = []
    var metadata: [String: String] = [:]

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        for key in container.allKeys {
            if key.stringValue == SafeTensors.metadataKey {
                do {
                    metadata = try container.decodeIfPresent([String: String].self, forKey: key) ?? [:]
                } catch is DecodingError {
                    throw HeaderProblem(message: "'\(SafeTensors.metadataKey)' must be an object whose values are all strings")
                }
            } else {
                let info = try container.decode(RawTensorInfo.self, forKey: key)
                tensors.append(RawTensor(
                    name: key.stringValue, dtype: info.dtype, shape: info.shape,
                    begin: info.begin, end: info.end))
            }
        }
    }
}

private struct RawTensorInfo: Decodable {
    let dtype: TensorDType
    let shape: [Int]
    let begin: Int
    let end: Int

    enum CodingKeys: String, CodingKey {
        case dtype
        case shape
        case dataOffsets = "data_offsets"
    }

    init(from decoder: Decoder) throws {
        let name = TensorEntry.shortened(decoder.codingPath.last?.stringValue ?? "?")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let spelling = try container.decode(String.self, forKey: .dtype)
        guard let dtype = TensorDType(rawValue: spelling) else {
            let why = TensorDType.unsupportedSubByte.contains(spelling)
                ? "is a sub-byte type, which is not supported" : "is not a known dtype"
            throw HeaderProblem(message: "'\(name)': dtype \"\(TensorEntry.shortened(spelling))\" \(why)")
        }
        self.dtype = dtype
        shape = try container.decode([Count].self, forKey: .shape).map(\.value)
        let offsets = try container.decode([Count].self, forKey: .dataOffsets).map(\.value)
        guard offsets.count == 2 else {
            throw HeaderProblem(message: "'\(name)': data_offsets must have exactly 2 numbers, found \(offsets.count)")
        }
        begin = offsets[0]
        end = offsets[1]
    }
}

/// A non-negative integer that fits in `Int`, with a precise complaint otherwise.
private struct Count: Decodable {
    let value: Int

    init(from decoder: Decoder) throws {
        let place = describePath(decoder.codingPath)
        let container = try decoder.singleValueContainer()
        if let unsigned = try? container.decode(UInt64.self) {
            guard let value = Int(exactly: unsigned) else {
                throw HeaderProblem(message: "\(place): \(unsigned) is too large")
            }
            self.value = value
        } else if let signed = try? container.decode(Int64.self), signed < 0 {
            throw HeaderProblem(message: "\(place): \(signed) is negative")
        } else if let number = try? container.decode(Double.self) {
            throw HeaderProblem(message: "\(place): \(number) is not a non-negative integer")
        } else {
            throw HeaderProblem(message: "\(place): expected a non-negative integer")
        }
    }
}
