import Checkpoint
import Foundation
import TestSupport
import Training
import XCTest

/// A checkpoint is untrusted input: anything wrong with one given to `--resume` or `inspect`
/// gets one line, a non-zero exit, no trap, and nothing is overwritten.
final class CheckpointInputTests: XCTestCase {
    var directory = ""
    var good = ""

    override func setUpWithError() throws {
        directory = try makeScratchDirectory("ckpt")
        let outcome = try TrainerProcess.run(["train", "--data", "xor", "--model", "logistic", "--epochs", "2", "--quiet",
                                              "--checkpoint-dir", directory + "/run"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        good = try CheckpointDirectory.resolve(directory + "/run", checkpointDirectory: nil)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The good checkpoint with its metadata edited, re-encoded as valid safetensors.
    func edited(_ name: String, _ edit: (inout [String: String]) -> Void) throws -> String {
        var file = try SafeTensors(contentsOf: good)
        edit(&file.metadata)
        return try write(name, file.encoded())
    }

    /// Runs `resume` and `inspect` on `path`; both must fail with `code`, one line containing
    /// `mentions`, and leave the checkpoint directory and the file as they were.
    func assertRejected(_ path: String, code: Int32 = 65, mentions: [String], resumeModel: String = "logistic",
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try FileManager.default.contentsOfDirectory(atPath: directory + "/run").sorted()
        let beforeBytes = try before.map { try bytes(directory + "/run/" + $0) }
        let fileBefore = (try? bytes(path)) ?? []
        for arguments in [["train", "--data", "xor", "--model", resumeModel, "--epochs", "3", "--checkpoint-dir", directory + "/run", "--resume", path],
                          ["inspect", path]] {
            let outcome = try TrainerProcess.run(arguments, file: file, line: line)
            assertOneLineError(outcome, code: code, mentions: mentions, context: arguments[0], file: file, line: line)
        }
        let after = try FileManager.default.contentsOfDirectory(atPath: directory + "/run").sorted()
        XCTAssertEqual(after, before, "the checkpoint directory changed", file: file, line: line)
        XCTAssertEqual(try after.map { try bytes(directory + "/run/" + $0) }, beforeBytes, file: file, line: line)
        XCTAssertEqual((try? bytes(path)) ?? [], fileBefore, "the rejected file changed", file: file, line: line)
    }

    func testTruncatedCheckpoints() throws {
        let whole = try bytes(good)
        for cut in [0, 4, 8, 20, whole.count / 2, whole.count - 1] {
            try assertRejected(try write("cut-\(cut).safetensors", Array(whole.prefix(cut))), mentions: ["cut-\(cut).safetensors"])
        }
    }

    func testBitFlippedCheckpoints() throws {
        let whole = try bytes(good)
        var data = whole
        data[data.count - 3] ^= 0x04  // in the tensor bytes: the CRC catches it
        try assertRejected(try write("flip-data.safetensors", data), mentions: ["flip-data.safetensors", "checksum"])
        var header = whole
        header[12] ^= 0x40  // inside the JSON header
        try assertRejected(try write("flip-header.safetensors", header), mentions: ["flip-header.safetensors"])
    }

    func testWrongFormatVersion() throws {
        let path = try edited("v99.safetensors") { $0["format_version"] = "99" }
        try assertRejected(path, mentions: ["v99.safetensors", "version 99"])
    }

    func testWrongArchitecture() throws {
        // The metadata claims an MLP the tensors are not.
        let lying = try edited("lying.safetensors") { $0["model"] = "mlp:4:relu:logistic" }
        try assertRejected(lying, mentions: ["lying.safetensors", "layers.0.weight"])
        // A valid checkpoint of another model than the one asked for: both values named.
        let outcome = try TrainerProcess.run(["train", "--data", "xor", "--model", "mlp:8:relu", "--checkpoint-dir", directory + "/run",
                                              "--resume", good])
        assertOneLineError(outcome, code: 64, mentions: ["--model is logistic in the checkpoint but mlp:8:relu:softmax now"])
    }

    /// A resume with another optimizer, weight decay, warmup or schedule is refused naming both
    /// values; `DIR/latest`, the pointer file itself, resumes like `DIR`.
    func testResumeWithAnotherOptimizerOrScheduleNamesBothValues() throws {
        let job = ["train", "--data", "xor", "--model", "mlp:4", "--quiet", "--optimizer", "adamw", "--lr", "0.01"]
        let first = try TrainerProcess.run(job + ["--epochs", "1", "--checkpoint-dir", directory + "/adamw"])
        XCTAssertEqual(first.status, 0, first.stderr)
        for (flags, mention) in [
            (["--optimizer", "adam"], "--optimizer is adamw in the checkpoint but adam now"),
            (["--weight-decay", "0.1"], "--weight-decay is 0.01 in the checkpoint but 0.1 now"),
            (["--warmup", "5"], "--warmup is 0 in the checkpoint but 5 now"),
            (["--lr-schedule", "cosine:0.1"], "--lr-schedule is constant in the checkpoint but cosine:0.1 now"),
        ] {
            let outcome = try TrainerProcess.run(job + ["--epochs", "2", "--checkpoint-dir", directory + "/other",
                                                        "--resume", directory + "/adamw/latest"] + flags)
            assertOneLineError(outcome, code: 64, mentions: [mention], context: flags.joined(separator: " "))
        }
        let resumed = try TrainerProcess.run(job + ["--epochs", "2", "--checkpoint-dir", directory + "/adamw",
                                                    "--resume", directory + "/adamw/latest"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try ModelCheckpoint.load(try CheckpointDirectory.resolve(directory + "/adamw", checkpointDirectory: nil)).progress.epochsCompleted, 2)
    }

    /// `inspect` prints every setting of the settings table a checkpoint records, `--nesterov`
    /// among them — and for a checkpoint from before it existed, its default.
    func testInspectPrintsEveryRecordedSetting() throws {
        let trained = try TrainerProcess.run(["train", "--data", "xor", "--model", "mlp:4", "--epochs", "1", "--quiet",
                                              "--momentum", "0.9", "--nesterov", "--checkpoint-dir", directory + "/nesterov"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let outcome = try TrainerProcess.run(["inspect", directory + "/nesterov"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        for expected in ["nesterov true", "momentum 0.9", "model mlp:4:relu:softmax", "batch_size 128", "l2 0.0"] {
            XCTAssertTrue(lines.contains(expected), "\(expected) in \(outcome.stdout)")
        }
        // How the run's sums travelled: the first line's plan, from the checkpoint.
        let sums = try TrainerProcess.run(["train", "--data", "xor", "--model", "mlp:4", "--epochs", "1", "--threads", "2",
                                           "--checkpoint-dir", directory + "/plan"])
        XCTAssertEqual(sums.status, 0, sums.stderr)
        let plan = try XCTUnwrap(sums.stderr.split(separator: "\n").first?.split(separator: ", ").drop { !$0.hasPrefix("sum: ") }
            .joined(separator: ", "), sums.stderr)
        XCTAssertEqual(plan, "sum: threads' shared memory, tree order, float32")
        XCTAssertTrue(try TrainerProcess.run(["inspect", directory + "/plan"]).stdout.split(separator: "\n").contains { $0 == plan })
        let old = try edited("old.safetensors") { $0.removeValue(forKey: "nesterov") }
        let inspected = try TrainerProcess.run(["inspect", old])
        XCTAssertTrue(inspected.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
                        .contains("nesterov false"), inspected.stdout)
    }

    func testNotASafetensorsFile() throws {
        try assertRejected(try write("notes.txt", Array("hello, this is not a checkpoint\n".utf8)), mentions: ["notes.txt"])
        try assertRejected(try write("empty.safetensors", []), mentions: ["empty.safetensors"])
        let foreign = SafeTensors(tensors: [], metadata: ["format": "pt"]).encoded()
        try assertRejected(try write("foreign.safetensors", foreign), mentions: ["foreign.safetensors", "not a trainer checkpoint"])
    }

    func testMissingCheckpointAndDirectoryWithoutLatest() throws {
        try assertRejected(directory + "/absent.safetensors", code: 66, mentions: ["absent.safetensors"])
        try FileManager.default.createDirectory(atPath: directory + "/emptydir", withIntermediateDirectories: true)
        try assertRejected(directory + "/emptydir", code: 66, mentions: ["emptydir/latest"])
    }

    /// Python reads our checkpoint with numpy alone and finds the same parameter values.
    func testNumpyReadsTheCheckpoint() throws {
        let python = "/usr/bin/python3"
        let probe = try ProcessRunnerShim.run(python, ["-c", "import numpy"])
        try XCTSkipUnless(probe == 0, "no numpy for /usr/bin/python3 (launch/install installs python3-numpy)")
        let script = """
        import json, struct, sys, numpy as np
        raw = open(sys.argv[1], 'rb').read()
        n = struct.unpack('<Q', raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        body = raw[8 + n:]
        out = {}
        for name, t in header.items():
            if name == '__metadata__': continue
            a, b = t['data_offsets']
            out[name] = np.frombuffer(body[a:b], dtype='<f4').reshape(t['shape']).ravel().tolist()
        print(json.dumps({'tensors': out, 'model': header['__metadata__']['model']}))
        """
        let outcome = try ProcessRunnerShim.output(python, ["-c", script, good])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.utf8)) as? [String: Any])
        let tensors = try XCTUnwrap(object["tensors"] as? [String: [Double]])
        let loaded = try ModelCheckpoint.load(good)
        XCTAssertEqual(object["model"] as? String, "logistic")
        let fromPython = (tensors["layers.0.weight"] ?? []) + (tensors["layers.0.bias"] ?? [])
        XCTAssertEqual(fromPython.map(Float.init), loaded.parameters)
        XCTAssertEqual(loaded.parameters.count, 3)
    }
}

/// Small helpers around ProcessRunner for one-shot commands.
enum ProcessRunnerShim {
    static func run(_ program: String, _ arguments: [String]) throws -> Int32 {
        guard FileManager.default.isExecutableFile(atPath: program) else { return -1 }
        return try ProcessRunner.run(program, arguments, timeout: 60).status
    }

    static func output(_ program: String, _ arguments: [String]) throws -> String {
        let outcome = try ProcessRunner.run(program, arguments, timeout: 60)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return outcome.stdout
    }
}
