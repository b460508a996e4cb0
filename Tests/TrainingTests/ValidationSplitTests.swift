import Data
import Models
import Foundation
import TestSupport
import Training
import XCTest

/// `--validation N` and `--keep-best`: N training samples chosen by the seed are never trained
/// on, are scored after every epoch, and `best` names the checkpoint of the lowest validation loss.
final class ValidationSplitTests: XCTestCase {
    func rows(_ data: Dataset) -> [[Float]] {
        guard case .floats(let values) = data.storage else { XCTFail("synthetic data are floats"); return [] }
        return (0..<data.count).map { Array(values[($0 * data.featureCount)..<(($0 + 1) * data.featureCount)]) + [data.labels[$0]] }
    }

    /// The held-out samples and the rest partition the training set; the choice is the seed's.
    func testValidationSamplesAreAPartOfTheTrainingSetChosenByTheSeed() throws {
        var configuration = TrainingConfiguration()
        configuration.data = try DataSource(parsing: "blobs:500:3:4", flag: "--data")
        configuration.model = try ModelSpec(parsing: "softmax")
        let all = try PreparedData(configuration)
        configuration.validation = 120
        let split = try PreparedData(configuration)
        let validation = try XCTUnwrap(split.validation)
        XCTAssertEqual(validation.count, 120)
        XCTAssertEqual(split.train.count, 380)
        let union = (rows(split.train) + rows(validation)).map { $0.description }.sorted()
        XCTAssertEqual(union, rows(all.train).map { $0.description }.sorted())
        XCTAssertTrue(Set(rows(split.train).map(\.description)).isDisjoint(with: rows(validation).map(\.description)))
        XCTAssertEqual(rows(try XCTUnwrap(PreparedData(configuration).validation)), rows(validation), "same seed, same samples")
        configuration.seed = 1
        XCTAssertNotEqual(rows(try XCTUnwrap(PreparedData(configuration).validation)), rows(validation), "another seed, other samples")
        configuration.validation = 500
        XCTAssertThrowsError(try PreparedData(configuration)) { error in
            XCTAssertTrue("\(error)".contains("--validation 500"), "\(error)")
        }
    }

    /// Every epoch reports the validation scores; `best` names the checkpoint of the lowest
    /// validation loss, which `--keep 1` does not delete; a resume keeps tracking it.
    func testKeepBestNamesTheCheckpointOfTheLowestValidationLoss() throws {
        let directory = try makeScratchDirectory("keep-best")
        func run(epochs: Int, resume: Bool) throws -> TrainingSummary {
            try train { c in
                // Overlapping 2-D blobs and a rate large enough that the validation loss goes up and
                // down (seed 0: lowest at epoch 7 of 8).
                c.data = try DataSource(parsing: "blobs:600:8:2", flag: "--data")
                c.model = try ModelSpec(parsing: "mlp:64-64:relu")
                c.learningRate = 0.5
                c.batchSize = 16
                c.epochs = epochs
                c.validation = 150
                c.keepBest = true
                c.checkpointDirectory = directory
                c.keepCheckpoints = 1
                c.resume = resume ? "latest" : nil
            }.summary
        }
        let first = try run(epochs: 4, resume: false).epochs
        let records = first + (try run(epochs: 8, resume: true).epochs)
        XCTAssertEqual(records.map(\.epoch), Array(1...8))
        let losses = try records.map { try XCTUnwrap($0.validationLoss) }
        XCTAssertTrue(records.allSatisfy { $0.validationAccuracy != nil })
        let bestEpoch = losses.indices.min { losses[$0] < losses[$1] }! + 1
        print("validation losses \(losses), best epoch \(bestEpoch)")
        let best = try CheckpointDirectory.resolve(directory + "/best", checkpointDirectory: nil)
        let loaded = try ModelCheckpoint.load(best)
        XCTAssertEqual(loaded.progress.epochsCompleted, bestEpoch, "validation losses \(losses)")
        XCTAssertEqual(loaded.progress.bestValidation?.loss, losses[bestEpoch - 1])
        let kept = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".safetensors") }
        XCTAssertLessThan(bestEpoch, 8, "the validation loss must not fall every epoch for this test to test anything")
        XCTAssertEqual(Set(kept).count, 2, "--keep 1 keeps the newest and the best: \(kept)")
    }
}
