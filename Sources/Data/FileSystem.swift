#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Support

/// What is at a path, as far as loading input is concerned.
enum FileKind: Equatable {
    case missing, regularFile, directory, pipe, other
}

/// Tells whether `path` is missing, a file, a directory or something else (following symlinks).
func fileKind(at path: String) -> FileKind {
    var info = stat()
    guard stat(path, &info) == 0 else { return .missing }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return .regularFile
    case S_IFDIR: return .directory
    case S_IFIFO: return .pipe
    default: return .other
    }
}

/// Reads the whole file (or pipe) at `path`. Throws `.noInput` naming `path` if it is missing,
/// a directory, a device or socket, or unreadable. Memory grows only with the bytes actually
/// read; one spare byte of capacity is left for callers that append a terminator.
func readWholeFile(at path: String) throws -> [UInt8] {
    switch fileKind(at: path) {
    case .directory: throw TrainerError(.noInput, subject: path, "is a directory, expected a file")
    case .other: throw TrainerError(.noInput, subject: path, "is a device or socket, expected a file")
    case .missing, .regularFile, .pipe: break  // open reports a missing file with the system's reason
    }
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else {
        throw TrainerError(.noInput, subject: path, "cannot open: \(systemErrorText())")
    }
    defer { close(descriptor) }

    var bytes: [UInt8] = []
    var info = stat()
    if fstat(descriptor, &info) == 0, info.st_size > 0, let size = Int(exactly: info.st_size), size < Int.max {
        bytes.reserveCapacity(size + 1)  // the size the file system reports, not a number from the file
    }
    let chunkSize = 1 << 20
    var chunk = [UInt8](repeating: 0, count: chunkSize)
    while true {
        let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, chunkSize) }
        if got == 0 { break }
        if got < 0 {
            if errno == EINTR { continue }
            throw TrainerError(.noInput, subject: path, "cannot read: \(systemErrorText())")
        }
        bytes.append(contentsOf: chunk[0..<got])
    }
    return bytes
}

/// The C library's text for the current `errno`.
private func systemErrorText() -> String {
    guard let text = strerror(errno) else { return "error \(errno)" }
    return String(cString: text)
}
