#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Support

/// Decoded data kept once per machine: a source that must be parsed (CSV, gzip IDX) is decoded
/// at most once per machine while its files keep their size and modification time, into an
/// `.npz` in the cache directory, which every rank of the machine then maps (the page cache
/// holds it once for all). The first process to take the entry's lock decodes; the others wait
/// for the lock and map what it wrote. The directory is `TRAINER_CACHE`, else
/// /var/tmp/trainer-cache (node-local on most clusters); where it cannot be written, each
/// process decodes into its own memory, as before.
public enum DataCache {
    /// The cache directory.
    public static var directory: String {
        getenv("TRAINER_CACHE").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/var/tmp/trainer-cache"
    }

    /// The version of the entries' layout: x the features as stored, y float32 labels, facts
    /// (float64: the labels' minimum, maximum and whether all are whole), names (for messages).
    static let version = 2

    /// `files`' data as `decode` reads them, mapped from the cache: `decode` runs only when the
    /// cache has no entry for these files as they are now (`variant`: what else shapes the
    /// decoding, e.g. the label column). The data set keeps `decode`'s names for messages.
    public static func dataset(of files: [String], variant: String, decode: () throws -> Dataset) throws -> Dataset {
        try cached(files, variant: variant, read: { try mapped($0, like: nil) }, make: decode,
                   write: write, logged: \.name, reread: { try mapped($1, like: $0) })
    }

    /// The labels `convert` reads from `files` (a NumPy file of another element type than
    /// float32, or whose facts are not known), as float32 mapped from the cache, with their
    /// facts: `convert` runs, one pass, only when the cache has no entry for them.
    static func labels(of files: [String], variant: String, convert: () throws -> [Float]) throws -> Labels {
        try cached(files, variant: variant, read: mappedLabels, make: { Labels(try convert()) },
                   write: { labels, path in try writeEntry(labels, features: nil, names: nil, to: path) },
                   logged: { _ in variant }, reread: { try mappedLabels($1) })
    }

    /// The entry for `files` and `variant`, under its lock: `read` of it when it is there and
    /// reads; else `make()`, written by `write` and read back by `reread` (or `make()`'s value
    /// itself when no entry can be written: a cache that cannot be written costs memory, not
    /// the run). Without a cache directory, `make()`.
    static func cached<T>(_ files: [String], variant: String, read: (String) throws -> T, make: () throws -> T,
                          write: (T, String) throws -> Void, logged: (T) -> String, reread: (T, String) throws -> T) throws -> T {
        guard let key = try key(files, variant: variant), makeDirectory() else { return try make() }
        let base = directory + "/" + key.name
        let lock = open(base + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard lock >= 0 else { return try make() }
        defer { _ = close(lock) }  // closing releases the lock
        guard FileIO.retrying({ flock(lock, LOCK_EX) }) == 0 else { return try make() }
        let entry = base + "-" + key.version + ".npz"
        if FileKind(at: entry) == .regularFile, let cached = try? read(entry) { return cached }
        let made = try make()
        testLog(logged(made))
        do {
            try write(made, entry)
            removeStale(of: key.name, keeping: entry)
            return try reread(made, entry)
        } catch {
            return made
        }
    }

    /// A test hook: `TRAINER_TEST_DECODE_LOG=FILE` appends a line to FILE each time a process
    /// decodes a source into the cache, so that a test can count the decodings of a machine.
    static func testLog(_ name: String) {
        guard let path = getenv("TRAINER_TEST_DECODE_LOG").map({ String(cString: $0) }) else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let line = Array("decoded \(name) in process \(getpid())\n".utf8)
        _ = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// A name for `files` and `variant`, and their version (sizes and modification times); nil
    /// when a file is not a regular file (a pipe, a device: no version to key on) or cannot be
    /// examined (its decoding will say why).
    static func key(_ files: [String], variant: String) throws -> (name: String, version: String)? {
        var identity = "\(version) \(variant)", state = ""
        for file in files {
            guard let absolute = realpath(file, nil) else { return nil }
            defer { free(absolute) }
            var info = stat()
            guard stat(absolute, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
            identity += " " + String(cString: absolute)
            state += "\(info.st_size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)-"
        }
        return (String(StableHash.of(identity), radix: 16), String(StableHash.of(state), radix: 16))
    }

    /// Creates the cache directory if needed; whether it is there and writable.
    static func makeDirectory() -> Bool {
        let path = directory
        if FileKind(at: path) != .directory { _ = mkdir(path, 0o1777) }
        return access(path, W_OK) == 0
    }

    /// The entry at `path` as a data set named like `original` (nil: by the entry's own names).
    static func mapped(_ path: String, like original: Dataset?) throws -> Dataset {
        let file = try MappedFile(path)
        guard let x = try NumPyInput.array(npz: path, named: ["x"], file: file),
              let names = try NumPyInput.array(npz: path, named: ["names"], file: file) else {
            throw TrainerError(.data, subject: path, "is not a data cache entry")
        }
        let rows = try NumPyInput.rows(x), labels = try mappedLabels(path, file: file)
        guard labels.count == rows.count else { throw TrainerError(.data, subject: path, "is not a data cache entry") }
        let recorded = String(decoding: UnsafeRawBufferPointer(start: names.file.bytes.baseAddress! + names.offset,
                                                               count: names.header.dataBytes), as: UTF8.self).split(separator: "\n")
        let name = original?.name ?? recorded.first.map(String.init) ?? path
        let labelSource = original?.labelSource ?? (recorded.count > 1 ? String(recorded[1]) : name)
        return Dataset(name: name, count: rows.count, featureCount: rows.featureCount, storage: .mapped(rows), labels: labels,
                       labelSource: labelSource)
    }

    /// The labels of the entry at `path` (y and facts), mapped.
    static func mappedLabels(_ path: String) throws -> Labels { try mappedLabels(path, file: try MappedFile(path)) }

    static func mappedLabels(_ path: String, file: MappedFile) throws -> Labels {
        guard let y = try NumPyInput.array(npz: path, named: ["y"], file: file), y.header.dtype == .float32, y.header.shape.count == 1,
              let facts = try NumPyInput.array(npz: path, named: ["facts"], file: file), facts.header.dtype == .float64,
              facts.header.shape == [3] else {
            throw TrainerError(.data, subject: path, "is not a data cache entry")
        }
        let value = { (i: Int) in facts.file.bytes.loadUnaligned(fromByteOffset: facts.offset + 8 * i, as: Double.self) }
        return Labels(file: file, offset: y.offset, count: y.header.shape[0],
                      facts: .init(minimum: Float(value(0)), maximum: Float(value(1)), whole: value(2) != 0))
    }

    /// Writes `data` as an entry.
    static func write(_ data: Dataset, to path: String) throws {
        try data.withStoredFeatures { element, bytes in
            try writeEntry(data.labels, features: (element, [data.count, data.featureCount], bytes),
                           names: "\(data.name)\n\(data.labelSource)", to: path)
        }
    }

    /// Writes an entry: `features` as x (when given), `labels` as y with their facts, `names`.
    static func writeEntry(_ labels: Labels, features: (element: ElementType, shape: [Int], bytes: UnsafeRawBufferPointer)?,
                           names: String?, to path: String) throws {
        let facts = labels.facts
        let values = [Double(facts.minimum), Double(facts.maximum), facts.whole ? 1 : 0]
        var text = Array((names ?? "").utf8)
        try labels.withUnsafeBytes { y in
            try values.withUnsafeBytes { factBytes in
                try text.withUnsafeMutableBytes { textBytes in
                    var arrays: [NumPyOutput.Array] = [
                        .init(name: "y", element: .float32, shape: [labels.count], bytes: y),
                        .init(name: "facts", element: .float64, shape: [3], bytes: factBytes),
                    ]
                    if let features { arrays.append(.init(name: "x", element: features.element, shape: features.shape, bytes: features.bytes)) }
                    if names != nil { arrays.append(.init(name: "names", element: .uint8, shape: [textBytes.count], bytes: UnsafeRawBufferPointer(textBytes))) }
                    try NumPyOutput.writeNPZ(arrays, to: path)
                }
            }
        }
    }

    /// Removes the entries of `name` but `keeping` (earlier versions of the same files).
    static func removeStale(of name: String, keeping: String) {
        guard let directory = opendir(directory) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let file = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let path = self.directory + "/" + file
            if file.hasPrefix(name + "-"), file.hasSuffix(".npz"), path != keeping { unlink(path) }
        }
    }
}
