import ArgumentParser
import Foundation
import Support
import TOMLKit
import Training

/// `trainer train --config FILE`: a TOML file of `trainer train` settings, one top-level key per
/// flag, named as the flag without its dashes (`batch-size = 256`; `batch_size` also works):
///
///     model = "mlp:512-256:relu"
///     optimizer = "adamw"
///     lr = 0.001
///     nesterov = false
///
/// The file's settings become flags placed before the command line's, so a flag given on the
/// command line overrides the file. Each key's TOML type must be its flag's: integer for whole
/// numbers, integer or float for real numbers, boolean for on/off flags, string otherwise. An
/// unknown key, a wrong type or a bad value is one line `FILE:LINE: KEY: what is wrong` (exit 64).
struct ConfigFile {
    let path: String
    /// The file's settings in the order of its lines: key (the flag's name), line, flag words.
    let entries: [(key: String, line: Int, words: [String])]
    /// The flag words of the command line, after `train`.
    let commandLine: [String]

    /// What a flag's value is, as a TOML type: integer, real (integer or float), boolean, text (string).
    typealias Kind = RunSetting.ValueKind

    /// Every flag of `trainer train` but `--config` and `--print-config`, by name, with its kind:
    /// the run settings' as `RunSettings.all` declares them, the others' as `TrainCommand.otherFlags`.
    static let kinds: [String: Kind] = Dictionary(uniqueKeysWithValues:
        RunSettings.all.compactMap { setting in setting.flagKind.map { (String(setting.name.dropFirst(2)), $0) } }
        + TrainCommand.otherFlags.map { ($0.name, $0.kind) })

    /// If `arguments` (the process's, without its name) run `trainer train` with `--config FILE`,
    /// puts FILE's settings as flags right after `train` (before the command line's own) and
    /// returns the file; else returns nil and leaves `arguments` alone.
    static func expand(_ arguments: inout [String]) throws -> ConfigFile? {
        let others = TrainerCommand.configuration.subcommands.map { $0.configuration.commandName } + ["help"]
        guard let first = arguments.first, first == "train" || !others.contains(first) else { return nil }
        let start = first == "train" ? 1 : 0
        var path: String?
        var index = start
        while index < arguments.count {
            let word = arguments[index]
            if word == "--" { break }
            if word == "--config", index + 1 < arguments.count { path = arguments[index + 1]; index += 1 }
            if word.hasPrefix("--config=") { path = String(word.dropFirst("--config=".count)) }
            index += 1
        }
        guard let path else { return nil }
        let file = try ConfigFile(path: path, commandLine: Array(arguments[start...]))
        arguments.insert(contentsOf: file.entries.flatMap(\.words), at: start)
        return file
    }

    init(path: String, commandLine: [String]) throws {
        self.path = path
        self.commandLine = commandLine
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TrainerError(FileManager.default.fileExists(atPath: path) ? .data : .noInput, subject: path,
                               FileManager.default.fileExists(atPath: path) ? "cannot read the config file as UTF-8 text" : "no such config file")
        }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw TrainerError(.usage, subject: "\(path):\(error.source.begin.line)", "not TOML: \(error.description)")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        func line(of key: String) -> Int {
            let bare = key.replacingOccurrences(of: "\"", with: "")
            for (number, line) in lines.enumerated() {
                let head = line.split(separator: "=", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                let name = head.trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                if name == bare || head.hasPrefix("[" + bare) || name.hasPrefix(bare + ".") { return number + 1 }
            }
            return 1
        }
        var entries: [(key: String, line: Int, words: [String])] = []
        for key in table.keys {
            let at = line(of: key)
            let name = key.replacingOccurrences(of: "_", with: "-")
            func fail(_ what: String) -> TrainerError { TrainerError(.usage, subject: "\(path):\(at): \(key)", what) }
            guard let kind = Self.kinds[name] else {
                throw fail("unknown setting (the keys are the flags of trainer train without their dashes, e.g. batch-size; see trainer train --help)")
            }
            guard let value = table[key] else { continue }
            let words: [String]
            switch (kind, value.type) {
            case (.boolean, .bool): words = value.bool == true ? ["--\(name)"] : []
            case (.integer, .int): words = ["--\(name)", String(value.int!)]
            // A whole number beyond TOML's 64-bit signed integers (a --seed ≥ 2⁶³), as a string.
            case (.integer, .string) where Int(value.string!) == nil && UInt64(value.string!) != nil:
                words = ["--\(name)", value.string!]
            case (.real, .int): words = ["--\(name)", String(value.int!)]
            case (.real, .double): words = ["--\(name)", String(value.double!)]
            case (.text, .string): words = ["--\(name)", value.string!]
            default: throw fail("must be \(kind.toml), not \(value.type == .table ? "a table" : "a TOML \(value.type)")")
            }
            entries.append((name, at, words))
        }
        self.entries = entries.sorted { $0.line < $1.line }
    }

    /// `message` with the file, line and key in front when it is about a flag this file set
    /// (and the command line did not): what a bad value in the file looks like to the user.
    func attribute(_ message: String) -> String {
        for entry in entries where message.contains("--\(entry.key)") {
            let flag = "--\(entry.key)"
            guard !commandLine.contains(where: { $0 == flag || $0.hasPrefix(flag + "=") }) else { continue }
            return "\(path):\(entry.line): \(entry.key): \(message)"
        }
        return message
    }

    /// `settings` (flag name → value text, in order) as a TOML document headed by `comment`
    /// lines; each value typed as its flag's kind (a whole number TOML cannot hold, as a string).
    static func render(_ settings: [(name: String, value: String)], comment: [String]) -> String {
        var text = comment.map { "# " + $0 }.joined(separator: "\n") + "\n"
        for (name, value) in settings {
            switch kinds[name] {
            case .integer? where Int(value) == nil: text += "\(name) = \(quoted(value))\n"  // beyond TOML's integers
            case .integer?, .real?, .boolean?: text += "\(name) = \(value)\n"
            case .text?, nil: text += "\(name) = \(quoted(value))\n"
            }
        }
        return text
    }

    /// A TOML basic string.
    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { out += String(format: "\\u%04X", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// The run settings of `RunSettings.all` that are train flags, with their values as `value`
    /// gives them (nil: leave out) — what `--print-config` and `inspect --config` print.
    static func runSettings(_ value: (RunSetting) -> String?) -> [(name: String, value: String)] {
        var settings: [(name: String, value: String)] = []
        var texts: [String: String] = [:]
        for setting in RunSettings.all where setting.isFlag {
            let name = String(setting.name.dropFirst(2))
            guard let text = value(setting) else { continue }
            texts[setting.name] = text
            // Not given, or not applying: a replay must not pass it.
            if text == setting.unsetText { continue }
            if let (flag, value, equal) = setting.appliesOnlyWith, (texts[flag] == value) != equal { continue }
            settings.append((name, text))
        }
        return settings
    }
}

extension RunSetting.ValueKind {
    /// The TOML type a config file gives it, for messages.
    var toml: String {
        switch self {
        case .integer: return "an integer"
        case .real: return "a number"
        case .boolean: return "true or false"
        case .text: return "a string"
        }
    }
}
