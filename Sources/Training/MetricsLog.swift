import Foundation
import Support

/// One line of the metrics file at the end of an epoch. Losses are the mean data loss (without
/// the regulariser) over the samples; `test_*` are null when there is no test set, accuracies
/// null for regression. `seconds` is the epoch's training time, evaluation excluded.
public struct EpochRecord: Encodable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double?
    public var testLoss: Double?
    public var testAccuracy: Double?
    public var lr: Double
    public var seconds: Double
    /// With `--profile`: rank 0's seconds per phase of the step over the epoch.
    public var phases: PhaseTimes? = nil

    enum CodingKeys: String, CodingKey {
        case epoch, trainLoss = "train_loss", trainAccuracy = "train_accuracy", testLoss = "test_loss",
             testAccuracy = "test_accuracy", lr, seconds, phases
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(trainLoss, forKey: .trainLoss)
        try c.encode(trainAccuracy, forKey: .trainAccuracy)
        try c.encode(testLoss, forKey: .testLoss)
        try c.encode(testAccuracy, forKey: .testAccuracy)
        try c.encode(lr, forKey: .lr)
        try c.encode(seconds, forKey: .seconds)
        try c.encodeIfPresent(phases, forKey: .phases)
    }
}

/// One line of the metrics file every `--log-every` steps: the step's global mean loss.
public struct StepRecord: Encodable, Sendable, Equatable {
    public var step: Int
    public var epoch: Int
    public var loss: Double
    public var lr: Double
}

/// The JSON Lines metrics file (one JSON object per line), written by rank 0 only and flushed
/// after every line so a crash loses nothing already logged.
public final class MetricsLog {
    let handle: FileHandle
    let encoder: JSONEncoder
    public let path: String

    /// Creates (or truncates) `path`; `append` keeps existing lines (for resumed runs).
    public init(path: String, append: Bool = false) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw TrainerError(.cannotWrite, subject: path, "is a directory, expected a metrics file path")
        }
        if !append || !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw TrainerError(.cannotWrite, subject: path, "cannot create the metrics file (does the directory exist and is it writable?)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw TrainerError(.cannotWrite, subject: path, "cannot open the metrics file for writing")
        }
        if append { handle.seekToEndOfFile() }
        self.handle = handle
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    }

    deinit { try? handle.close() }

    public func write(_ record: some Encodable) throws {
        do {
            var line = try encoder.encode(record)
            line.append(UInt8(ascii: "\n"))
            try handle.write(contentsOf: line)
            try handle.synchronize()
        } catch {
            throw TrainerError(.cannotWrite, subject: path, "cannot write the metrics file: \(error.localizedDescription)")
        }
    }
}
