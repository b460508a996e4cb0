import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Support

/// Durable atomic replacement of a file.
public enum AtomicFile {
    /// A test hook: `TRAINER_TEST_WRITE_PAUSE_US=N` pauses every write for N microseconds with
    /// half of the temporary file written, so tests can kill the writer mid-write for certain.
    static let testPause: UInt32? = ProcessInfo.processInfo.environment["TRAINER_TEST_WRITE_PAUSE_US"].flatMap { UInt32($0) }

    /// Writes `bytes` to `path` so that a crash at any instant leaves either the old file or
    /// the new one, complete (`write(to:_:)`).
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { file in try bytes.withUnsafeBytes { try file.append($0) } }
    }

    /// The file being written by `write(to:_:)`: what `append` adds goes to its end.
    public final class Writer {
        let fd: Int32, path: String, temporary: String
        private var paused = false

        init(fd: Int32, path: String, temporary: String) {
            self.fd = fd
            self.path = path
            self.temporary = temporary
        }

        /// Appends `buffer`. Throws `.cannotWrite` naming the file being replaced.
        public func append(_ buffer: UnsafeRawBufferPointer) throws {
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                if !paused, offset > 0, let pause = AtomicFile.testPause {
                    paused = true
                    usleep(pause)
                }
                // Half at first (for the test pause), then the rest in pieces of at most 1 GiB.
                let count = min(offset == 0 && !paused && AtomicFile.testPause != nil ? max(buffer.count / 2, 1) : buffer.count - offset, 1 << 30)
                let written = systemWrite(fd, base + offset, count)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw FileIO.writeError(path, "cannot write \(temporary)", errno)
                }
                guard written > 0 else {
                    throw TrainerError(.cannotWrite, subject: path, "cannot write \(temporary): no progress")
                }
                offset += written
            }
        }

        /// Appends `bytes`.
        public func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }
    }

    /// Writes what `body` appends to `path` so that a crash at any instant leaves either the old
    /// file or the new one, complete: writes `path.tmp-<pid>` in the same directory, fsyncs it,
    /// renames it over `path`, then fsyncs the directory so the rename itself is durable.
    ///
    /// Errors are `.cannotWrite` naming `path` and the system's reason (a missing, read-only or
    /// full file system alike), or what `body` throws. On failure the temporary file is removed
    /// and the old file, if any, is untouched.
    public static func write(to path: String, _ body: (Writer) throws -> Void) throws {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = FileIO.retrying { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        guard fd >= 0 else {
            throw FileIO.writeError(path, "cannot create \(temporary)", errno)
        }
        var isOpen = true
        var renamed = false
        defer {
            if isOpen { _ = close(fd) }
            if !renamed { _ = unlink(temporary) }
        }
        try body(Writer(fd: fd, path: path, temporary: temporary))
        guard FileIO.retrying({ fsync(fd) }) == 0 else {
            throw FileIO.writeError(path, "cannot fsync \(temporary)", errno)
        }
        isOpen = false
        // Not retried on EINTR: on Linux the descriptor is released either way.
        guard close(fd) == 0 else {
            throw FileIO.writeError(path, "cannot close \(temporary)", errno)
        }
        guard rename(temporary, path) == 0 else {
            throw FileIO.writeError(path, "cannot rename \(temporary) over it", errno)
        }
        renamed = true
        try syncDirectory(containing: path)
    }

    /// The directory holding `path` ("." for a bare name), whose entry a durable rename must fsync.
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = path[..<slash]
        return directory.isEmpty ? "/" : String(directory)
    }

    private static func syncDirectory(containing path: String) throws {
        let directory = directory(of: path)
        let fd = FileIO.retrying { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else {
            throw FileIO.writeError(path, "cannot open directory \(directory) to fsync it", errno)
        }
        defer { _ = close(fd) }
        // Some file systems cannot fsync a directory (EINVAL); there is nothing more to do there.
        if FileIO.retrying({ fsync(fd) }) != 0, errno != EINVAL {
            throw FileIO.writeError(path, "cannot fsync directory \(directory)", errno)
        }
    }
}

/// `write(2)`, named apart from `AtomicFile.write`.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
