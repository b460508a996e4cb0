import Foundation
import Support

/// One line of the metrics file at the end of an epoch. Losses are the mean data loss (without
/// the regulariser) over the samples; `test_*` are null when there is no test set, accuracies
/// null for regression; `validation_*` are there with `--validation`. `seconds` is the epoch's training time, evaluation excluded.
/// `CodingKeys` are the metrics schema, both for writing (`MetricsLog`) and reading (`trainer
/// plot`); a record from before `samples_per_second` existed reads it as 0.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double?
    public var validationLoss: Double? = nil
    public var validationAccuracy: Double? = nil
    public var testLoss: Double?
    public var testAccuracy: Double?
    public var lr: Double
    public var seconds: Double
    /// Training samples per second of `seconds` (this process's part of the epoch, when resumed in it).
    public var samplesPerSecond: Double = 0
    /// With `--profile`: rank 0's seconds per phase of the step over the epoch.
    public var phases: PhaseTimes? = nil

    enum CodingKeys: String, CodingKey {
        case epoch, trainLoss = "train_loss", trainAccuracy = "train_accuracy", testLoss = "test_loss",
             validationLoss = "validation_loss", validationAccuracy = "validation_accuracy",
             testAccuracy = "test_accuracy", lr, seconds, samplesPerSecond = "samples_per_second", phases
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(trainLoss, forKey: .trainLoss)
        try c.encode(trainAccuracy, forKey: .trainAccuracy)
        if let validationLoss {
            try c.encode(validationLoss, forKey: .validationLoss)
            try c.encode(validationAccuracy, forKey: .validationAccuracy)
        }
        try c.encode(testLoss, forKey: .testLoss)
        try c.encode(testAccuracy, forKey: .testAccuracy)
        try c.encode(lr, forKey: .lr)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(samplesPerSecond, forKey: .samplesPerSecond)
        try c.encodeIfPresent(phases, forKey: .phases)
    }
}

extension EpochRecord {
    // In an extension, so that the memberwise initializer stays.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decode(Int.self, forKey: .epoch)
        trainLoss = try c.decode(Double.self, forKey: .trainLoss)
        trainAccuracy = try c.decodeIfPresent(Double.self, forKey: .trainAccuracy)
        validationLoss = try c.decodeIfPresent(Double.self, forKey: .validationLoss)
        validationAccuracy = try c.decodeIfPresent(Double.self, forKey: .validationAccuracy)
        testLoss = try c.decodeIfPresent(Double.self, forKey: .testLoss)
        testAccuracy = try c.decodeIfPresent(Double.self, forKey: .testAccuracy)
        lr = try c.decode(Double.self, forKey: .lr)
        seconds = try c.decode(Double.self, forKey: .seconds)
        samplesPerSecond = try c.decodeIfPresent(Double.self, forKey: .samplesPerSecond) ?? 0
        phases = try c.decodeIfPresent(PhaseTimes.self, forKey: .phases)
    }
}

extension EpochRecord {
    /// The record's values as TensorBoard scalars (`--tensorboard`), by tag.
    public var scalars: [(tag: String, value: Double)] {
        let values: [(String, Double?)] = [
            ("epoch/train_loss", trainLoss), ("epoch/train_accuracy", trainAccuracy),
            ("epoch/validation_loss", validationLoss), ("epoch/validation_accuracy", validationAccuracy),
            ("epoch/test_loss", testLoss), ("epoch/test_accuracy", testAccuracy),
            ("epoch/lr", lr), ("epoch/samples_per_second", samplesPerSecond),
        ]
        return values.compactMap { tag, value in value.map { (tag, $0) } }
    }

    /// What rank 0 prints after each epoch, e.g.
    /// "epoch 3/10  train_loss 0.4123  train_accuracy 85.02%  test_loss 0.4410  test_accuracy 84.31%  lr 0.1  2.10 s"
    /// (with `--profile`, the phases' seconds in brackets after it).
    public func line(of epochs: Int) -> String {
        func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
        var parts = ["epoch \(epoch)/\(epochs)", "train_loss \(format(trainLoss, 4))"]
        if let a = trainAccuracy { parts.append("train_accuracy \(format(100 * a, 2))%") }
        if let l = validationLoss { parts.append("validation_loss \(format(l, 4))") }
        if let a = validationAccuracy { parts.append("validation_accuracy \(format(100 * a, 2))%") }
        if let l = testLoss { parts.append("test_loss \(format(l, 4))") }
        if let a = testAccuracy { parts.append("test_accuracy \(format(100 * a, 2))%") }
        parts.append("lr \(lr)")
        parts.append("\(format(seconds, 2)) s")
        if let p = phases {
            let shares = [("gather", p.gather), ("forward", p.forward), ("backward", p.backward),
                          ("allreduce", p.allreduce), ("update", p.update)]
            parts.append("[" + shares.map { "\($0.0) \(format($0.1, 3)) s" }.joined(separator: ", ") + "]")
        }
        return parts.joined(separator: "  ")
    }
}

/// Seconds spent in each phase of the training step, summed over an epoch on this rank:
/// gathering the batch, forward, backward (loss and gradients), the step's sum over ranks
/// (including waiting for slower ranks), and the update (scaling, regulariser, SGD).
public struct PhaseTimes: Codable, Sendable, Equatable {
    public var gather = 0.0, forward = 0.0, backward = 0.0, allreduce = 0.0, update = 0.0

    public init() {}
}

/// One line of the metrics file every `--log-every` steps: the step's global mean loss.
public struct StepRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var epoch: Int
    public var loss: Double
    public var lr: Double

    /// The record's values as TensorBoard scalars (`--tensorboard`), by tag.
    public var scalars: [(tag: String, value: Double)] { [("step/loss", loss), ("step/lr", lr)] }
}

/// The JSON Lines metrics file (one JSON object per line: an `EpochRecord` or a `StepRecord`),
/// written by rank 0 only and flushed after every line so a crash loses nothing already logged.
public final class MetricsLog {
    let handle: FileHandle
    let encoder = MetricsLog.makeEncoder()
    public let path: String

    /// JSON has no NaN or infinities: the file spells them as these strings.
    static let nonFinite = (positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")

    /// The encoder of the file's lines: sorted keys, non-finite numbers as strings.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity, nan: nonFinite.nan)
        return encoder
    }

    /// The decoder of the file's lines, reading what `makeEncoder()` writes.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity, nan: nonFinite.nan)
        return decoder
    }

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
