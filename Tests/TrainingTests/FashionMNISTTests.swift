import Data
import Foundation
import Models
import Training
import TestSupport
import XCTest

/// The real data: Fashion-MNIST from /usr/share/datasets/fashion-mnist.
final class FashionMNISTTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: DataSource.fashionMNISTDirectory),
                          "dataset-fashion-mnist is not installed (launch/install installs it)")
    }

    func testSoftmaxRegressionReaches83Percent() throws {
        let run = try train { $0.model = ModelSpec(loss: .softmaxCrossEntropy) }
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(run.summary.final?.testAccuracy), 0.83)
    }

    /// The default job reaches 87% test accuracy within its 10 epochs and logs every epoch.
    func testDefaultMLPReaches87PercentAndWritesMetrics() throws {
        let directory = URL(fileURLWithPath: try scratchDirectory())
        let path = directory.appendingPathComponent("metrics.jsonl").path
        let run = try train { $0.metricsPath = path }
        let accuracies = run.summary.epochs.compactMap(\.testAccuracy)
        XCTAssertEqual(accuracies.count, 10)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(accuracies.max()), 0.87)

        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let epochs = objects.filter { $0["train_loss"] != nil }
        let steps = objects.filter { $0["step"] != nil }
        XCTAssertEqual(epochs.count, 10)
        for key in ["epoch", "train_loss", "test_loss", "test_accuracy", "lr", "seconds"] {
            XCTAssertNotNil(epochs.first?[key], key)
        }
        XCTAssertEqual(epochs.last?["epoch"] as? Int, 10)
        XCTAssertEqual(steps.count, 469 * 10 / 100)  // one every 100 of the 4690 steps
        XCTAssertNotNil(steps.first?["loss"])
        XCTAssertEqual(steps.first?["step"] as? Int, 100)
    }
}
