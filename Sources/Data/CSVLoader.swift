#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Support

/// Loads a CSV file (gunzipped first if it is gzip): the label in the column `label` says (the
/// first by default), features in the rest, comma separated — decoded once per machine into the
/// data cache (`DataCache`), which every rank maps.
///
/// Fields are trimmed of spaces and tabs; CRLF line ends are accepted; blank lines (empty or
/// only spaces/tabs) are skipped; a leading UTF-8 byte-order mark is ignored.
/// Header rule: the first non-blank line is a header, and skipped, if any of its fields is not a
/// number (an empty field, text, a quoted value — quotes are not supported). Every other line
/// must hold only finite numbers (decimal or C hex notation), as many as the first line has
/// fields, at least two. Errors are `.data`: `FILE:LINE: column C: "abc" is not a number`
/// (also for NaN and for values that overflow `Float`), `FILE:LINE: has 3 fields, expected 4`,
/// `FILE: no data rows`; a missing file is `.noInput`.
/// A `label` naming a column the file does not have is `.usage`, naming `--label-column`.
func loadCSV(path: String, label: LabelColumn = .first) throws -> Dataset {
    try DataCache.dataset(of: [path], variant: "csv label \(label)") {
        try parseCSV(try readInputFile(at: path), path: path, label: label)
    }
}

/// Parses the CSV text `bytes` (already gunzipped) read from `path`, as `loadCSV` describes.
func parseCSV(_ bytes: consuming [UInt8], path: String, label: LabelColumn = .first) throws -> Dataset {
    let end = bytes.count
    bytes.append(0)  // a terminator, so that strtof stops inside the buffer
    var parser = CSVParser(path: path, label: label)
    try bytes.withUnsafeBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return }
        try parser.parse(base, end: end)
    }
    guard parser.labels.count > 0 else {
        throw TrainerError(.data, subject: path, parser.sawHeader ? "no data rows after the header" : "no data rows")
    }
    return Dataset(name: path, count: parser.labels.count, featureCount: parser.columns - 1,
                   storage: .floats(parser.features), labels: parser.labels)
}

/// The line-by-line state of `loadCSV`.
private struct CSVParser {
    let path: String
    let label: LabelColumn
    /// The label's column from 0, known from the first data line on.
    private var labelIndex = 0
    /// The header line's fields, if the file has one.
    private var names: [String] = []
    var labels: [Float] = []
    var features: [Float] = []
    /// Fields per line, fixed by the first non-blank line (0 until then).
    var columns = 0
    var sawHeader = false
    /// The current line's values, reused from line to line.
    private var values: [Float] = []
    /// The first field of the current line that is not a number: its column (1-based) and extent.
    private var firstNonNumber: (column: Int, start: Int, end: Int)?
    /// The first field of the current line that is NaN or infinite: its column (1-based) and extent.
    private var firstNonFinite: (column: Int, start: Int, end: Int)?

    init(path: String, label: LabelColumn) {
        self.path = path
        self.label = label
    }

    /// Parses `bytes[0..<end]` (with a NUL at `end`) into `labels` and `features`.
    mutating func parse(_ bytes: UnsafePointer<UInt8>, end: Int) throws {
        var position = end >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        var line = 0
        while position < end {
            line += 1
            var lineEnd = end
            if let newline = memchr(bytes + position, 0x0A, end - position) {
                lineEnd = bytes.distance(to: newline.assumingMemoryBound(to: UInt8.self))
            }
            let next = lineEnd + 1
            if lineEnd > position && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            defer { position = next }

            if isBlank(bytes, position, lineEnd) { continue }
            scanFields(bytes, position, lineEnd)
            if columns == 0 {
                columns = values.count
                if firstNonNumber != nil {
                    sawHeader = true
                    names = fieldTexts(bytes, position, lineEnd)
                    continue
                }
            }
            if labels.isEmpty { labelIndex = try resolve(label) }
            if let bad = firstNonNumber {
                throw TrainerError(.data, subject: "\(path):\(line)",
                    "column \(bad.column): \(quotedText(bytes, bad.start, bad.end)) is not a number")
            }
            if let bad = firstNonFinite {
                throw TrainerError(.data, subject: "\(path):\(line)",
                    "column \(bad.column): \(quotedText(bytes, bad.start, bad.end)) is not a number "
                    + "(NaN, infinities and values beyond Float's range are not allowed)")
            }
            guard values.count == columns else {
                throw TrainerError(.data, subject: "\(path):\(line)",
                    "has \(values.count) field\(values.count == 1 ? "" : "s"), expected \(columns) as on the first line")
            }
            guard columns >= 2 else {
                throw TrainerError(.data, subject: "\(path):\(line)",
                    "has 1 field; need a label and at least one feature")
            }
            guard labels.count < Dataset.maximumSampleCount else {
                throw TrainerError(.data, subject: "\(path):\(line)",
                    "more than \(Dataset.maximumSampleCount) rows are not supported")
            }
            labels.append(values[labelIndex])
            features.append(contentsOf: values[..<labelIndex])
            features.append(contentsOf: values[(labelIndex + 1)...])
        }
    }

    /// The column of `label` among the `columns` of the first line.
    private func resolve(_ label: LabelColumn) throws -> Int {
        switch label {
        case .index(let index):
            guard index < columns else {
                throw TrainerError(.usage, subject: "--label-column \(index)", "\(path) has \(columns) columns, numbered from 0 to \(columns - 1)")
            }
            return index
        case .name(let name):
            guard !names.isEmpty else {
                throw TrainerError(.usage, subject: "--label-column \(name)", "\(path) has no header line naming its columns; give the column's number (from 0)")
            }
            guard let index = names.firstIndex(of: name) else {
                let shown = names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", …" : "")
                throw TrainerError(.usage, subject: "--label-column \(name)", "\(path)'s header line has no such column (it has \(shown))")
            }
            return index
        }
    }

    /// The trimmed text of every field of `bytes[start..<end]`.
    private func fieldTexts(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> [String] {
        var texts: [String] = [], fieldStart = start
        while true {
            var fieldEnd = fieldStart
            while fieldEnd < end && bytes[fieldEnd] != 0x2C { fieldEnd += 1 }
            let (a, b) = trimmed(bytes, fieldStart, fieldEnd)
            texts.append(String(decoding: UnsafeBufferPointer(start: bytes + a, count: b - a), as: UTF8.self))
            if fieldEnd >= end { return texts }
            fieldStart = fieldEnd + 1
        }
    }

    /// Splits `bytes[start..<end]` at commas into `values`, noting the first field that is not a number.
    private mutating func scanFields(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) {
        values.removeAll(keepingCapacity: true)
        firstNonNumber = nil
        firstNonFinite = nil
        var fieldStart = start
        while true {
            var fieldEnd = fieldStart
            while fieldEnd < end && bytes[fieldEnd] != 0x2C { fieldEnd += 1 }
            let (a, b) = trimmed(bytes, fieldStart, fieldEnd)
            if let value = parseNumber(bytes, a, b) {
                values.append(value)
                if !value.isFinite && firstNonFinite == nil { firstNonFinite = (values.count, a, b) }
            } else {
                values.append(0)
                if firstNonNumber == nil { firstNonNumber = (values.count, a, b) }
            }
            if fieldEnd >= end { return }
            fieldStart = fieldEnd + 1
        }
    }
}

/// Whether `bytes[start..<end]` holds only spaces and tabs.
private func isBlank(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
    let (a, b) = trimmed(bytes, start, end)
    return a == b
}

/// `start..<end` without leading and trailing spaces and tabs.
private func trimmed(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> (start: Int, end: Int) {
    var a = start, b = end
    while a < b && (bytes[a] == 0x20 || bytes[a] == 0x09) { a += 1 }
    while b > a && (bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09) { b -= 1 }
    return (a, b)
}

/// The number spelled by all of `bytes[start..<end]` (NaN and infinities included), or nil.
/// The byte at `end` must not continue a number (a comma, space, tab, CR, LF or NUL).
private func parseNumber(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Float? {
    guard start < end else { return nil }
    let first = bytes[start]
    guard first != 0x20, !(0x09...0x0D).contains(first) else { return nil }  // strtof would skip these
    let length = end - start
    return bytes.advanced(by: start).withMemoryRebound(to: CChar.self, capacity: length + 1) { text in
        var stop: UnsafeMutablePointer<CChar>?
        let value = strtof(text, &stop)
        guard let stop, UnsafePointer(stop) == text + length else { return nil }
        return value
    }
}

/// `bytes[start..<end]` as text for a message, cut to 60 characters.
private func quotedText(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> String {
    let text = String(decoding: UnsafeBufferPointer(start: bytes + start, count: end - start), as: UTF8.self)
    return "\"" + (text.count > 60 ? text.prefix(60) + "…" : text) + "\""
}

/// Which CSV column holds the label (`--label-column`): its number, counting from 0, or its name
/// in the file's header line.
public enum LabelColumn: Sendable, Equatable, CustomStringConvertible {
    case index(Int)
    case name(String)

    /// The first column.
    public static let first = LabelColumn.index(0)

    /// A whole number ≥ 0 is a column's number; anything else non-empty a name.
    public init(parsing text: String) throws {
        if let index = Int(text) {
            guard index >= 0 else { throw TrainerError(.usage, subject: "--label-column \(text)", "a column's number counts from 0") }
            self = .index(index)
        } else {
            guard !text.isEmpty else { throw TrainerError(.usage, subject: "--label-column", "needs a column's name or number") }
            self = .name(text)
        }
    }

    public var description: String {
        switch self {
        case .index(let index): return String(index)
        case .name(let name): return name
        }
    }
}
