import Foundation
import Logging

/// Log lines as the user wants to read them on a terminal: the message alone, on stderr.
struct PlainLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        // On a terminal, a progress bar may own the current line: replace it.
        let prefix = ProgressBar.isTerminal ? ProgressBar.clearLine : ""
        FileHandle.standardError.write(Data("\(prefix)\(event.message)\n".utf8))
    }

    /// A logger for `label` that prints plain lines, or nothing when `quiet`.
    static func logger(_ label: String, quiet: Bool = false) -> Logger {
        var logger = Logger(label: label) { _ in PlainLogHandler() }
        logger.logLevel = quiet ? .critical : .info
        return logger
    }
}
