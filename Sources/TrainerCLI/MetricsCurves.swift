import Foundation
import Support

/// The learning curves in a metrics file (`trainer train --metrics`): JSON Lines with one
/// object per epoch (`epoch`, `train_loss`, `train_accuracy`, `test_loss`, `test_accuracy`;
/// the last three may be null) and one per logged step (`step`, `epoch`, `loss`, `lr`).
/// Lines of other shapes are ignored; a repeated epoch or step (a resumed run appends) keeps
/// its last record. Non-finite values (written as "NaN", "Infinity") are kept as such.
struct MetricsCurves {
    struct Epoch: Equatable {
        var epoch: Int
        var trainLoss: Double
        var trainAccuracy: Double?
        var testLoss: Double?
        var testAccuracy: Double?
    }

    struct Step: Equatable {
        var step: Int
        var epoch: Int
        var loss: Double
    }

    /// Sorted by epoch, one per epoch.
    var epochs: [Epoch]
    /// Sorted by step, one per step.
    var steps: [Step]

    /// The most bytes of metrics read (a metrics line is ~200 bytes: millions of epochs fit).
    static let maximumFileSize = 1 << 30
    static let maximumIndex = 1_000_000_000_000

    /// Reads `path`: `.noInput` if it is missing or unreadable, `.data` if a line is not JSON
    /// (a last line without its newline, cut by a crash, is ignored) or there is no epoch record.
    init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TrainerError(.noInput, subject: path, "no such metrics file")
        }
        guard !isDirectory.boolValue else { throw TrainerError(.noInput, subject: path, "is a directory, expected a metrics file") }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
           size.int64Value > Int64(MetricsCurves.maximumFileSize) {
            throw TrainerError(.data, subject: path, "is \(size.int64Value) bytes; metrics files of more than \(MetricsCurves.maximumFileSize) bytes are not supported")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TrainerError(.noInput, subject: path, "cannot read: \(error.localizedDescription)")
        }
        try self.init(bytes: data, source: path)
    }

    init(bytes data: Data, source: String) throws {
        var epochs: [Int: Epoch] = [:], steps: [Int: Step] = [:]
        let decoder = JSONDecoder()
        let bytes = [UInt8](data)
        var lineStart = 0, lineNumber = 0
        while lineStart < bytes.count {
            lineNumber += 1
            let newline = bytes[lineStart...].firstIndex(of: 0x0A)
            let lineEnd = newline ?? bytes.count
            defer { lineStart = lineEnd + 1 }
            var line = bytes[lineStart..<lineEnd]
            if lineNumber == 1, line.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst(3) }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let object: [String: JSONValue]
            do {
                object = try decoder.decode([String: JSONValue].self, from: Data(line))
            } catch DecodingError.typeMismatch {
                continue  // JSON, but not an object: another shape
            } catch {
                if newline == nil && lineNumber > 1 { continue }  // a last line cut short
                throw TrainerError(.data, subject: "\(source):\(lineNumber)", "is not JSON; expected the JSON Lines metrics that `trainer train --metrics` writes")
            }
            if let record = MetricsCurves.epochRecord(object) {
                epochs[record.epoch] = record
            } else if let record = MetricsCurves.stepRecord(object) {
                steps[record.step] = record
            }
        }
        guard !epochs.isEmpty else {
            throw TrainerError(.data, subject: source, "has no epoch records (objects with epoch and train_loss); is it a file written by `trainer train --metrics`?")
        }
        self.epochs = epochs.values.sorted { $0.epoch < $1.epoch }
        self.steps = steps.values.sorted { $0.step < $1.step }
    }

    static func epochRecord(_ object: [String: JSONValue]) -> Epoch? {
        guard object["step"] == nil, let epoch = object["epoch"]?.index, epoch >= 1,
              let trainLoss = object["train_loss"]?.number else { return nil }
        func optional(_ key: String) -> Double?? {
            switch object[key] {
            case nil, .null?: return .some(nil)
            case let value?: return value.number.map { .some($0) } ?? nil
            }
        }
        guard let trainAccuracy = optional("train_accuracy"), let testLoss = optional("test_loss"),
              let testAccuracy = optional("test_accuracy") else { return nil }
        return Epoch(epoch: epoch, trainLoss: trainLoss, trainAccuracy: trainAccuracy, testLoss: testLoss, testAccuracy: testAccuracy)
    }

    static func stepRecord(_ object: [String: JSONValue]) -> Step? {
        guard let step = object["step"]?.index, step >= 1, let epoch = object["epoch"]?.index, epoch >= 1,
              let loss = object["loss"]?.number else { return nil }
        return Step(step: step, epoch: epoch, loss: loss)
    }

    /// Steps per epoch, from the step records: a step s logged in (1-based) epoch e satisfies
    /// (e − 1)·S < s ≤ e·S. nil unless the records pin S down to within 5 % (they then span at
    /// least two epochs); the middle of the interval otherwise.
    var stepsPerEpoch: Double? {
        var low = 1, high = Int.max
        for record in steps {
            low = max(low, (record.step + record.epoch - 1) / record.epoch)  // ⌈s / e⌉
            if record.epoch > 1 { high = min(high, (record.step - 1) / (record.epoch - 1)) }  // ⌊(s − 1) / (e − 1)⌋
        }
        guard !steps.isEmpty, high != Int.max, low <= high, Double(high - low) <= 0.05 * Double(low) else { return nil }
        return (Double(low) + Double(high)) / 2
    }
}

/// One JSON value, as far as the metrics need it.
enum JSONValue: Decodable, Equatable {
    case null, bool(Bool), number(Double), string(String), other

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else { self = .other }
    }

    /// A number, including the non-finite values MetricsLog writes as strings.
    var number: Double? {
        switch self {
        case .number(let value): return value
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        default: return nil
        }
    }

    /// A whole number in 0…10¹², as an Int (never traps on any input).
    var index: Int? {
        guard case .number(let value) = self, value.rounded() == value, value >= 0,
              value <= Double(MetricsCurves.maximumIndex) else { return nil }
        return Int(value)
    }
}
