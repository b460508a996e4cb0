/// The one error type users see: a single line that names the file or flag and what is wrong,
/// and the process exit code that goes with it.
///
/// The command line prints it as `trainer: error: <message>` and exits with `kind.exitCode`.
public struct TrainerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, which fixes the exit code (documented in README.md).
    public enum Kind: Sendable, Equatable, CaseIterable {
        /// A flag or model spec is malformed or out of range (exit 64, EX_USAGE).
        case usage
        /// An input file exists but its contents are wrong (exit 65, EX_DATAERR).
        case data
        /// An input file or directory is missing or unreadable (exit 66, EX_NOINPUT).
        case noInput
        /// An output file or directory cannot be created or written (exit 73, EX_CANTCREAT).
        case cannotWrite
        /// The training diverged: NaN or Inf in the loss or gradients (exit 3).
        case divergence
        /// MPI or the machine failed us (exit 69, EX_UNAVAILABLE).
        case environment

        public var exitCode: Int32 {
            switch self {
            case .usage: return 64
            case .data: return 65
            case .noInput: return 66
            case .cannotWrite: return 73
            case .divergence: return 3
            case .environment: return 69
            }
        }
    }

    public let kind: Kind
    /// One line, no trailing newline: `SUBJECT: what is wrong`.
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        // Keep the promise of one line even when a message quotes user input.
        self.message = message.replacingNewlines()
    }

    /// An error about a named thing (a file path, a flag such as `--lr`, a spec string).
    public init(_ kind: Kind, subject: String, _ problem: String) {
        self.init(kind, "\(subject): \(problem)")
    }

    public var description: String { message }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(map { $0.isNewline ? " " : $0 })
    }
}
