import Foundation
import TestSupport
import XCTest

/// Every way in which a user's flags or files can be wrong, in one table: each case must exit
/// with its documented code, print exactly one line `trainer: error: …` naming the flag or
/// file, never trap, and finish within 10 seconds.
final class MalformedInputTableTests: XCTestCase {
    struct Case: Sendable {
        let name: String
        let arguments: @Sendable (String) -> [String]      // given the scratch directory
        let code: Int32
        let mentions: @Sendable (String) -> [String]
    }

    /// Files the cases refer to, made once per test run in `dir`.
    static func makeFiles(in dir: String) throws {
        func write(_ name: String, _ bytes: [UInt8]) throws {
            let url = URL(fileURLWithPath: dir + "/" + name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        func images(_ magic: UInt32 = 0x803, count: UInt32 = 4, payload: Int = 16) -> [UInt8] {
            idxImages(count: count, rows: 2, columns: 2, pixels: Array(repeating: 9, count: payload), magic: magic)
        }
        func labels(_ magic: UInt32 = 0x801, _ values: [UInt8] = [0, 1, 2, 3]) -> [UInt8] { idxLabels(values, magic: magic) }
        func idx(_ name: String, images img: [UInt8], labels lab: [UInt8]) throws {
            for split in ["train", "t10k"] {
                try write("\(name)/\(split)-images-idx3-ubyte", img)
                try write("\(name)/\(split)-labels-idx1-ubyte", lab)
            }
        }
        try idx("good", images: images(), labels: labels())
        try idx("magic-images", images: images(0x804), labels: labels())
        try idx("magic-labels", images: images(), labels: labels(0x803))
        try idx("short-images", images: Array(images().dropLast(5)), labels: labels())
        try idx("long-images", images: images() + [1, 2], labels: labels())
        try idx("mismatch", images: images(), labels: labels(0x801, [0, 1, 2]))
        try idx("huge", images: idxImages(count: 4_000_000_000, rows: 28, columns: 28, pixels: [1, 2, 3]), labels: labels())
        try idx("empty-images", images: [], labels: labels())
        try idx("header-only", images: Array(images().prefix(10)), labels: labels())
        try write("labels-only/train-labels-idx1-ubyte", labels())
        try write("gz/train-images-idx3-ubyte.gz", [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3] + Array(repeating: 0xAB, count: 40))
        try write("gz/train-labels-idx1-ubyte", labels())
        try write("gz-short/train-images-idx3-ubyte.gz", [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x63, 0x60])
        try write("gz-short/train-labels-idx1-ubyte", labels())
        try FileManager.default.createDirectory(atPath: dir + "/dir-images/train-images-idx3-ubyte", withIntermediateDirectories: true)
        try write("dir-images/train-labels-idx1-ubyte", labels())
        let csv: [(String, String)] = [
            ("word.csv", "y,a,b\n0,1,2\n1,x,3\n"), ("ragged.csv", "0,1,2\n1,2\n"), ("empty.csv", ""),
            ("header-only.csv", "label,a,b\n"), ("nan.csv", "0,1,2\n1,nan,3\n"), ("labels.csv", "0,1,2\n1,2,3\n9,3,4\n"),
            ("fraction.csv", "0,1,2\n1.5,2,3\n"), ("one-column.csv", "0\n1\n"), ("good.csv", "0,1,2\n1,2,3\n0,3,4\n1,4,5\n"),
            ("wide.csv", "0,1,2,3\n1,2,3,4\n"),
        ]
        for (name, text) in csv { try write(name, Array(text.utf8)) }
        try FileManager.default.createDirectory(atPath: dir + "/a-directory.csv", withIntermediateDirectories: true)
        try write("not-a-checkpoint.safetensors", Array("just text\n".utf8))
        try write("a-file", [1])
        try FileManager.default.createDirectory(atPath: dir + "/no-latest", withIntermediateDirectories: true)
    }

    static let cases: [Case] = {
        func c(_ name: String, _ code: Int32, _ args: @escaping @Sendable (String) -> [String],
               _ mentions: @escaping @Sendable (String) -> [String]) -> Case {
            Case(name: name, arguments: args, code: code, mentions: mentions)
        }
        let t = ["train", "--epochs", "1", "--quiet"]
        return [
            // IDX data
            c("missing idx directory", 66, { t + ["--data", "idx:\($0)/nowhere"] }, { ["\($0)/nowhere"] }),
            c("idx directory without images", 66, { t + ["--data", "idx:\($0)/labels-only", "--model", "softmax"] }, { _ in ["train-images-idx3-ubyte"] }),
            c("wrong images magic", 65, { t + ["--data", "idx:\($0)/magic-images", "--model", "softmax"] }, { _ in ["train-images-idx3-ubyte", "magic"] }),
            c("wrong labels magic", 65, { t + ["--data", "idx:\($0)/magic-labels", "--model", "softmax"] }, { _ in ["train-labels-idx1-ubyte", "magic"] }),
            c("truncated images", 65, { t + ["--data", "idx:\($0)/short-images", "--model", "softmax"] }, { _ in ["train-images-idx3-ubyte", "truncated"] }),
            c("trailing bytes", 65, { t + ["--data", "idx:\($0)/long-images", "--model", "softmax"] }, { _ in ["train-images-idx3-ubyte", "trailing"] }),
            c("image/label count mismatch", 65, { t + ["--data", "idx:\($0)/mismatch", "--model", "softmax"] }, { _ in ["4 images", "3 labels"] }),
            c("header claiming 4e9 images", 65, { t + ["--data", "idx:\($0)/huge", "--model", "softmax"] }, { _ in ["train-images-idx3-ubyte", "4000000000"] }),
            c("empty images file", 65, { t + ["--data", "idx:\($0)/empty-images", "--model", "softmax"] }, { _ in ["train-images-idx3-ubyte"] }),
            c("images header cut short", 65, { t + ["--data", "idx:\($0)/header-only", "--model", "softmax"] }, { _ in ["train-images-idx3-ubyte"] }),
            c("corrupt gzip", 65, { t + ["--data", "idx:\($0)/gz", "--model", "softmax"] }, { _ in ["train-images-idx3-ubyte.gz", "gzip"] }),
            c("truncated gzip", 65, { t + ["--data", "idx:\($0)/gz-short", "--model", "softmax"] }, { _ in ["train-images-idx3-ubyte.gz"] }),
            c("directory in place of the images file", 66, { t + ["--data", "idx:\($0)/dir-images", "--model", "softmax"] }, { _ in ["train-images-idx3-ubyte"] }),
            c("path through a file", 66, { t + ["--data", "idx:\($0)/a-file/inside"] }, { _ in ["a-file/inside"] }),
            // CSV data
            c("csv word", 65, { t + ["--data", "csv:\($0)/word.csv", "--model", "logistic"] }, { _ in ["word.csv:3", "\"x\"", "not a number"] }),
            c("csv ragged row", 65, { t + ["--data", "csv:\($0)/ragged.csv", "--model", "logistic"] }, { _ in ["ragged.csv:2"] }),
            c("csv empty", 65, { t + ["--data", "csv:\($0)/empty.csv", "--model", "logistic"] }, { _ in ["empty.csv"] }),
            c("csv header only", 65, { t + ["--data", "csv:\($0)/header-only.csv", "--model", "logistic"] }, { _ in ["header-only.csv"] }),
            c("csv NaN", 65, { t + ["--data", "csv:\($0)/nan.csv", "--model", "logistic"] }, { _ in ["nan.csv:2"] }),
            c("csv label out of range", 65, { t + ["--data", "csv:\($0)/labels.csv", "--model", "softmax", "--classes", "3"] }, { _ in ["labels.csv", "9", "out of range"] }),
            c("csv fractional class label", 65, { t + ["--data", "csv:\($0)/fraction.csv", "--model", "softmax"] }, { _ in ["fraction.csv", "whole number"] }),
            c("csv single column", 65, { t + ["--data", "csv:\($0)/one-column.csv", "--model", "logistic"] }, { _ in ["one-column.csv"] }),
            c("csv is a directory", 66, { t + ["--data", "csv:\($0)/a-directory.csv"] }, { _ in ["a-directory.csv"] }),
            c("csv missing", 66, { t + ["--data", "csv:\($0)/absent.csv"] }, { _ in ["absent.csv"] }),
            c("csv is a device", 66, { _ in t + ["--data", "csv:/dev/zero"] }, { _ in ["/dev/zero"] }),
            c("test data with other features", 65, { t + ["--data", "csv:\($0)/good.csv", "--test-data", "csv:\($0)/wide.csv", "--model", "logistic"] }, { _ in ["wide.csv", "3 features", "2"] }),
            // Flags
            c("batch size 0", 64, { _ in t + ["--batch-size", "0"] }, { _ in ["--batch-size 0"] }),
            c("negative batch size", 64, { _ in t + ["--batch-size", "-5"] }, { _ in ["--batch-size -5"] }),
            c("negative learning rate", 64, { _ in t + ["--lr", "-1"] }, { _ in ["--lr", "positive"] }),
            c("NaN learning rate", 64, { _ in t + ["--lr", "nan"] }, { _ in ["--lr"] }),
            c("infinite learning rate", 64, { _ in t + ["--lr", "inf"] }, { _ in ["--lr"] }),
            c("negative epochs", 64, { _ in t + ["--epochs", "-1"] }, { _ in ["--epochs -1"] }),
            c("momentum 1", 64, { _ in t + ["--momentum", "1"] }, { _ in ["--momentum"] }),
            c("negative L2", 64, { _ in t + ["--l2", "-0.1"] }, { _ in ["--l2"] }),
            c("unknown model", 64, { _ in t + ["--model", "resnet50"] }, { _ in ["--model", "resnet50"] }),
            c("zero-width layer", 64, { _ in t + ["--model", "mlp:0"] }, { _ in ["--model", "mlp:0"] }),
            c("model too large to allocate", 64, { _ in t + ["--model", "mlp:1048576-1048576", "--data", "xor"] }, { _ in ["--model", "parameters"] }),
            c("feature map too large", 64, { _ in t + ["--model", "poly8+softmax"] }, { _ in ["--model", "poly8"] }),
            c("unknown data form", 64, { _ in t + ["--data", "mnist"] }, { _ in ["--data", "mnist"] }),
            c("zero synthetic samples", 64, { _ in t + ["--data", "xor:0"] }, { _ in ["--data", "xor:0"] }),
            c("bad schedule", 64, { _ in t + ["--lr-schedule", "step:0:0.5"] }, { _ in ["--lr-schedule", "step:0:0.5"] }),
            c("zero classes", 64, { _ in t + ["--classes", "0"] }, { _ in ["--classes 0"] }),
            c("zero threads", 64, { _ in t + ["--threads", "0"] }, { _ in ["--threads 0"] }),
            c("unknown flag", 64, { _ in t + ["--learning-rate", "0.1"] }, { _ in ["--learning-rate"] }),
            c("malformed number", 64, { _ in t + ["--epochs", "3.5"] }, { _ in ["--epochs", "3.5"] }),
            c("checkpoint-every without a directory", 64, { _ in t + ["--checkpoint-every", "5"] }, { _ in ["--checkpoint-every", "--checkpoint-dir"] }),
            c("resume latest without a directory", 64, { _ in t + ["--data", "xor", "--resume", "latest"] }, { _ in ["--resume latest", "--checkpoint-dir"] }),
            c("unknown MPI mode", 64, { _ in t + ["--mpi", "maybe"] }, { _ in ["--mpi", "maybe"] }),
            c("unknown MPI wait, in local mode too", 64, { _ in t + ["--mpi-wait", "spin"] }, { _ in ["--mpi-wait", "spin"] }),
            c("unknown MPI sum, in local mode too", 64, { _ in t + ["--mpi-reduce", "ring"] }, { _ in ["--mpi-reduce", "ring"] }),
            c("gradcheck with no rows", 64, { _ in ["gradcheck", "--rows", "0"] }, { _ in ["--rows 0"] }),
            c("gradcheck with a negative L1, by the settings' rule", 64, { _ in ["gradcheck", "--l1", "-1"] }, { _ in ["--l1 -1.0: must be a number ≥ 0"] }),
            c("gradcheck of a model too large to check", 64, { _ in ["gradcheck", "--model", "mlp:1000-1000"] }, { _ in ["--model", "under 200000"] }),
            c("gradcheck with a flag of train only", 64, { _ in ["gradcheck", "--lr", "1"] }, { _ in ["--lr"] }),
            // Checkpoints
            c("resume from a text file", 65, { t + ["--data", "xor", "--checkpoint-dir", "\($0)/ck", "--resume", "\($0)/not-a-checkpoint.safetensors"] }, { _ in ["not-a-checkpoint.safetensors"] }),
            c("resume from a missing file", 66, { t + ["--data", "xor", "--resume", "\($0)/gone.safetensors"] }, { _ in ["gone.safetensors"] }),
            c("resume from a directory without latest", 66, { t + ["--data", "xor", "--resume", "\($0)/no-latest"] }, { _ in ["no-latest/latest"] }),
            c("inspect a text file", 65, { ["inspect", "\($0)/not-a-checkpoint.safetensors"] }, { _ in ["not-a-checkpoint.safetensors"] }),
            c("inspect a directory without latest", 66, { ["inspect", "\($0)/no-latest"] }, { _ in ["no-latest/latest"] }),
            c("evaluate a missing checkpoint", 66, { ["evaluate", "\($0)/gone"] }, { _ in ["gone"] }),
            // Outputs
            c("metrics in a missing directory", 73, { t + ["--data", "xor", "--metrics", "\($0)/no/such/m.jsonl"] }, { _ in ["m.jsonl"] }),
            c("metrics path is a directory", 73, { t + ["--data", "xor", "--metrics", $0] }, { [$0, "directory"] }),
            c("checkpoint directory is a file", 73, { t + ["--data", "xor", "--checkpoint-dir", "\($0)/a-file"] }, { _ in ["a-file", "checkpoint directory"] }),
        ]
    }()

    func testEveryMalformedInputGetsOneLineAndItsExitCode() throws {
        XCTAssertGreaterThanOrEqual(Self.cases.count, 40)
        let dir = try makeScratchDirectory("malformed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.makeFiles(in: dir)
        for testCase in Self.cases {
            let outcome = try TrainerProcess.run(testCase.arguments(dir), timeout: 10)
            let label = "\(testCase.name): \(outcome.stderr)"
            XCTAssertTrue(outcome.finished, label)
            XCTAssertLessThan(outcome.seconds, 10, label)
            assertOneLineError(outcome, code: testCase.code, mentions: testCase.mentions(dir), context: testCase.name)
        }
    }
}
