import Foundation
import TestSupport
import XCTest

/// Bad input gets one line on stderr naming the file or flag and what is wrong, a non-zero
/// documented exit code, and never a trap.
final class BadInputTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = URL(fileURLWithPath: try makeScratchDirectory("cli"))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: directory.appendingPathComponent(name))
    }

    func write(_ name: String, _ text: String) throws { try write(name, Array(text.utf8)) }

    /// Writes an IDX directory with 4 images of 2×2 and labels, with the given defects.
    func writeIDX(_ name: String, imageMagic: UInt32 = 0x803, cutImages: Int = 0, labels: [UInt8] = [0, 1, 2, 3]) throws -> String {
        let dir = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var images = idxImages(count: 4, rows: 2, columns: 2, pixels: Array(repeating: 7, count: 16), magic: imageMagic)
        images.removeLast(cutImages)
        for split in ["train", "t10k"] {
            try Data(images).write(to: dir.appendingPathComponent("\(split)-images-idx3-ubyte"))
            try Data(idxLabels(labels)).write(to: dir.appendingPathComponent("\(split)-labels-idx1-ubyte"))
        }
        return dir.path
    }


    func testMissingDataDirectory() throws {
        try assertFails(["train", "--data", "idx:\(path("nowhere"))"], code: 66, mentions: [path("nowhere")])
    }

    func testMissingCSVFile() throws {
        try assertFails(["train", "--data", "csv:\(path("absent.csv"))"], code: 66, mentions: ["absent.csv"])
    }

    func testWrongIDXMagic() throws {
        let dir = try writeIDX("magic", imageMagic: 0x804)
        try assertFails(["train", "--data", "idx:\(dir)", "--model", "softmax"], code: 65,
                        mentions: ["train-images-idx3-ubyte", "magic"])
    }

    func testTruncatedIDX() throws {
        let dir = try writeIDX("short", cutImages: 3)
        try assertFails(["train", "--data", "idx:\(dir)", "--model", "softmax"], code: 65,
                        mentions: ["train-images-idx3-ubyte", "truncated"])
    }

    func testCSVWithANonNumber() throws {
        try write("bad.csv", "label,a,b\n0,1.5,2\n1,abc,3\n")
        try assertFails(["train", "--data", "csv:\(path("bad.csv"))", "--model", "logistic"], code: 65,
                        mentions: ["bad.csv:3", "abc", "not a number"])
    }

    func testLabelOutOfRange() throws {
        try write("labels.csv", "0,1.5,2\n1,0.5,3\n7,2,2\n")
        try assertFails(["train", "--data", "csv:\(path("labels.csv"))", "--model", "softmax", "--classes", "3"],
                        code: 65, mentions: ["labels.csv", "7", "out of range"])
    }

    func testTestLabelBeyondTheTrainingClasses() throws {
        let dir = try writeIDX("labels", labels: [0, 1, 2, 200])
        try assertFails(["train", "--data", "idx:\(dir)", "--model", "softmax", "--classes", "3"], code: 65,
                        mentions: ["train-labels-idx1-ubyte", "200"])
    }

    func testUnknownModelSpec() throws {
        try assertFails(["train", "--model", "transformer:12"], code: 64, mentions: ["--model", "transformer:12", "unknown model"])
        try assertFails(["train", "--model", "mlp:64:swish"], code: 64, mentions: ["--model", "swish"])
    }

    func testBatchSizeZero() throws {
        try assertFails(["train", "--batch-size", "0"], code: 64, mentions: ["--batch-size 0"])
    }

    func testNegativeLearningRate() throws {
        try assertFails(["train", "--lr", "-0.1"], code: 64, mentions: ["--lr", "positive"])
        try assertFails(["train", "--lr=-0.1"], code: 64, mentions: ["--lr", "positive"])
    }

    func testMalformedNumbersAndUnknownFlags() throws {
        try assertFails(["train", "--epochs", "ten"], code: 64, mentions: ["--epochs", "ten"])
        try assertFails(["train", "--bogus"], code: 64, mentions: ["--bogus"])
        try assertFails(["train", "--lr-schedule", "cosine:-1"], code: 64, mentions: ["--lr-schedule", "cosine:-1"])
        try assertFails(["train", "--data", "mnist"], code: 64, mentions: ["--data", "mnist"])
    }

    /// The flags of issue 13: micro-batches, the validation split, the best checkpoint, TensorBoard.
    func testBadTrainingRunFlags() throws {
        try assertFails(["train", "--micro-batch", "-1"], code: 64, mentions: ["--micro-batch -1", "whole number"])
        try assertFails(["train", "--data", "xor", "--validation", "200"], code: 64, mentions: ["--validation 200", "200 training samples"])
        try assertFails(["train", "--validation", "-5"], code: 64, mentions: ["--validation -5"])
        try assertFails(["train", "--keep-best", "--validation", "5"], code: 64, mentions: ["--keep-best", "--checkpoint-dir"])
        try assertFails(["train", "--keep-best", "--checkpoint-dir", path("ckpt")], code: 64, mentions: ["--keep-best", "--validation"])
        try assertFails(["train", "--optimizer", "lion"], code: 64, mentions: ["--optimizer", "lion"])
        try assertFails(["train", "--weight-decay", "0.1"], code: 64, mentions: ["--weight-decay 0.1", "adamw"])
        try assertFails(["train", "--optimizer", "adamw", "--weight-decay", "-1"], code: 64, mentions: ["--weight-decay", "-1"])
        try assertFails(["train", "--warmup", "-1"], code: 64, mentions: ["--warmup"])
        try write("file", "x")
        try assertFails(["train", "--data", "xor", "--tensorboard", path("file") + "/tb"], code: 73, mentions: [path("file") + "/tb"])
    }

    /// Messages quote what the user gave — a path, a spec, a file's cell — and stay one line
    /// when that holds a line break: each break is shown as a space.
    func testLineBreaksInQuotedInputStayOneLine() throws {
        try assertFails(["train", "--data", "csv:" + path("two\nlines.csv")], code: 66, mentions: [path("two lines.csv")])
        try assertFails(["train", "--model", "mlp:64\u{2028}swish"], code: 64, mentions: ["--model", "mlp:64 swish"])
        try write("cell.csv", "0,1,2\n1,a\rb,3\n")
        try assertFails(["train", "--data", "csv:\(path("cell.csv"))", "--model", "logistic"], code: 65,
                        mentions: ["cell.csv:2", "\"a b\"", "not a number"])
    }

    func testBinaryModelOnMulticlassData() throws {
        try write("three.csv", "0,1\n1,2\n2,3\n")
        try assertFails(["train", "--data", "csv:\(path("three.csv"))", "--model", "logistic"], code: 64,
                        mentions: ["logistic", "3 classes"])
    }

    func testMetricsPathThatCannotBeWritten() throws {
        try assertFails(["train", "--data", "xor", "--epochs", "1", "--metrics", path("no/such/dir/m.jsonl")], code: 73,
                        mentions: ["m.jsonl"])
        try assertFails(["train", "--data", "xor", "--epochs", "1", "--metrics", directory.path], code: 73,
                        mentions: [directory.path, "directory"])
    }
}
