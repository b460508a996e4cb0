import Batching
import Data
import KernelCore

/// A model's scores over part of a data set, in batches, without touching its gradients.
public enum Evaluation {
    /// Runs the forward pass over the samples `order[range]` of `dataset` in chunks of
    /// `batch.capacity` rows (which must not exceed `network.batchCapacity`), calling
    /// `body(first, rows, scores, labels)` per chunk: `scores` is rows × outputCount, `labels`
    /// the chunk's labels, `first` the position in `order` of its first sample.
    public static func forEachBatch(
        _ network: Network<Float>, on dataset: Dataset, order: [Int32], range: Range<Int>, batch: BatchBuffer<Float>,
        _ body: (_ first: Int, _ rows: Int, _ scores: UnsafePointer<Float>, _ labels: UnsafePointer<Float>) throws -> Void
    ) rethrows {
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min(start + batch.capacity, range.upperBound)
            batch.gather(from: dataset, indices: order[start..<end])
            network.forward(UnsafePointer(batch.features.baseAddress!), rows: end - start)
            try body(start, end - start, network.scores, UnsafePointer(batch.labels.baseAddress!))
            start = end
        }
    }

    /// Σ ℓ, the correct count and the sample count over the samples `order[range]` of `dataset`.
    public static func sums(_ network: Network<Float>, on dataset: Dataset, order: [Int32], range: Range<Int>,
                            batch: BatchBuffer<Float>) -> (lossSum: Double, correct: Double, count: Double) {
        let loss = network.architecture.loss, k = network.architecture.outputCount
        var lossSum = 0.0, correct = 0.0
        forEachBatch(network, on: dataset, order: order, range: range, batch: batch) { _, rows, scores, labels in
            lossSum += Double(loss.sum(scores: scores, labels: labels, rows: rows, outputs: k, gradient: nil))
            correct += Double(loss.correctCount(scores: scores, labels: labels, rows: rows, outputs: k))
        }
        return (lossSum, correct, Double(range.count))
    }

    /// The identity order 0, 1, …, count − 1 (evaluation is not shuffled).
    public static func identityOrder(_ count: Int) -> [Int32] { (0..<Int32(count)).map { $0 } }
}
