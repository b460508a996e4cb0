import Checkpoint
import Foundation
import TestSupport
import Training
import XCTest

/// `train --config FILE`, `train --print-config` and `inspect --config CKPT`: a run's settings as
/// TOML, read back to the same run bit for bit; bad files are one line naming file, line and key.
final class ConfigFileTests: XCTestCase {
    var directory = ""
    override func setUpWithError() throws { directory = try makeScratchDirectory("config") }

    static let run = ["--data", "blobs:3000:4:6", "--model", "mlp:32:tanh", "--optimizer", "adamw", "--lr", "0.01",
                      "--weight-decay", "0.05", "--epochs", "3", "--lr-schedule", "cosine:0.01", "--warmup", "20",
                      "--validation", "300", "--batch-size", "100", "--micro-batch", "64", "--seed", "7", "--threads", "1"]

    func train(_ arguments: [String], into name: String) throws -> [UInt8] {
        let outcome = try TrainerProcess.run(["train"] + arguments + ["--checkpoint-dir", "\(directory)/\(name)", "--quiet"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let path = try CheckpointDirectory.resolve("\(directory)/\(name)", checkpointDirectory: nil)
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func write(_ text: String, _ name: String) throws -> String {
        let path = "\(directory)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testPrintedAndInspectedConfigsReplayTheRunBitForBit() throws {
        let reference = try train(Self.run, into: "flags")
        let printed = try TrainerProcess.run(["train"] + Self.run + ["--print-config"])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        for line in ["optimizer = \"adamw\"", "lr = 0.01", "weight-decay = 0.05", "micro-batch = 64", "seed = 7", "threads = 1"] {
            XCTAssertTrue(printed.stdout.split(separator: "\n").contains(Substring(line)), "«\(line)» in\n\(printed.stdout)")
        }
        let fromPrinted = try train(["--config", try write(printed.stdout, "printed.toml")], into: "printed")
        XCTAssertTrue(fromPrinted == reference, "--config of --print-config's output trains the same bytes")

        let inspected = try TrainerProcess.run(["inspect", "--config", "\(directory)/flags"])
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        let fromCheckpoint = try train(["--config", try write(inspected.stdout, "inspected.toml"), "--threads", "1"], into: "inspected")
        XCTAssertTrue(fromCheckpoint == reference, "--config of inspect --config's output trains the same bytes")
    }

    func testCommandLineFlagsOverrideTheFile() throws {
        let path = try write("lr = 0.5\nbatch_size = 64\nnesterov = true\nmomentum = 0.9\n", "run.toml")
        let printed = try TrainerProcess.run(["train", "--config", path, "--lr", "0.25", "--print-config"])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        let lines = printed.stdout.split(separator: "\n")
        for line in ["lr = 0.25", "batch-size = 64", "nesterov = true", "momentum = 0.9"] {
            XCTAssertTrue(lines.contains(Substring(line)), "«\(line)» in\n\(printed.stdout)")
        }
        // A seed beyond TOML's integers goes through as a string.
        let big = try TrainerProcess.run(["train", "--seed", "18446744073709551615", "--print-config"])
        XCTAssertTrue(big.stdout.contains("seed = \"18446744073709551615\"\n"), big.stdout)
        let again = try TrainerProcess.run(["train", "--config", try write(big.stdout, "big.toml"), "--print-config"])
        XCTAssertEqual(again.stdout, big.stdout, again.stderr)
        // A bad value in the file that the command line replaces is no error.
        let replaced = try write("lr = -1\n", "replaced.toml")
        XCTAssertEqual(try TrainerProcess.run(["train", "--config", replaced, "--lr", "0.5", "--print-config"]).status, 0)
    }

    /// The keys are the flags of train as swift-argument-parser declares them (but --config and
    /// --print-config): each is a key of its kind — true or false for an on/off flag, never for an
    /// option — and --print-config, given every flag, writes each and nothing else.
    func testTheKeysAreTheFlagsOfTrain() throws {
        var flags = try declaredFlags(of: "train")
        XCTAssertEqual(flags.removeValue(forKey: "config")?["kind"] as? String, "option")
        XCTAssertEqual(flags.removeValue(forKey: "print-config")?["kind"] as? String, "flag")
        XCTAssertGreaterThan(flags.count, 30)
        for (name, declaration) in flags {
            let outcome = try TrainerProcess.run(["train", "--config", try write("\(name) = true\n", "\(name).toml"), "--print-config"])
            XCTAssertFalse(outcome.stderr.contains("unknown setting"), outcome.stderr)
            if declaration["kind"] as? String == "flag" {
                XCTAssertFalse(outcome.stderr.contains("must be"), outcome.stderr)
            } else {
                assertOneLineError(outcome, code: 64, mentions: [":1: \(name): must be", "not a TOML bool"])
            }
        }
        let printed = try TrainerProcess.run(["train", "--metrics", "m", "--tensorboard", "t", "--checkpoint-dir", "c", "--resume", "auto",
                                              "--threads", "1", "--test-data", "xor", "--classes", "2", "--optimizer", "adamw",
                                              "--weight-decay", "0.1", "--sync-every", "4", "--outer-lr", "0.7", "--outer-momentum", "0.9",
                                              "--print-config"])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        let keys = printed.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.prefix { $0 != " " }) }
        XCTAssertEqual(keys.count, Set(keys).count, printed.stdout)
        XCTAssertEqual(Set(keys), Set(flags.keys), printed.stdout)
    }

    func testBadConfigsAreOneLineNamingTheFileLineAndKey() throws {
        let cases: [(text: String, mentions: [String])] = [
            ("lr = 0.1\nbatch-sizee = 4\n", [":2: batch-sizee", "unknown setting"]),
            ("\nepochs = \"three\"\n", [":2: epochs", "must be an integer, not a TOML string"]),
            ("epochs = 2.5\n", [":1: epochs", "must be an integer"]),
            ("nesterov = 1\n", [":1: nesterov", "must be true or false"]),
            ("model = 5\n", [":1: model", "must be a string"]),
            ("# a comment\n\n\nlr = -1\n", [":4: lr", "--lr -1.0: must be a positive number"]),
            ("model = \"mlp:0\"\n", [":1: model", "mlp:0"]),
            ("optimizer = \"lion\"\n", [":1: optimizer", "lion"]),
            ("momentum = 0.5\noptimizer = \"adam\"\n", [":1: momentum", "SGD's"]),
            ("[train]\nlr = 0.1\n", [":1: train", "unknown setting"]),
            ("lr = 0.1\nlr = 0.2\n", [":2:", "not TOML"]),
            ("lr = [1\n", [":1:", "not TOML"]),
        ]
        for (index, (text, mentions)) in cases.enumerated() {
            let path = try write(text, "bad\(index).toml")
            try assertFails(["train", "--config", path, "--epochs", "0"], code: 64, mentions: [path] + mentions)
        }
        try assertFails(["train", "--config", "\(directory)/missing.toml"], code: 66, mentions: ["missing.toml", "no such config file"])
    }
}
