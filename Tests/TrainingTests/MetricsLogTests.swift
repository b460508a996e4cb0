import Data
import Foundation
import Models
import TestSupport
import Training
import XCTest

/// The metrics file has one schema, `EpochRecord` and `StepRecord`: what `MetricsLog` writes
/// reads back through the same Codable types (`trainer plot` reads it so) field for field.
final class MetricsLogTests: XCTestCase {
    /// A run with every optional field (validation, test set, accuracies, `--profile`, step
    /// records): each line decodes to the record the run returned and encodes to the same bytes.
    func testEveryLineReadsBackAsTheRecordWritten() throws {
        let path = try scratchDirectory() + "/metrics.jsonl"
        let run = try train { c in
            c.data = try DataSource(parsing: "blobs:600:3:4", flag: "--data")
            c.model = try ModelSpec(parsing: "mlp:8:relu")
            c.batchSize = 50
            c.epochs = 3
            c.validation = 100
            c.profile = true
            c.logEvery = 4
            c.metricsPath = path
        }
        let decoder = MetricsLog.makeDecoder(), encoder = MetricsLog.makeEncoder()
        var epochs: [EpochRecord] = [], steps: [StepRecord] = []
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            let data = Data(line.utf8)
            let keys = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any]).keys
            if keys.contains("step") {
                steps.append(try decoder.decode(StepRecord.self, from: data))
                XCTAssertEqual(String(decoding: try encoder.encode(steps.last!), as: UTF8.self), String(line))
            } else {
                epochs.append(try decoder.decode(EpochRecord.self, from: data))
                XCTAssertEqual(String(decoding: try encoder.encode(epochs.last!), as: UTF8.self), String(line))
                for key in ["validation_loss", "validation_accuracy", "test_loss", "test_accuracy", "train_accuracy",
                            "samples_per_second", "phases"] {
                    XCTAssertTrue(keys.contains(key), "\(key) in \(line)")
                }
            }
        }
        XCTAssertEqual(epochs, run.summary.epochs, "every field of every epoch record")
        XCTAssertEqual(epochs.map(\.epoch), [1, 2, 3])
        XCTAssertEqual(steps.map(\.step), [4, 8, 12, 16, 20, 24, 28], "500 samples in batches of 50: 10 steps per epoch")
        XCTAssertEqual(steps.map(\.epoch), [1, 1, 2, 2, 2, 3, 3])
    }

    /// Non-finite numbers (strings in the file) read back and write again as the same line; a
    /// record from before validation, `samples_per_second` and `--profile` reads with their absence.
    func testNonFiniteValuesAndOlderRecordsRead() throws {
        let decoder = MetricsLog.makeDecoder(), encoder = MetricsLog.makeEncoder()
        let line = #"{"epoch":2,"lr":0.1,"samples_per_second":0,"seconds":1.5,"test_accuracy":null,"test_loss":"-Infinity","#
            + #""train_accuracy":null,"train_loss":"NaN","validation_accuracy":null,"validation_loss":"Infinity"}"#
        let record = try decoder.decode(EpochRecord.self, from: Data(line.utf8))
        XCTAssertTrue(record.trainLoss.isNaN)
        XCTAssertEqual(record.validationLoss, .infinity)
        XCTAssertEqual(record.testLoss, -.infinity)
        XCTAssertNil(record.trainAccuracy)
        XCTAssertEqual(String(decoding: try encoder.encode(record), as: UTF8.self), line)

        let old = #"{"epoch":1,"train_loss":0.9,"train_accuracy":0.5,"test_loss":0.8,"test_accuracy":0.6,"lr":0.1,"seconds":1}"#
        let older = try decoder.decode(EpochRecord.self, from: Data(old.utf8))
        XCTAssertEqual([older.trainLoss, older.trainAccuracy, older.testLoss, older.testAccuracy, older.lr, older.seconds],
                       [0.9, 0.5, 0.8, 0.6, 0.1, 1])
        XCTAssertNil(older.validationLoss)
        XCTAssertNil(older.validationAccuracy)
        XCTAssertNil(older.phases)
        XCTAssertEqual(older.samplesPerSecond, 0)
    }
}
