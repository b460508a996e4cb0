import Support

/// Inputs to predict on, which may have no labels: every column of a CSV file, or an IDX3
/// images file alone. The datasets returned hold zero labels (for the `Dataset` invariant).
/// Used by `trainer predict`.
public enum UnlabeledInput {
    /// Every column of the CSV file at `path` as a feature (gunzipped first if gzip), with the
    /// rules of `csv:FILE` (header line, blank lines, BOM, CRLF, finite numbers only, the same
    /// field count on every line) — but a single column is allowed. `.noInput` if missing,
    /// `.data` for bad contents, naming `path`.
    public static func csvColumns(path: String) throws -> Dataset {
        var bytes = try readInputFile(at: path)
        let single = try isSingleColumn(bytes, path: path)
        if single {
            // The CSV parser wants a label and a feature: give every non-blank line a dummy
            // second field, so the user's column is column 1 in every message.
            bytes = appendingDummyField(bytes)
        }
        let parsed = try parseCSV(bytes, path: path)
        let values: [Float]
        if single {
            values = Array(parsed.labels)
        } else {
            guard case .floats(let features) = parsed.storage else { return parsed }
            let width = parsed.featureCount
            var all = [Float]()
            all.reserveCapacity(parsed.count * (width + 1))
            for row in 0..<parsed.count {
                all.append(parsed.labels[row])
                all.append(contentsOf: features[row * width..<(row + 1) * width])
            }
            values = all
        }
        return Dataset(name: path, count: parsed.count, featureCount: single ? 1 : parsed.featureCount + 1,
                       storage: .floats(values), labels: [Float](repeating: 0, count: parsed.count))
    }

    /// The images of an IDX3 uint8 file (raw or gzip), or of `t10k-images-idx3-ubyte[.gz]` when
    /// `path` is a directory (the raw file preferred). Pixels are scaled by 1/255 as in training.
    public static func idxImages(path: String) throws -> Dataset {
        var file = path
        switch FileKind(at: path) {
        case .missing:
            throw TrainerError(.noInput, subject: path, "no such file or directory")
        case .directory:
            file = try locateIDXFile("t10k-images-idx3-ubyte", in: path)
        case .regularFile, .pipe, .other:
            break
        }
        let images = try decodeIDXImages(try readInputFile(at: file), path: file)
        let (features, overflow) = images.rows.multipliedReportingOverflow(by: images.columns)
        guard !overflow else { throw TrainerError(.data, subject: file, "images of \(images.rows)×\(images.columns) are too large") }
        return Dataset(name: file, count: images.count, featureCount: features,
                       storage: .bytes(images.pixels, scale: 1 / 255), labels: [Float](repeating: 0, count: images.count))
    }

    /// Whether the first non-blank line has a single field; then every non-blank line must
    /// have one too (else `.data`, as the CSV parser words it).
    private static func isSingleColumn(_ bytes: [UInt8], path: String) throws -> Bool {
        var single = false, seenData = false
        var lineNumber = 0, start = 0
        while start < bytes.count {
            lineNumber += 1
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            defer { start = end + 1 }
            let line = bytes[start..<end]
            guard !isBlankLine(line) else { continue }
            let fields = line.reduce(1) { $0 + ($1 == UInt8(ascii: ",") ? 1 : 0) }
            if !seenData {
                seenData = true
                single = fields == 1
                if !single { return false }
            } else if fields != 1 {
                throw TrainerError(.data, subject: "\(path):\(lineNumber)", "has \(fields) fields, expected 1 as on the first line")
            }
        }
        return single
    }

    /// `bytes` with ",0" after the content of every non-blank line (before any CR).
    private static func appendingDummyField(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count + bytes.count / 2 + 4)
        for line in lines(bytes) {
            var content = line
            if content.upperBound > content.lowerBound, bytes[content.upperBound - 1] == 0x0D {
                content = content.lowerBound..<(content.upperBound - 1)
            }
            out.append(contentsOf: bytes[content])
            if !isBlankLine(bytes[content]) { out.append(contentsOf: Array(",0".utf8)) }
            out.append(0x0A)
        }
        return out
    }

    /// The ranges of the lines of `bytes`, without their LF (the last may lack one).
    private static func lines(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            ranges.append(start..<index)
            start = index + 1
        }
        if start < bytes.count { ranges.append(start..<bytes.count) }
        return ranges
    }

    /// Whether a line holds only spaces, tabs and a CR (a UTF-8 BOM on the first line counts as blank space).
    private static func isBlankLine(_ line: ArraySlice<UInt8>) -> Bool {
        var rest = line
        if rest.starts(with: [0xEF, 0xBB, 0xBF]) { rest = rest.dropFirst(3) }
        return rest.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}
