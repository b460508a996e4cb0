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

    /// The version of the entries' layout (x: the features as stored, y: float32 labels).
    static let version = 1

    /// `files`' data as `decode` reads them, mapped from the cache: `decode` runs only when the
    /// cache has no entry for these files as they are now (`variant`: what else shapes the
    /// decoding, e.g. the label column). The data set keeps `decode`'s names for messages.
    public static func dataset(of files: [String], variant: String, decode: () throws -> Dataset) throws -> Dataset {
        guard let key = try key(files, variant: variant), makeDirectory() else { return try decode() }
        let base = directory + "/" + key.name
        let lock = open(base + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard lock >= 0 else { return try decode() }
        defer { _ = close(lock) }  // closing releases the lock
        guard FileIO.retrying({ flock(lock, LOCK_EX) }) == 0 else { return try decode() }
        let entry = base + "-" + key.version + ".npz"
        if FileKind(at: entry) == .regularFile, let cached = try? mapped(entry, like: nil) { return cached }
        let decoded = try decode()
        testLog(decoded.name)
        do {
            try write(decoded, to: entry)
            removeStale(of: key.name, keeping: entry)
            return try mapped(entry, like: decoded)
        } catch {
            return decoded  // a cache that cannot be written costs memory, not the run
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
              let y = try NumPyInput.array(npz: path, named: ["y"], file: file),
              let names = try NumPyInput.array(npz: path, named: ["names"], file: file) else {
            throw TrainerError(.data, subject: path, "is not a data cache entry")
        }
        let data = try NumPyInput.dataset(features: x, labels: y)
        let recorded = String(decoding: UnsafeRawBufferPointer(start: names.file.bytes.baseAddress! + names.offset,
                                                               count: names.header.dataBytes), as: UTF8.self).split(separator: "\n")
        let name = original?.name ?? recorded.first.map(String.init) ?? path
        let labelSource = original?.labelSource ?? (recorded.count > 1 ? String(recorded[1]) : name)
        return Dataset(name: name, count: data.count, featureCount: data.featureCount, storage: data.storage, labels: data.labels,
                       labelSource: labelSource)
    }

    /// Writes `data` as an entry: x (the features as stored), y (float32 labels), and the names
    /// used in messages (uint8 text).
    static func write(_ data: Dataset, to path: String) throws {
        var names = Array("\(data.name)\n\(data.labelSource)".utf8)
        try data.withStoredFeatures { element, bytes in
            try data.labels.withUnsafeBytes { labels in
                try names.withUnsafeMutableBytes { text in
                    try NumPyOutput.writeNPZ([
                        .init(name: "x", element: element, shape: [data.count, data.featureCount], bytes: bytes),
                        .init(name: "y", element: .float32, shape: [data.count], bytes: labels),
                        .init(name: "names", element: .uint8, shape: [text.count], bytes: UnsafeRawBufferPointer(text)),
                    ], to: path)
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
