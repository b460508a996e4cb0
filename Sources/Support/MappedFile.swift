#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A whole regular file mapped read-only into memory (`mmap`, `MAP_SHARED`): its pages live in
/// the page cache, once for every process of the machine that maps it, and are read from disk
/// only when touched. Unmapped when the last reference goes.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// The file's bytes (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer
    /// The file's size and modification time when it was mapped (what a cache keys on).
    public let size: Int, modified: timespec

    /// Maps the file at `path`. Throws `.noInput` naming `path` when it is missing, not a regular
    /// file, or cannot be opened or mapped.
    public init(_ path: String) throws {
        switch FileKind(at: path) {
        case .regularFile: break
        case .missing: throw TrainerError(.noInput, subject: path, "no such file")
        case .directory: throw TrainerError(.noInput, subject: path, "is a directory, expected a file")
        case .pipe, .other: throw TrainerError(.noInput, subject: path, "is not a regular file; it must be a file that can be mapped")
        }
        let fd = FileIO.retrying { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw TrainerError(.noInput, subject: path, "cannot open: \(FileIO.describe(errno))") }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, let size = Int(exactly: info.st_size) else {
            throw TrainerError(.noInput, subject: path, "cannot read its size: \(FileIO.describe(errno))")
        }
        self.path = path
        self.size = size
        modified = info.st_mtim
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw TrainerError(.noInput, subject: path, "cannot map it into memory: \(FileIO.describe(errno))")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }

    /// The system's page size.
    public static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Asks the kernel to start reading `range` of the file (whole pages around it) into the page
    /// cache now, without waiting (`madvise(MADV_WILLNEED)`); a hint, never an error.
    public func willNeed(_ range: Range<Int>) {
        guard let base = bytes.baseAddress, !range.isEmpty, range.lowerBound >= 0, range.upperBound <= bytes.count else { return }
        let first = range.lowerBound / Self.pageSize * Self.pageSize
        _ = madvise(UnsafeMutableRawPointer(mutating: base + first), range.upperBound - first, MADV_WILLNEED)
    }
}
