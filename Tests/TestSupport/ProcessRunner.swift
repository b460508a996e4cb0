import Foundation
import XCTest

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
    /// killing it after `timeout` seconds; `environment` (nil: this process's) is all it sees.
    public static func run(_ program: String, _ arguments: [String], timeout: Double,
                           environment: [String: String]? = nil) throws -> Outcome {
        try Running(program, arguments, environment: environment).finish(timeout: timeout)
    }

    /// Runs `program arguments…` as `run` does; one that does not finish in `timeout` seconds
    /// fails the test.
    public static func runInTime(_ program: String, _ arguments: [String], timeout: Double, environment: [String: String]? = nil,
                                 file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        let outcome = try run(program, arguments, timeout: timeout, environment: environment)
        if !outcome.finished {
            XCTFail("\(program) \(arguments.joined(separator: " ")) did not finish in \(timeout) s", file: file, line: line)
        }
        return outcome
    }

    /// The pids of the children of `parent` named `name`.
    public static func children(of parent: Int32, named name: String) -> [Int32] {
        guard let outcome = try? run("/usr/bin/pgrep", ["-P", String(parent), "-x", name], timeout: 10) else { return [] }
        return outcome.stdout.split(separator: "\n").compactMap { Int32($0) }
    }

    /// A program started in the background, to be signalled while it runs.
    public final class Running {
        public let process = Process()
        let scratch: URL, out: URL, err: URL
        let started = Date()

        public init(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws {
            scratch = URL(fileURLWithPath: try makeScratchDirectory("run"))
            out = scratch.appendingPathComponent("out")
            err = scratch.appendingPathComponent("err")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            _ = FileManager.default.createFile(atPath: err.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
            if let environment { process.environment = environment }
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = try FileHandle(forWritingTo: err)
            try process.run()
        }

        public var pid: Int32 { process.processIdentifier }
        public var isRunning: Bool { process.isRunning }

        /// The pids of this process's children named `name` (e.g. the ranks under mpirun).
        public func children(named name: String) -> [Int32] { ProcessRunner.children(of: pid, named: name) }

        /// Waits for the end (killing the program after `timeout` seconds) and collects its output.
        public func finish(timeout: Double) throws -> Outcome {
            defer { try? FileManager.default.removeItem(at: scratch) }
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
}

/// The `trainer` executable built next to this test bundle, run as a user would.
public enum TrainerProcess {
    /// Runs `trainer arguments…`; a run that does not finish in `timeout` seconds fails the test.
    /// `environment`: variables to set or replace in this process's environment for it.
    public static func run(_ arguments: [String], timeout: Double = 30, environment: [String: String] = [:],
                           file: StaticString = #filePath, line: UInt = #line) throws -> ProcessRunner.Outcome {
        let merged = environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 }
        return try ProcessRunner.runInTime(ProcessRunner.trainer, arguments, timeout: timeout, environment: merged, file: file, line: line)
    }
}
