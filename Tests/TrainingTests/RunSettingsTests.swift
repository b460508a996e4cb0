import Checkpoint
import KernelCore
import Models
import Support
import Training
import TestSupport
import XCTest

/// The settings table: one entry per setting, and what follows from it — here for `--nesterov`,
/// the setting added through the table alone (its fingerprint is tested with real ranks in
/// RankMismatchTests, `inspect` in CheckpointInputTests).
final class RunSettingsTests: XCTestCase {
    func configuration(nesterov: Bool) throws -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.data = .xor(count: 40)
        c.model = try ModelSpec(parsing: "mlp:4")
        c.epochs = 1
        c.batchSize = 8
        c.momentum = 0.9
        c.nesterov = nesterov
        return c
    }

    /// The checkpoint records the setting, and a resume must match it.
    func testNesterovIsRecordedAndMustMatchOnResume() throws {
        let directory = try scratchDirectory()
        _ = try train { $0 = try self.configuration(nesterov: true); $0.checkpointDirectory = directory }
        let path = try CheckpointDirectory.resolve(directory, checkpointDirectory: nil)
        let loaded = try ModelCheckpoint.load(path)
        XCTAssertEqual(loaded.metadata["nesterov"], "true")
        let same = try configuration(nesterov: true)
        XCTAssertNoThrow(try loaded.checkResumable(by: same, data: PreparedData(same), source: path, worldSize: 1))
        let other = try configuration(nesterov: false)
        XCTAssertThrowsError(try loaded.checkResumable(by: other, data: PreparedData(other), source: path, worldSize: 1)) { error in
            XCTAssertEqual((error as? TrainerError)?.kind, .usage)
            XCTAssertTrue("\(error)".contains("--nesterov is true in the checkpoint but false now"), "\(error)")
        }
    }

    /// A checkpoint written before the setting existed ran with its default: it resumes a run
    /// with the default, and not one without it.
    func testACheckpointWithoutTheKeyHasTheDefault() throws {
        let directory = try scratchDirectory()
        _ = try train { $0 = try self.configuration(nesterov: false); $0.checkpointDirectory = directory }
        let path = try CheckpointDirectory.resolve(directory, checkpointDirectory: nil)
        let file = try SafeTensors(contentsOf: path)
        var metadata = file.metadata
        XCTAssertEqual(metadata.removeValue(forKey: "nesterov"), "false")
        let old = try ModelCheckpoint.decode(SafeTensors(tensors: file.tensors, metadata: metadata), source: "old")
        let plain = try configuration(nesterov: false), nesterov = try configuration(nesterov: true)
        XCTAssertNoThrow(try old.checkResumable(by: plain, data: PreparedData(plain), source: "old", worldSize: 1))
        XCTAssertThrowsError(try old.checkResumable(by: nesterov, data: PreparedData(nesterov), source: "old", worldSize: 1))
    }

    /// Every recorded setting is in every checkpoint, under its own key, with the run's value.
    func testTheMetadataHoldsEveryRecordedSetting() throws {
        let directory = try scratchDirectory()
        let c = try configuration(nesterov: true)
        _ = try train { $0 = c; $0.checkpointDirectory = directory }
        let metadata = try ModelCheckpoint.load(try CheckpointDirectory.resolve(directory, checkpointDirectory: nil)).metadata
        let data = try PreparedData(c)
        let keys = RunSettings.all.compactMap(\.key)
        XCTAssertEqual(Set(keys).count, keys.count, "one key per setting")
        for setting in RunSettings.all {
            guard let key = setting.key else { continue }
            XCTAssertEqual(metadata[key], setting.value(of: c, data: data), key)
        }
    }

    /// The limits of the table are the CLI's range checks.
    func testValidateNamesTheFlagAndItsRule() throws {
        var c = try configuration(nesterov: false)
        c.batchSize = 0
        XCTAssertThrowsError(try RunSettings.validate(c)) { error in
            XCTAssertEqual("\(error)", "--batch-size 0: must be a whole number from 1 to 16777216")
        }
        c.batchSize = 8
        c.momentum = 1
        XCTAssertThrowsError(try RunSettings.validate(c)) { XCTAssertEqual("\($0)", "--momentum 1.0: must be in [0, 1)") }
    }
}
