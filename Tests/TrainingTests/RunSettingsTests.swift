import Checkpoint
import Communication
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
            // Settings that only earlier versions wrote (the data's full CRC-32) are not written.
            XCTAssertEqual(metadata[key], setting.written ? setting.value(of: c, data: data) : nil, key)
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

    /// A flag's row names one flag; what several flags imply together is no flag (no range check,
    /// no config key, no replay), and whatever ranks must agree on is a flag's, flags' or the data's.
    func testEveryFlagRowIsOneFlag() {
        for setting in RunSettings.all {
            let oneFlag = setting.name.range(of: "^--[a-z0-9]+(-[a-z0-9]+)*$", options: .regularExpression) != nil
            XCTAssertEqual(setting.isFlag, oneFlag, setting.name)
            XCTAssertEqual(setting.flagKind != nil, oneFlag, setting.name)
            if setting.source == .flags { XCTAssertNil(setting.limits, setting.name) }
        }
        XCTAssertEqual(RunSettings.flag("--l1").flagKind, .real)
        XCTAssertEqual(RunSettings.flag("--nesterov").flagKind, .boolean)
    }

    /// Every setting a resume must match is recorded in checkpoints, so `checkResumable` compares it.
    func testEverySettingAResumeMustMatchIsRecorded() {
        for setting in RunSettings.all where setting.resumeMustMatch { XCTAssertNotNil(setting.key, setting.name) }
        XCTAssertEqual(RunSettings.resumeMustMatch.map(\.name), RunSettings.all.filter(\.resumeMustMatch).map(\.name))
        XCTAssertEqual(RunSettings.listed(["a", "b", "c"]), "a, b and c")
    }

    /// What `RankAgreement.verify` throws on each of 2 threads whose configurations `edit` makes.
    func verifyOnTwoThreads(_ edit: @escaping @Sendable (inout TrainingConfiguration, _ rank: Int) -> Void) throws -> [TrainerError?] {
        let base = try configuration(nesterov: false)
        let data = try PreparedData(base)
        return ThreadGroup.run(size: 2) { communicator -> TrainerError? in
            var c = base
            edit(&c, communicator.rank)
            do {
                try RankAgreement.verify(c, data: data, communicator: communicator)
                return nil
            } catch let failure as AgreedFailure {
                return failure.error
            } catch {
                return TrainerError(.environment, subject: "unexpected", "\(error)")
            }
        }
    }

    /// A compressed sum gathers every rank's state when rank 0 writes a checkpoint: its ranks stop
    /// before the first step unless they write checkpoints at the same steps — a usage error (flags
    /// differ), though no one flag does. An exact sum's ranks may differ.
    func testRanksOfACompressedSumAgreeOnWhenCheckpointsAreWritten() throws {
        let name = "when checkpoints are written (--checkpoint-dir, --checkpoint-every; a compressed sum or --sync-every gathers each rank's state then)"
        let every = try verifyOnTwoThreads { c, rank in
            c.gradCompression = .bfloat16
            c.checkpointDirectory = "ckpt"
            c.checkpointEvery = rank == 0 ? 5 : 0
        }
        for error in every {
            XCTAssertEqual(error?.kind, .usage)
            XCTAssertEqual(error?.message, "ranks disagree: \(name) is at epoch ends on some ranks and at epoch ends and every 5 steps on others (start every rank with the same flags and data)")
        }
        let directory = try verifyOnTwoThreads { c, rank in
            c.gradCompression = .bfloat16
            c.checkpointDirectory = rank == 0 ? "ckpt" : nil
        }
        XCTAssertEqual(directory.map { $0?.kind }, [.usage, .usage])
        XCTAssertTrue(directory[0]?.message.contains("\(name) is at epoch ends on some ranks and never on others") == true, "\(directory)")
        // Local rounds gather every rank's inner optimizer state likewise (issue 22).
        let rounds = try verifyOnTwoThreads { c, rank in
            c.syncEvery = 4
            c.checkpointDirectory = "ckpt"
            c.checkpointEvery = rank == 0 ? 5 : 0
        }
        XCTAssertEqual(rounds.map { $0?.kind }, [.usage, .usage], "\(rounds)")
        let exact = try verifyOnTwoThreads { c, rank in
            c.checkpointDirectory = rank == 0 ? "ckpt" : nil
            c.checkpointEvery = rank == 0 ? 5 : 0
        }
        XCTAssertEqual(exact.map { $0 == nil }, [true, true], "\(exact)")
    }
}
