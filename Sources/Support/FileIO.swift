#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What is at a path, as far as reading it is concerned (following symlinks).
public enum FileKind: Equatable, Sendable {
    case missing, regularFile, directory, pipe, other

    public init(at path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { self = .missing; return }
        switch info.st_mode & S_IFMT {
        case S_IFREG: self = .regularFile
        case S_IFDIR: self = .directory
        case S_IFIFO: self = .pipe
        default: self = .other
        }
    }
}

/// POSIX file reading and writing, and how their failures are told: the one place that turns
/// an `errno` into a `TrainerError`.
public enum FileIO {
    /// Reads the whole file (or pipe) at `path`. Throws `.noInput` naming `path` if it is
    /// missing, a directory, a device or socket, or unreadable. Memory grows only with the bytes
    /// actually read (the size the file system reports is only a hint for the first allocation).
    public static func readAll(_ path: String) throws -> [UInt8] {
        switch FileKind(at: path) {
        case .directory: throw TrainerError(.noInput, subject: path, "is a directory, expected a file")
        case .other: throw TrainerError(.noInput, subject: path, "is a device or socket, expected a file")
        case .missing, .regularFile, .pipe: break  // open reports a missing file with the system's reason
        }
        let fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw TrainerError(.noInput, subject: path, "cannot open: \(describe(errno))") }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        var info = stat()
        if fstat(fd, &info) == 0, info.st_size > 0, let size = Int(exactly: info.st_size), size < Int.max {
            bytes.reserveCapacity(size + 1)
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw TrainerError(.noInput, subject: path, "cannot read: \(describe(errno))")
            }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }

    /// Calls `body` again while it fails with EINTR.
    public static func retrying(_ body: () -> Int32) -> Int32 {
        while true {
            let result = body()
            if result == -1 && errno == EINTR { continue }
            return result
        }
    }

    /// The error of a failed system call while writing `path`: `.cannotWrite` (exit 73) with
    /// what was being done and the system's reason — a read-only or full file system, a missing
    /// or unwritable directory alike: the output cannot be written.
    public static func writeError(_ path: String, _ what: String, _ code: Int32) -> TrainerError {
        TrainerError(.cannotWrite, subject: path, "\(what): \(describe(code))")
    }

    /// Checks that a file can be created in `directory` now: creates and removes a temporary
    /// file there. Throws `.cannotWrite` naming `subject` with the system's reason.
    public static func probeWritable(directory: String, subject: String) throws {
        let probe = (directory.hasSuffix("/") ? directory : directory + "/") + ".trainer-probe-\(getpid())"
        let fd = retrying { open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        guard fd >= 0 else { throw writeError(subject, "cannot create a file in it", errno) }
        // One byte, so that a full file system says so now rather than at the first checkpoint.
        var byte: UInt8 = 0
        let written = write(fd, &byte, 1)
        let code = errno
        _ = close(fd)
        _ = unlink(probe)
        guard written == 1 else { throw writeError(subject, "cannot write a file in it", code) }
    }

    /// The C library's text for `code`.
    public static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
