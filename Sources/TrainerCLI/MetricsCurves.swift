import Foundation
import Support
import Training

/// The learning curves in a metrics file (`trainer train --metrics`): JSON Lines of the
/// records `MetricsLog` writes, read through the same Codable types, `EpochRecord` (one per
/// epoch) and `StepRecord` (one per logged step). Lines of other shapes are ignored; a repeated
/// epoch or step (a resumed run appends) keeps its last record. Non-finite values (written as
/// "NaN", "Infinity") are kept as such.
struct MetricsCurves {
    /// Sorted by epoch, one per epoch.
    var epochs: [EpochRecord]
    /// Sorted by step, one per step.
    var steps: [StepRecord]

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
        var epochs: [Int: EpochRecord] = [:], steps: [Int: StepRecord] = [:]
        let decoder = MetricsLog.makeDecoder()
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
            do {
                if let record = try MetricsCurves.decode(EpochRecord.self, Data(line), with: decoder),
                   MetricsCurves.isIndex(record.epoch) {
                    epochs[record.epoch] = record
                } else if let record = try MetricsCurves.decode(StepRecord.self, Data(line), with: decoder),
                          MetricsCurves.isIndex(record.step), MetricsCurves.isIndex(record.epoch) {
                    steps[record.step] = record
                }
            } catch {
                if newline == nil && lineNumber > 1 { continue }  // a last line cut short
                throw TrainerError(.data, subject: "\(source):\(lineNumber)", "is not JSON; expected the JSON Lines metrics that `trainer train --metrics` writes")
            }
        }
        guard !epochs.isEmpty else {
            throw TrainerError(.data, subject: source, "has no epoch records; is it a file written by `trainer train --metrics`?")
        }
        self.epochs = epochs.values.sorted { $0.epoch < $1.epoch }
        self.steps = steps.values.sorted { $0.step < $1.step }
    }

    /// `line` as a `Record`; nil if it is JSON of another shape. Throws if it is not JSON.
    static func decode<Record: Decodable>(_ type: Record.Type, _ line: Data, with decoder: JSONDecoder) throws -> Record? {
        do {
            return try decoder.decode(Record.self, from: line)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw DecodingError.dataCorrupted(context)  // not JSON
        } catch {
            return nil  // JSON, but a missing key or a value of another type
        }
    }

    /// An epoch or step number in 1…10¹² (larger ones would overflow `stepsPerEpoch`).
    static func isIndex(_ value: Int) -> Bool { value >= 1 && value <= maximumIndex }

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
