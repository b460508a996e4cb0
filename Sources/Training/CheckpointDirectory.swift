import Checkpoint
import Foundation
import Support

/// Rank 0's checkpoint directory: `ckpt-<global step>.safetensors` files, each written durably
/// and atomically, then a `latest` file naming the newest, replaced atomically after it. A crash
/// at any instant leaves `latest` naming a complete checkpoint.
public struct CheckpointDirectory: Sendable {
    public let path: String
    static let prefix = "ckpt-", suffix = ".safetensors"

    /// Creates the directory if needed, checks that a file can be written in it now (so that a
    /// run that could not save fails at setup, not after its first epoch), and removes temporary
    /// files a killed writer left. Throws `.cannotWrite` naming `path` and the system's reason.
    public init(path: String) throws {
        self.path = path
        switch FileKind(at: path) {
        case .directory: break
        case .missing:
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw TrainerError(.cannotWrite, subject: path, "cannot create the checkpoint directory")
            }
        case .regularFile, .pipe, .other:
            throw TrainerError(.cannotWrite, subject: path, "is a file, expected a checkpoint directory")
        }
        try FileIO.probeWritable(directory: path, subject: path)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        where name.contains(".tmp-") && (name.hasPrefix(Self.prefix) || Self.pointerNames.contains { name.hasPrefix($0) }) {
            try? FileManager.default.removeItem(atPath: path + "/" + name)
        }
    }

    /// The name of the checkpoint after global step `globalStep`: `ckpt-%08d.safetensors`.
    public static func fileName(globalStep: Int) -> String { String(format: "\(prefix)%08d\(suffix)", globalStep) }

    /// Writes `checkpoint` for `globalStep`, points `latest` at it (and `best`, when `best`), then
    /// deletes all but the `keep` newest checkpoints (0 keeps all) — never the one `best` names.
    /// Returns the file's path.
    @discardableResult
    public func save(_ checkpoint: SafeTensors, globalStep: Int, keep: Int = 0, best: Bool = false) throws -> String {
        let name = Self.fileName(globalStep: globalStep)
        let file = path + "/" + name
        try checkpoint.write(to: file)
        for pointer in best ? ["latest", "best"] : ["latest"] {
            try AtomicFile.write(Array((name + "\n").utf8), to: path + "/" + pointer)
        }
        if keep > 0 { prune(keeping: keep, current: name) }
        return file
    }

    /// Deletes the oldest checkpoints beyond the `count` newest, never `current`.
    func prune(keeping count: Int, current: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let steps = names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix(Self.prefix), name.hasSuffix(Self.suffix),
                  let step = Int(name.dropFirst(Self.prefix.count).dropLast(Self.suffix.count)) else { return nil }
            return (step, name)
        }.sorted { $0.0 > $1.0 }
        let best = (try? Self.follow(path + "/best")).map { ($0 as NSString).lastPathComponent }
        for (_, name) in steps.dropFirst(count) where name != current && name != best {
            try? FileManager.default.removeItem(atPath: path + "/" + name)
        }
    }

    /// The checkpoint file a `--resume` value names: `auto` (`latest` if there is one, else nil:
    /// start afresh), or any value `resolve` takes.
    public static func resolveResume(_ value: String, checkpointDirectory: String?) throws -> String? {
        if value == "auto" {
            guard let checkpointDirectory else {
                throw TrainerError(.usage, subject: "--resume auto", "needs --checkpoint-dir to say where to look")
            }
            guard FileManager.default.fileExists(atPath: checkpointDirectory + "/latest") else { return nil }
            return try resolve(checkpointDirectory, checkpointDirectory: nil)
        }
        return try resolve(value, checkpointDirectory: checkpointDirectory)
    }

    /// The names of the pointer files a checkpoint directory may hold: each holds the name of a
    /// checkpoint file beside it.
    public static let pointerNames: Set<String> = ["latest", "best"]

    /// The checkpoint file a `--resume` value names: `latest` or `best` (in `checkpointDirectory`),
    /// a directory (its `latest`), a pointer file (`DIR/latest`, `DIR/best`) or a file.
    public static func resolve(_ value: String, checkpointDirectory: String?) throws -> String {
        if pointerNames.contains(value) {
            guard let checkpointDirectory else {
                throw TrainerError(.usage, subject: "--resume \(value)", "needs --checkpoint-dir to say where \(value) is")
            }
            return try follow(checkpointDirectory + "/" + value)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: value, isDirectory: &isDirectory) else {
            throw TrainerError(.noInput, subject: value, "no such checkpoint file or directory")
        }
        if isDirectory.boolValue { return try follow(value + "/latest") }
        return pointerNames.contains((value as NSString).lastPathComponent) ? try follow(value) : value
    }

    /// The checkpoint file the pointer file `pointer` names, beside it.
    static func follow(_ pointer: String) throws -> String {
        guard let text = try? String(contentsOfFile: pointer, encoding: .utf8) else {
            throw TrainerError(.noInput, subject: pointer, "missing or unreadable: the directory has no \((pointer as NSString).lastPathComponent) checkpoint")
        }
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, !name.contains("/"), name.count < 256 else {
            throw TrainerError(.data, subject: pointer, "does not name a checkpoint file")
        }
        let directory = (pointer as NSString).deletingLastPathComponent
        return directory.isEmpty ? name : directory + "/" + name
    }
}

/// Rank 0's checkpoint writing during a run: where, how many to keep, and the newest written.
final class CheckpointWriter {
    let directory: CheckpointDirectory
    let keep: Int
    /// The newest checkpoint this run wrote.
    private(set) var last: String?

    init(directory: CheckpointDirectory, keep: Int) {
        self.directory = directory
        self.keep = keep
    }

    func save(_ checkpoint: SafeTensors, globalStep: Int, best: Bool = false) throws {
        last = try directory.save(checkpoint, globalStep: globalStep, keep: keep, best: best)
    }
}
