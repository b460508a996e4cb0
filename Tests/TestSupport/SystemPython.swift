/// Debian's /usr/bin/python3, whose numpy `launch/install` installs: the interpreter the tests
/// write and read NumPy files with — never the `python3` first on PATH (a virtual environment
/// or pyenv, with another numpy or none).
public enum SystemPython {
    public static let path = "/usr/bin/python3"

    /// Runs `python3 -c script arguments…` (sys.argv[1:] is `arguments`) and returns its
    /// standard output; throws `Failed` with its stderr unless it exits 0 within `timeout` seconds.
    @discardableResult
    public static func run(_ script: String, _ arguments: [String], timeout: Double = 300) throws -> String {
        let outcome = try ProcessRunner.run(path, ["-c", script] + arguments, timeout: timeout)
        guard outcome.finished, outcome.status == 0 else { throw Failed(status: outcome.status, stderr: outcome.stderr) }
        return outcome.stdout
    }

    public struct Failed: Error, CustomStringConvertible {
        public let status: Int32
        public let stderr: String
        public var description: String { "\(SystemPython.path) exited \(status): \(stderr)" }
    }
}
