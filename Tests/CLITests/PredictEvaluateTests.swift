import Foundation
import TestSupport
import XCTest

/// `trainer predict` and `trainer evaluate` on a checkpoint of every seed model: predictions
/// for csv (features only and label first) and idx inputs, the confusion matrix, and the errors.
final class PredictEvaluateTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = try makeScratchDirectory("predict")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// A seed model and the data it is trained on.
    struct Case {
        let model: String
        let data: String
        let inputs: Int
        /// nil for regression.
        let classes: Int?
        var extra: [String] = []
        var softmax: Bool { model == "softmax" || model.hasPrefix("mlp:") && !model.hasSuffix(":mse") && !model.hasSuffix(":svm") }
    }

    static let cases = [
        Case(model: "perceptron", data: "blobs", inputs: 2, classes: 2, extra: ["--batch-size", "1", "--lr", "1"]),
        Case(model: "multiperceptron", data: "xor", inputs: 2, classes: 2),
        Case(model: "svm", data: "xor", inputs: 2, classes: 2),
        Case(model: "softmax", data: "xor", inputs: 2, classes: 2),
        Case(model: "logistic", data: "xor", inputs: 2, classes: 2, extra: ["--batch-size", "16", "--lr", "0.5"]),
        Case(model: "poly2+logistic", data: "xor", inputs: 2, classes: 2, extra: ["--batch-size", "16", "--lr", "0.5"]),
        Case(model: "linear", data: "linear", inputs: 1, classes: nil, extra: ["--lr", "0.5"]),
        Case(model: "mlp:8:relu", data: "xor", inputs: 2, classes: 2, extra: ["--batch-size", "16", "--lr", "0.5"]),
    ]

    /// Trains `c` for 3 epochs into a checkpoint directory; returns it.
    func train(_ c: Case, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let checkpoints = directory + "/ckpt-" + c.model.replacingOccurrences(of: ":", with: "_")
        let outcome = try TrainerProcess.run(["train", "--data", c.data, "--model", c.model, "--epochs", "3", "--quiet",
                                              "--checkpoint-dir", checkpoints] + c.extra, file: file, line: line)
        XCTAssertEqual(outcome.status, 0, "\(c.model): \(outcome.stderr)", file: file, line: line)
        return checkpoints
    }

    /// `rows` deterministic samples of `inputs` features in [0, 1] (so that idx bytes hold them exactly as k/255).
    func samples(rows: Int, inputs: Int) -> [[UInt8]] {
        (0..<rows).map { (r: Int) -> [UInt8] in
            (0..<inputs).map { (c: Int) -> UInt8 in UInt8(truncatingIfNeeded: r * 37 + c * 101 + 13) }
        }
    }

    func writeFile(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// An IDX3 images file of `rows` images of 1 × inputs pixels.
    func writeIDX(_ path: String, _ pixels: [[UInt8]]) throws {
        let bytes = idxImages(count: UInt32(pixels.count), rows: 1, columns: UInt32(pixels.first?.count ?? 0),
                              pixels: pixels.flatMap { $0 })
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Parses predict's CSV: checks the header and every line; returns the predicted values.
    func checkPredictions(_ text: String, _ c: Case, rows: Int, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        let lines = text.split(separator: "\n").map(String.init)
        guard let header = lines.first else { XCTFail("\(c.model): no output", file: file, line: line); return [] }
        var expected = c.classes == nil ? "index,prediction" : "index,predicted"
        if c.softmax, let k = c.classes { expected += (0..<k).map { ",p_\($0)" }.joined() }
        XCTAssertEqual(header, expected, c.model, file: file, line: line)
        XCTAssertEqual(lines.count - 1, rows, "\(c.model): one line per sample", file: file, line: line)
        var predictions: [String] = []
        for (index, row) in lines.dropFirst().enumerated() {
            let fields = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(fields.count, header.split(separator: ",").count, "\(c.model): \(row)", file: file, line: line)
            XCTAssertEqual(fields.first, String(index), file: file, line: line)
            guard fields.count >= 2 else { continue }
            predictions.append(fields[1])
            if let k = c.classes {
                XCTAssertTrue(Int(fields[1]).map { (0..<k).contains($0) } ?? false, "\(c.model): class \(fields[1])", file: file, line: line)
                if c.softmax {
                    let p = fields.dropFirst(2).compactMap(Double.init)
                    XCTAssertEqual(p.count, k, file: file, line: line)
                    XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-4, "\(c.model): \(row)", file: file, line: line)
                    XCTAssertEqual(p.indices.max { p[$0] < p[$1] }, Int(fields[1]), "\(c.model): argmax p = predicted", file: file, line: line)
                }
            } else {
                XCTAssertTrue(Double(fields[1])?.isFinite ?? false, "\(c.model): \(row)", file: file, line: line)
            }
        }
        return predictions
    }

    /// Checks evaluate's output: the summary line, and for classifiers the matrix (summing to
    /// the sample count, a recall per class) and the accuracy line.
    func checkEvaluation(_ text: String, _ c: Case, file: StaticString = #filePath, line: UInt = #line) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let summary = lines.first ?? ""
        XCTAssertTrue(summary.contains(" samples, loss "), summary, file: file, line: line)
        let samples = summary.components(separatedBy: ": ").last?.split(separator: " ").first.flatMap { Int($0) }
        guard let k = c.classes else {
            XCTAssertFalse(summary.contains("accuracy"), summary, file: file, line: line)
            XCTAssertFalse(text.contains("confusion matrix"), text, file: file, line: line)
            return
        }
        XCTAssertTrue(summary.contains(", accuracy "), summary, file: file, line: line)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("confusion matrix") }), start + 2 + k < lines.count else {
            XCTFail("\(c.model): no confusion matrix in\n\(text)", file: file, line: line)
            return
        }
        XCTAssertTrue(lines[start + 1].hasPrefix("true \\ predicted"), lines[start + 1], file: file, line: line)
        XCTAssertTrue(lines[start + 1].hasSuffix("recall"), lines[start + 1], file: file, line: line)
        var total = 0, diagonal = 0
        for t in 0..<k {
            let fields = lines[start + 2 + t].split(separator: " ")
            XCTAssertEqual(fields.first.map(String.init), String(t), file: file, line: line)
            let counts = fields.dropFirst().prefix(k).compactMap { Int($0) }
            XCTAssertEqual(counts.count, k, lines[start + 2 + t], file: file, line: line)
            XCTAssertTrue(fields.last?.hasSuffix("%") ?? false, "recall: \(lines[start + 2 + t])", file: file, line: line)
            total += counts.reduce(0, +)
            if t < counts.count { diagonal += counts[t] }
        }
        XCTAssertEqual(total, samples, "\(c.model): the matrix sums to the sample count", file: file, line: line)
        XCTAssertTrue(lines[start + 2 + k].hasPrefix("total"), file: file, line: line)
        let accuracy = lines.first { $0.hasPrefix("accuracy ") } ?? ""
        XCTAssertTrue(accuracy.hasSuffix("(\(diagonal) of \(total) correct)"), accuracy, file: file, line: line)
    }

    func testEverySeedModelPredictsAndEvaluates() throws {
        let rows = 7
        for c in PredictEvaluateTests.cases {
            let checkpoints = try train(c)
            let pixels = samples(rows: rows, inputs: c.inputs)
            let features = pixels.map { $0.map { String(Float($0) * (1 / 255 as Float)) } }  // as idx scales bytes
            let featuresOnly = try writeFile("features-\(c.inputs).csv",
                                             (0..<c.inputs).map { "x\($0)" }.joined(separator: ",") + "\n"
                                             + features.map { $0.joined(separator: ",") + "\n" }.joined())
            let labelFirst = try writeFile("labelled-\(c.inputs).csv", features.map { "1," + $0.joined(separator: ",") + "\r\n" }.joined())
            let idxDirectory = directory + "/idx-\(c.inputs)"
            try FileManager.default.createDirectory(atPath: idxDirectory, withIntermediateDirectories: true)
            try writeIDX(idxDirectory + "/t10k-images-idx3-ubyte", pixels)

            var outputs: [[String]] = []
            for input in ["csv:\(featuresOnly)", "csv:\(labelFirst)", "idx:\(idxDirectory)", "idx:\(idxDirectory)/t10k-images-idx3-ubyte"] {
                let outcome = try TrainerProcess.run(["predict", checkpoints, input])
                XCTAssertEqual(outcome.status, 0, "\(c.model) \(input): \(outcome.stderr)")
                XCTAssertEqual(outcome.stderr, "")
                outputs.append(checkPredictions(outcome.stdout, c, rows: rows))
            }
            // The same samples, however they are given, get the same predictions.
            XCTAssertEqual(Set(outputs.map { $0 }).count, 1, "\(c.model): \(outputs)")

            let toFile = directory + "/predictions.csv"
            let written = try TrainerProcess.run(["predict", checkpoints, "csv:\(featuresOnly)", "-o", toFile])
            XCTAssertEqual(written.status, 0, written.stderr)
            XCTAssertEqual(written.stdout, "")
            XCTAssertEqual(checkPredictions(try String(contentsOfFile: toFile, encoding: .utf8), c, rows: rows), outputs.first)

            let evaluated = try TrainerProcess.run(["evaluate", checkpoints])
            XCTAssertEqual(evaluated.status, 0, "\(c.model): \(evaluated.stderr)")
            checkEvaluation(evaluated.stdout, c)
            let plain = try TrainerProcess.run(["evaluate", checkpoints, "--no-matrix", "--split", "train"])
            XCTAssertEqual(plain.status, 0, plain.stderr)
            XCTAssertEqual(plain.stdout.split(separator: "\n").count, 1, plain.stdout)
            XCTAssertFalse(plain.stdout.contains("confusion"))
        }
    }

    func testConfusionMatrixOfManyClasses() throws {
        let c = Case(model: "softmax", data: "blobs:200:4:3", inputs: 3, classes: 4)
        let checkpoints = try train(c)
        let outcome = try TrainerProcess.run(["evaluate", checkpoints, "--split", "train"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        checkEvaluation(outcome.stdout, c)
        XCTAssertTrue(outcome.stdout.contains("200 samples"), outcome.stdout)
    }

    func testFashionMNISTClassNames() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"),
                          "no Fashion-MNIST (launch/install installs dataset-fashion-mnist)")
        let checkpoints = directory + "/fashion"
        let trained = try TrainerProcess.run(["train", "--model", "softmax", "--epochs", "1", "--quiet", "--checkpoint-dir", checkpoints])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let outcome = try TrainerProcess.run(["evaluate", checkpoints])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        for name in ["0 T-shirt/top", "1 Trouser", "4 Coat", "9 Ankle boot"] {
            XCTAssertTrue(outcome.stdout.contains("\n" + name + " "), "\(name) in\n\(outcome.stdout)")
        }
        XCTAssertTrue(outcome.stdout.contains("(") && outcome.stdout.contains("of 10000 correct)"), outcome.stdout)
        let predicted = try TrainerProcess.run(["predict", checkpoints, "fashion-mnist"])
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        XCTAssertEqual(predicted.stdout.split(separator: "\n").count, 10_001)
    }


    func testPredictErrors() throws {
        let checkpoints = try train(PredictEvaluateTests.cases[3])  // softmax on xor: 2 features
        let three = try writeFile("three.csv", "1,2,3,4\n5,6,7,8\n")
        try assertFails(["predict", checkpoints, "csv:\(three)"], code: 65, mentions: ["three.csv", "4 columns", "2 features"])
        let images = directory + "/images-idx3-ubyte"
        try writeIDX(images, samples(rows: 3, inputs: 5))
        try assertFails(["predict", checkpoints, "idx:\(images)"], code: 65, mentions: ["images-idx3-ubyte", "5 features", "takes 2"])
        let labels = directory + "/labels"
        try Data([0, 0, 8, 1, 0, 0, 0, 1, 7]).write(to: URL(fileURLWithPath: labels))
        try assertFails(["predict", checkpoints, "idx:\(labels)"], code: 65, mentions: ["labels", "magic"])
        let bad = try writeFile("bad.csv", "1,2\n3,abc\n")
        try assertFails(["predict", checkpoints, "csv:\(bad)"], code: 65, mentions: ["bad.csv:2", "abc"])
        let ragged = try writeFile("ragged.csv", "1,2\n3\n")
        try assertFails(["predict", checkpoints, "csv:\(ragged)"], code: 65, mentions: ["ragged.csv:2"])
        try assertFails(["predict", checkpoints, "csv:\(directory)/absent.csv"], code: 66, mentions: ["absent.csv"])
        try assertFails(["predict", checkpoints, "idx:\(directory)/nowhere"], code: 66, mentions: ["nowhere"])
        try assertFails(["predict", checkpoints, "idx:\(directory)"], code: 66, mentions: ["t10k-images-idx3-ubyte"])
        try assertFails(["predict", checkpoints, "xor"], code: 64, mentions: ["xor", "idx:PATH", "csv:FILE"])
        try assertFails(["predict", directory + "/no-checkpoint", "csv:\(three)"], code: 66, mentions: ["no-checkpoint"])
        let good = try writeFile("good.csv", "0.5,0.5\n")
        try assertFails(["predict", checkpoints, "csv:\(good)", "-o", directory + "/no/such/dir/p.csv"], code: 73, mentions: ["p.csv"])
        try assertFails(["predict", checkpoints, "csv:\(good)", "-o", directory], code: 73, mentions: [directory, "directory"])
        // A one-column file for a one-feature model is fine; for a two-feature model it is named.
        let single = try writeFile("single.csv", "x\n0.5\n\n-0.5\n")
        try assertFails(["predict", checkpoints, "csv:\(single)"], code: 65, mentions: ["single.csv", "1 column", "2 features"])
        let linear = try train(PredictEvaluateTests.cases[6])
        let outcome = try TrainerProcess.run(["predict", linear, "csv:\(single)"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertEqual(checkPredictions(outcome.stdout, PredictEvaluateTests.cases[6], rows: 2).count, 2)
    }
}
