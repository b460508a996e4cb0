import Checkpoint
import Foundation
import TestSupport
import Training
import XCTest

/// Outputs that cannot be written: the right code (73, "cannot write"), before any work is lost.
/// The file systems are real: tmpfs mounts made here, which needs root (as CI is).
final class OutputPathTests: XCTestCase {
    /// A tmpfs of `size` mounted on a fresh directory with `options`, unmounted when the test ends.
    func mountTmpfs(size: String, options: String = "") throws -> String {
        try XCTSkipUnless(getuid() == 0, "mounting a tmpfs needs root")
        let directory = try scratchDirectory() + "/mount"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let mount = try ProcessRunner.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)" + options, "tmpfs", directory], timeout: 10)
        XCTAssertEqual(mount.status, 0, mount.stderr)
        addTeardownBlock { _ = try? ProcessRunner.run("/bin/umount", [directory], timeout: 10) }
        return directory
    }

    /// A read-only checkpoint directory fails at setup, in its first second: no epoch runs.
    func testReadOnlyCheckpointDirectoryFailsBeforeTheFirstEpoch() throws {
        let readOnly = try mountTmpfs(size: "1m", options: ",ro")
        let outcome = try TrainerProcess.run(["train", "--data", "xor", "--model", "mlp:8", "--epochs", "3",
                                              "--checkpoint-dir", readOnly])
        assertOneLineError(outcome, code: 73, mentions: [readOnly, "Read-only file system"])
        XCTAssertLessThan(outcome.seconds, 5)
        XCTAssertFalse(outcome.stderr.contains("epoch 1/"), outcome.stderr)
        // The metrics file there too.
        try assertFails(["train", "--data", "xor", "--epochs", "1", "--metrics", readOnly + "/m.jsonl"], code: 73,
                        mentions: ["m.jsonl"])
    }

    /// The disk fills during training: the write that does not fit fails with 73, naming the
    /// file and the reason; `latest` still names the last complete checkpoint; no temporary
    /// file is left.
    func testFullDiskKeepsTheLastCheckpoint() throws {
        let full = try mountTmpfs(size: "700k")
        let directory = full + "/ck"
        // 67,074 parameters: 269 kB a checkpoint, so the third does not fit.
        let outcome = try TrainerProcess.run(["train", "--data", "xor", "--model", "mlp:256-256", "--epochs", "5",
                                              "--batch-size", "200", "--checkpoint-dir", directory])
        XCTAssertEqual(outcome.status, 73, outcome.stderr)
        let errors = outcome.stderrLines.filter { $0.hasPrefix("trainer: error: ") }
        XCTAssertEqual(errors.count, 1, outcome.stderr)
        XCTAssertTrue(errors.first?.contains("ckpt-00000003.safetensors") ?? false, outcome.stderr)
        XCTAssertTrue(errors.first?.contains("No space left on device") ?? false, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("epoch 2/5"), outcome.stderr)
        let latest = try CheckpointDirectory.resolve(directory, checkpointDirectory: nil)
        XCTAssertEqual(latest, directory + "/ckpt-00000002.safetensors")
        XCTAssertEqual(try ModelCheckpoint.load(latest).progress.globalStep, 2)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        XCTAssertEqual(names, ["ckpt-00000001.safetensors", "ckpt-00000002.safetensors", "latest"])
    }
}
