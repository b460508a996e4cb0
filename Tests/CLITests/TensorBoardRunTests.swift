import Foundation
import TestSupport
import XCTest

/// `trainer train --tensorboard DIR`: the event files PyPI's `tensorboard` reads hold the values
/// of the JSON Lines metrics, as Float, at the right steps.
final class TensorBoardRunTests: XCTestCase {
    static let script = #"""
import json, sys
from tensorboard.backend.event_processing import event_accumulator
import numpy as np
logdir, metrics = sys.argv[1], sys.argv[2]
ea = event_accumulator.EventAccumulator(logdir, size_guidance={event_accumulator.SCALARS: 0})
ea.Reload()
got = {tag: {e.step: e.value for e in ea.Scalars(tag)} for tag in ea.Tags()["scalars"]}
records = [json.loads(line) for line in open(metrics)]
checked, wrong = 0, []
for r in records:
    if "train_loss" in r:
        kind, step, fields = "epoch", r["epoch"] * int(sys.argv[3]), ["train_loss", "train_accuracy", "validation_loss",
                                  "validation_accuracy", "test_loss", "test_accuracy", "lr", "samples_per_second"]
    else:
        kind, step, fields = "step", r["step"], ["loss", "lr"]
    for field in fields:
        tag = f"{kind}/{field}"
        value = got.get(tag, {}).get(step)
        if value is None or np.float32(r[field]) != np.float32(value):
            wrong.append((tag, step, r[field], value))
        checked += 1
print(json.dumps({"checked": checked, "wrong": wrong, "tags": sorted(got)}))
"""#

    func testEventFilesHoldTheMetricsValues() throws {
        let directory = try makeScratchDirectory("tensorboard-run")
        let python = TorchOptimizerTests.repository.appendingPathComponent(".build/venv/bin/python3").path
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: python), "no \(python): run launch/install --tests")
        // blobs:2000 in batches of 100: 18 steps per epoch after 200 validation samples.
        let outcome = try TrainerProcess.run(["train", "--data", "blobs:2000:4:6", "--model", "mlp:16:relu", "--epochs", "3",
                                              "--batch-size", "100", "--validation", "200", "--log-every", "5",
                                              "--metrics", directory + "/metrics.jsonl", "--tensorboard", directory + "/tb", "--quiet"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let read = try ProcessRunner.run(python, ["-c", Self.script, directory + "/tb", directory + "/metrics.jsonl", "18"], timeout: 120)
        XCTAssertEqual(read.status, 0, read.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(read.stdout.utf8)) as? [String: Any], read.stdout)
        XCTAssertEqual(report["checked"] as? Int, 3 * 8 + 10 * 2, read.stdout)  // 3 epoch records, 10 step records
        XCTAssertEqual((report["wrong"] as? [Any])?.count, 0, read.stdout)
        XCTAssertEqual(report["tags"] as? [String], ["epoch/lr", "epoch/samples_per_second", "epoch/test_accuracy", "epoch/test_loss",
                                                    "epoch/train_accuracy", "epoch/train_loss", "epoch/validation_accuracy",
                                                    "epoch/validation_loss", "step/loss", "step/lr"], read.stdout)
    }
}
