import Support

/// Byte-level entry points to the IDX decoders, for callers (and fuzzers) that hold a file's
/// bytes rather than its path. They behave exactly as loading a file named `source` with
/// those contents: gzip data (a `.gz` source or bytes starting 1f 8b) are gunzipped first, and
/// every bad input throws a `.data` `TrainerError` naming `source`.
public enum IDXFormat {
    /// Decodes an IDX3 uint8 images file; returns its sizes (the pixels follow the header).
    public static func decodeImages(_ bytes: [UInt8], source: String) throws -> (count: Int, rows: Int, columns: Int) {
        let images = try decodeIDXImages(try decompressedInput(bytes, path: source), path: source)
        return (images.count, images.rows, images.columns)
    }

    /// Decodes an IDX1 uint8 labels file; returns its number of labels.
    public static func decodeLabels(_ bytes: [UInt8], source: String) throws -> Int {
        try decodeIDXLabels(try decompressedInput(bytes, path: source), path: source).count
    }
}

/// The byte-level entry point to the CSV parser (see `DataSource.csv`).
public enum CSVFormat {
    /// Parses CSV text exactly as `--data csv:SOURCE` would load a file with these bytes:
    /// gzip data are gunzipped first; bad input throws a `.data` `TrainerError` naming `source`.
    public static func parse(_ bytes: [UInt8], source: String) throws -> Dataset {
        try parseCSV(try decompressedInput(bytes, path: source), path: source)
    }
}

/// `bytes` as `readInputFile(at: path)` returns a file holding them: gunzipped when gzip.
func decompressedInput(_ bytes: [UInt8], path: String) throws -> [UInt8] {
    isGzip(path: path, bytes: bytes) ? try gunzip(bytes, path: path) : bytes
}
