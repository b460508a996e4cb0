import ArgumentParser
import Batching
import Data
import Foundation
import KernelCore
import Support
import Training

/// `trainer evaluate CKPT`: loss and accuracy of a saved model on a data set.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a checkpoint: mean loss and accuracy on a data set.")

    @Argument(help: "A checkpoint file (ckpt-….safetensors) or a checkpoint directory (its `latest`).")
    var checkpoint: String

    @Option(help: "Data, as for `train --data`. (default: the checkpoint's training data)")
    var data: String?

    @Option(help: "Which split of the data: test | train.")
    var split = "test"

    func run() throws {
        let path = try CheckpointDirectory.resolve(checkpoint, checkpointDirectory: nil)
        let loaded = try ModelCheckpoint.load(path)
        let whichSplit: DataSource.Split
        switch split {
        case "test": whichSplit = .test
        case "train": whichSplit = .train
        default: throw TrainerError(.usage, subject: "--split \(split)", "expected test or train")
        }
        guard let source = try data.map({ try DataSource(parsing: $0, flag: "--data") }) ?? loaded.data else {
            throw TrainerError(.usage, subject: "--data", "the checkpoint names no data set; give --data")
        }
        let seed = loaded.metadata["seed"].flatMap(UInt64.init) ?? 0
        let dataset = try source.load(split: whichSplit, seed: seed)
        guard dataset.featureCount == loaded.architecture.inputCount else {
            throw TrainerError(.data, subject: dataset.name,
                               "has \(dataset.featureCount) features per sample but the model \(loaded.model) takes \(loaded.architecture.inputCount)")
        }
        if let classes = loaded.classes { try dataset.validateClassLabels(classes: classes) }
        BLASThreads.set(ProcessInfo.processInfo.activeProcessorCount)
        let network = Network<Float>(loaded.architecture, batchCapacity: 256)
        _ = network.parameters.update(fromContentsOf: loaded.parameters)
        let sums = Evaluation.sums(network, on: dataset, order: Evaluation.identityOrder(dataset.count),
                                   range: 0..<dataset.count, batch: BatchBuffer(capacity: 256, featureCount: dataset.featureCount))
        var line = "\(loaded.model) on \(dataset.name): \(dataset.count) samples, loss \(String(format: "%.4f", sums.lossSum / sums.count))"
        if loaded.model.loss.isClassification {
            line += String(format: ", accuracy %.2f%%", 100 * sums.correct / sums.count)
        }
        print(line)
    }
}

