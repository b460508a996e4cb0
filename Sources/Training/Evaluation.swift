import Batching
import Data
import KernelCore

/// Loss and accuracy of a model over part of a data set, without touching its gradients.
public enum Evaluation {
    /// Σ ℓ, the correct count and the sample count over the samples `order[range]` of `dataset`,
    /// in chunks of `batch.capacity` rows (which must not exceed `network.batchCapacity`).
    public static func sums(_ network: Network<Float>, on dataset: Dataset, order: [Int32], range: Range<Int>,
                            batch: BatchBuffer<Float>) -> (lossSum: Double, correct: Double, count: Double) {
        var lossSum = 0.0, correct = 0.0
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min(start + batch.capacity, range.upperBound)
            batch.gather(from: dataset, indices: order[start..<end])
            let result = network.evaluate(UnsafePointer(batch.features.baseAddress!),
                                          labels: UnsafePointer(batch.labels.baseAddress!), rows: end - start)
            lossSum += Double(result.lossSum)
            correct += Double(result.correct)
            start = end
        }
        return (lossSum, correct, Double(range.count))
    }

    /// The identity order 0, 1, …, count − 1 (evaluation is not shuffled).
    public static func identityOrder(_ count: Int) -> [Int32] { (0..<Int32(count)).map { $0 } }
}
