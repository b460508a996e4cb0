#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Support
#if FUZZING
import CLibFuzzer
#endif

// Shared by the fuzz targets (see launch/fuzz): the contract every parser must keep, and the
// replay mode that runs saved inputs through a target without libFuzzer.

/// Runs `body`; a `TrainerError` is an accepted outcome (nil), anything else breaks the
/// contract "every bad input is a TrainerError" and aborts, so that libFuzzer records it.
public func expectingTrainerError<T>(_ what: String, _ body: () throws -> T) -> T? {
    do {
        return try body()
    } catch let error as TrainerError {
        if error.message.isEmpty || error.message.contains(where: \.isNewline) {
            fuzzFailure("\(what): a TrainerError that is not one non-empty line: \(error.message)")
        }
        return nil
    } catch {
        fuzzFailure("\(what): threw \(type(of: error)), not a TrainerError: \(error)")
    }
}

/// Stops the process as a crash, with `message` on stderr.
public func fuzzFailure(_ message: String) -> Never {
    printError("fuzz: contract broken: \(message)")
    abort()
}

#if FUZZING
/// Fuzzing mode: hands the command line to libFuzzer's driver with `target` as the function
/// under test, and exits with its status.
public func runLibFuzzer(_ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, target))
}
#endif

/// `bytes` as the fuzzer's input buffer.
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Replay mode (a normal build, no libFuzzer): runs every file named in `arguments` (files,
/// or directories whose regular files are taken in name order) through `target`, and prints
/// how many ran. A crash stops the replay as it would stop the fuzzer. Exits 66 if a path
/// cannot be read, 64 if no path is given; returns when every input ran.
public func replay(_ arguments: [String], through target: (UnsafePointer<UInt8>?, Int) -> CInt) {
    guard !arguments.isEmpty else {
        printError("usage: \(CommandLine.arguments.first ?? "fuzz-target") FILE|DIR… (replays inputs; build with -DFUZZING for libFuzzer)")
        exit(64)
    }
    var count = 0
    for path in arguments {
        for file in filesToReplay(path) {
            guard let bytes = readFile(file) else {
                printError("replay: cannot read \(file)")
                exit(66)
            }
            _ = bytes.withUnsafeBufferPointer { target($0.baseAddress, $0.count) }
            count += 1
        }
    }
    print("replayed \(count) input\(count == 1 ? "" : "s") without a crash")
}

/// `path` itself, or the regular files directly inside it if it is a directory (sorted).
private func filesToReplay(_ path: String) -> [String] {
    guard let directory = opendir(path) else { return [path] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name.hasPrefix(".") { continue }
        var info = stat()
        let full = path.hasSuffix("/") ? path + name : path + "/" + name
        if stat(full, &info) == 0, info.st_mode & S_IFMT == S_IFREG { names.append(full) }
    }
    return names.sorted()
}

/// The whole file at `path`, or nil if it cannot be read.
private func readFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let got = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if got > 0 { bytes.append(contentsOf: chunk[0..<got]) }
        if got < chunk.count { return ferror(file) == 0 ? bytes : nil }
    }
}

/// Writes `line` and a newline to standard error (file descriptor 2).
private func printError(_ line: String) {
    var bytes = Array((line + "\n").utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}

/// The whole `main` of a fuzz target: under `-DFUZZING`, libFuzzer's driver; in a normal build,
/// the replay of the files and directories named on the command line.
public func fuzzMain(_ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) {
    #if FUZZING
    runLibFuzzer(target)
    #else
    replay(Array(CommandLine.arguments.dropFirst()), through: target)
    #endif
}
