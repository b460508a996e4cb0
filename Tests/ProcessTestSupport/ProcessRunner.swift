import Foundation

/// Runs programs as a user would, for the tests that spawn `trainer` or `mpirun`.
public enum ProcessRunner {
    public struct Outcome: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        public let seconds: Double
        /// False when the program had to be killed at the timeout.
        public let finished: Bool
        public var stderrLines: [Substring] { stderr.split(separator: "\n") }
    }

    /// The directory of the running test bundle, where SwiftPM also puts `trainer`.
    public static var buildDirectory: URL { URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent() }

    /// The `trainer` executable of this build.
    public static var trainer: String { buildDirectory.appendingPathComponent("trainer").path }

    /// Runs `program arguments…` with output to files (nothing can fill a pipe and block it),
    /// killing it after `timeout` seconds.
    public static func run(_ program: String, _ arguments: [String], timeout: Double) throws -> Outcome {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("trainer-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("out"), err = scratch.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        let started = Date()
        try process.run()
        while process.isRunning && Date().timeIntervalSince(started) < timeout { usleep(10_000) }
        let finished = !process.isRunning
        if !finished { process.terminate() }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus,
                       stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
                       stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self),
                       seconds: Date().timeIntervalSince(started), finished: finished)
    }
}
