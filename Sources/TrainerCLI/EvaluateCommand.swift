import ArgumentParser
import Batching
import Data
import Foundation
import KernelCore
import Support
import Training

/// `trainer evaluate CKPT`: loss and accuracy of a saved model on a data set, and for
/// classifiers a confusion matrix with per-class recall.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a checkpoint: mean loss and accuracy on a data set, and a confusion matrix for classifiers.")

    @Argument(help: "A checkpoint file (ckpt-….safetensors), a checkpoint directory (its `latest`), or DIR/best (--keep-best).")
    var checkpoint: String

    @Option(help: "Data, as for `train --data`. (default: the checkpoint's training data)")
    var data: String?

    @Option(help: "Which split of the data.")
    var split = DataSource.Split.test

    @Option(help: "CSV data: the label's column, by name or number from 0. (default: the checkpoint's)")
    var labelColumn: String?

    @Flag(help: "Do not print the confusion matrix of a classifier.")
    var noMatrix = false

    func run() throws {
        let path = try CheckpointDirectory.resolve(checkpoint, checkpointDirectory: nil)
        let loaded = try ModelCheckpoint.load(path)
        guard let source = try data.map({ try DataSource(parsing: $0, flag: "--data") }) ?? loaded.data else {
            throw TrainerError(.usage, subject: "--data", "the checkpoint names no data set; give --data")
        }
        let seed = loaded.metadata["seed"].flatMap(UInt64.init) ?? 0
        let label = try LabelColumn(parsing: labelColumn ?? RunSettings.flag("--label-column").recorded(in: loaded.metadata) ?? "0")
        let dataset = try source.load(split: split, seed: seed, label: label)
        let model = ModelScores(loaded)
        try model.checkFeatures(of: dataset)
        if let classes = loaded.classes { try dataset.validateClassLabels(classes: classes) }

        let loss = model.loss, k = model.outputCount
        let classes = model.classCount ?? 0
        // The matrix only for a readable number of classes (a checkpoint may claim up to 2^20).
        var matrix: ConfusionMatrix? = loss.isClassification && !noMatrix && classes <= ConfusionMatrix.maximumClasses
            ? ConfusionMatrix(classes: classes) : nil
        var lossSum = 0.0, correct = 0
        model.forEachBatch(dataset) { _, rows, scores, labels in
            lossSum += Double(loss.sum(scores: scores, labels: labels, rows: rows, outputs: k, gradient: nil))
            correct += loss.correctCount(scores: scores, labels: labels, rows: rows, outputs: k)
            if matrix != nil {
                for r in 0..<rows {
                    matrix?.add(truth: Int(labels[r]), predicted: loss.predictedClass(scores + r * k, outputs: k))
                }
            }
        }
        let count = Double(dataset.count)
        var line = "\(loaded.model) on \(dataset.name): \(dataset.count) samples, loss \(String(format: "%.4f", lossSum / count))"
        if loss.isClassification {
            line += String(format: ", accuracy %.2f%%", 100 * Double(correct) / count)
        }
        print(line)
        guard loss.isClassification, !noMatrix else { return }
        guard let matrix else {
            print("confusion matrix omitted: \(classes) classes (at most \(ConfusionMatrix.maximumClasses) are shown)")
            return
        }
        let names = classes == ConfusionMatrix.fashionMNISTNames.count && EvaluateCommand.isFashionMNIST(source)
            ? ConfusionMatrix.fashionMNISTNames : nil
        print("")
        print(matrix.rendered(names: names), terminator: "")
    }

    /// Whether `source` is Fashion-MNIST: `fashion-mnist`, or `idx:` of its directory.
    static func isFashionMNIST(_ source: DataSource) -> Bool {
        switch source {
        case .fashionMNIST: return true
        case .idx(let directory):
            let standard = { (path: String) in URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path }
            return standard(directory) == standard(DataSource.fashionMNISTDirectory)
        default: return false
        }
    }
}

extension DataSource.Split: ExpressibleByArgument {}
