import Batching
import Data
import Foundation
import KernelCore
import Support
import Training

/// A checkpoint's model, ready to score data: the forward pass in batches, as `evaluate` and
/// `predict` use it, on features standardised as the run's were.
struct ModelScores {
    let loaded: ModelCheckpoint.Loaded
    let network: Network<Float>
    /// Rows per forward pass: 256, fewer for very wide models, so that no batch buffer or
    /// workspace exceeds 2^24 floats (64 MB) whatever widths a checkpoint has.
    let batchRows: Int

    init(_ loaded: ModelCheckpoint.Loaded) {
        self.loaded = loaded
        let architecture = loaded.architecture
        let widest = max(architecture.inputCount, architecture.firstLayerInputs, architecture.layers.map(\.outputs).max() ?? 1, 1)
        batchRows = max(1, min(256, (1 << 24) / widest))
        BLASThreads.set(Cores.available)
        network = Network<Float>(architecture, batchCapacity: batchRows)
        _ = network.parameters.update(fromContentsOf: loaded.parameters)
    }

    var loss: Loss { loaded.architecture.loss }
    var outputCount: Int { loaded.architecture.outputCount }

    /// The number of classes of a classifier: the checkpoint's, at least the model's outputs
    /// (and 2 for single-score models), so every predicted class and every validated label is
    /// a valid index. nil for regression.
    var classCount: Int? {
        guard loss.isClassification else { return nil }
        return max(loaded.classes ?? 0, outputCount, loss.usesSingleScore ? 2 : 1)
    }

    /// Throws `.data` naming the input unless it has the model's feature count.
    func checkFeatures(of dataset: Dataset) throws {
        guard dataset.featureCount == loaded.architecture.inputCount else {
            throw TrainerError(.data, subject: dataset.name,
                               "has \(dataset.featureCount) features per sample but the model \(loaded.model) takes \(loaded.architecture.inputCount)")
        }
    }

    /// Runs the forward pass over `dataset` (whose feature count the caller checked) in order,
    /// calling `body(first, rows, scores, labels)` per batch (see `Evaluation.forEachBatch`).
    func forEachBatch(_ dataset: Dataset,
                      _ body: (_ first: Int, _ rows: Int, _ scores: UnsafePointer<Float>, _ labels: UnsafePointer<Float>) throws -> Void) rethrows {
        let batch = BatchBuffer<Float>(capacity: batchRows, featureCount: dataset.featureCount)
        batch.standardization = loaded.standardization  // as the run trained (--standardize)
        try Evaluation.forEachBatch(network, on: dataset, order: Evaluation.identityOrder(dataset.count),
                                    range: 0..<dataset.count, batch: batch, body)
    }
}
