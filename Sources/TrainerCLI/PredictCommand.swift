import ArgumentParser
import Data
import Foundation
import KernelCore
import Support
import Training

/// `trainer predict CKPT INPUT`: a saved model's predictions for new data, as CSV.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict with a checkpoint: one CSV line per input sample.",
        discussion: """
        Output (to stdout, or -o FILE): a header, then one line per sample in input order, index \
        counting from 0. Classifiers: `index,predicted` (the class), followed for softmax models by \
        the probabilities `p_0,…,p_{K-1}`. Regression models (linear, mlp:…:mse): `index,prediction`.
        """)

    @Argument(help: "A checkpoint file (ckpt-….safetensors), a checkpoint directory (its `latest`), or DIR/best (--keep-best).")
    var checkpoint: String

    @Argument(help: ArgumentHelp(
        "The samples: idx:PATH | csv:FILE | npy:FILE.npy | npz:FILE.npz | fashion-mnist.",
        discussion: "idx:PATH is an IDX3 images file (raw or .gz), or a directory whose t10k-images-idx3-ubyte[.gz] is read; pixels are scaled by 1/255. csv:FILE holds one sample per line, either features only or a label first (ignored) as in training files: the column count tells which. npy:FILE.npy is a NumPy array of the features (as in --data; a labels file after a comma is not read), npz:FILE.npz an np.savez archive with x or X. fashion-mnist is its t10k images. Features are standardised as the run's were (--standardize)."))
    var input: String

    @Option(name: [.short, .customLong("output")], help: "Write the CSV here instead of stdout.")
    var output: String?

    func run() throws {
        let path = try CheckpointDirectory.resolve(checkpoint, checkpointDirectory: nil)
        let loaded = try ModelCheckpoint.load(path)
        let dataset = try PredictCommand.load(input, inputCount: loaded.architecture.inputCount, model: loaded.model.description)
        let model = ModelScores(loaded)
        try model.checkFeatures(of: dataset)
        let sink = try OutputSink(path: output)

        let loss = model.loss, k = model.outputCount
        let probabilities = loss == .softmaxCrossEntropy
        var header: String
        if loss.isClassification {
            header = "index,predicted"
            if probabilities { header += (0..<k).map { ",p_\($0)" }.joined() }
        } else {
            header = "index,prediction"
        }
        try sink.write(header + "\n")
        var text = ""
        try model.forEachBatch(dataset) { first, rows, scores, _ in
            text.removeAll(keepingCapacity: true)
            for r in 0..<rows {
                let s = scores + r * k
                text += String(first + r)
                if loss.isClassification {
                    text += "," + String(loss.predictedClass(s, outputs: k))
                    if probabilities {
                        let logPartition = Loss.logSumExp(s, count: k)
                        for c in 0..<k { text += "," + String(format: "%.6g", Foundation.exp(Double(s[c]) - Double(logPartition))) }
                    }
                } else {
                    text += "," + String(s[0])
                }
                text += "\n"
            }
            try sink.write(text)
        }
        try sink.close()
    }

    /// The samples `text` names, with a feature count the model can take (a label-first CSV
    /// loses its first column). Errors name the input and, for a wrong width, both counts.
    static func load(_ text: String, inputCount: Int, model: String) throws -> Dataset {
        if text == "fashion-mnist" { return try UnlabeledInput.idxImages(path: DataSource.fashionMNISTDirectory) }
        if text.hasPrefix("idx:") {
            let path = String(text.dropFirst(4))
            guard !path.isEmpty else { throw TrainerError(.usage, subject: "INPUT \"\(text)\"", "the path after idx: is empty") }
            return try UnlabeledInput.idxImages(path: path)
        }
        if text.hasPrefix("csv:") {
            let path = String(text.dropFirst(4))
            guard !path.isEmpty else { throw TrainerError(.usage, subject: "INPUT \"\(text)\"", "the path after csv: is empty") }
            let all = try UnlabeledInput.csvColumns(path: path)
            let columns = all.featureCount
            if columns == inputCount { return all }
            guard columns == inputCount + 1, case .floats(let values) = all.storage else {
                throw TrainerError(.data, subject: path,
                                   "has \(columns) column\(columns == 1 ? "" : "s") but the model \(model) takes \(inputCount) feature\(inputCount == 1 ? "" : "s") (\(inputCount) column\(inputCount == 1 ? "" : "s"), or \(inputCount + 1) with a label first)")
            }
            var features = [Float]()
            features.reserveCapacity(all.count * inputCount)
            for row in 0..<all.count {
                features.append(contentsOf: values[(row * columns + 1)..<((row + 1) * columns)])
            }
            return Dataset(name: path, count: all.count, featureCount: inputCount, storage: .floats(features), labels: all.labels)
        }
        if text.hasPrefix("npy:") {
            // The features; a labels file after a comma is allowed (as in --data) and not read.
            let path = String(text.dropFirst(4).split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)[0])
            guard !path.isEmpty else { throw TrainerError(.usage, subject: "INPUT \"\(text)\"", "the path after npy: is empty") }
            return try NumPyInput.unlabeled(try NumPyInput.array(npy: path))
        }
        if text.hasPrefix("npz:") {
            let path = String(text.dropFirst(4))
            guard !path.isEmpty else { throw TrainerError(.usage, subject: "INPUT \"\(text)\"", "the path after npz: is empty") }
            let file = try MappedFile(path)
            guard let x = try NumPyInput.array(npz: path, named: ["x", "X"], file: file) else {
                throw TrainerError(.data, subject: path, "holds no array x or X (the features)")
            }
            return try NumPyInput.unlabeled(x)
        }
        throw TrainerError(.usage, subject: "INPUT \"\(text)\"", "expected idx:PATH, csv:FILE, npy:FILE.npy, npz:FILE.npz or fashion-mnist")
    }
}

/// Standard output, or a file created for writing; failures are `.cannotWrite` naming it.
final class OutputSink {
    let handle: FileHandle
    let name: String
    let isFile: Bool

    init(path: String?) throws {
        guard let path else {
            handle = FileHandle.standardOutput
            name = "standard output"
            isFile = false
            return
        }
        name = path
        isFile = true
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw TrainerError(.cannotWrite, subject: path, "is a directory, expected an output file path")
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw TrainerError(.cannotWrite, subject: path, "cannot create the output file (does the directory exist and is it writable?)")
        }
        self.handle = handle
    }

    func write(_ text: String) throws {
        do { try handle.write(contentsOf: Data(text.utf8)) } catch {
            throw TrainerError(.cannotWrite, subject: name, "cannot write: \(error.localizedDescription)")
        }
    }

    func close() throws {
        guard isFile else { return }
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            throw TrainerError(.cannotWrite, subject: name, "cannot write: \(error.localizedDescription)")
        }
    }
}
