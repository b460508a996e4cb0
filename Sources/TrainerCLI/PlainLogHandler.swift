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
        FileHandle.standardError.write(Data("\(event.message)\n".utf8))
    }

    /// A logger for `label` that prints plain lines, or nothing when `quiet`.
    static func logger(_ label: String, quiet: Bool = false) -> Logger {
        var logger = Logger(label: label) { _ in PlainLogHandler() }
        logger.logLevel = quiet ? .critical : .info
        return logger
    }
}
