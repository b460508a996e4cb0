import Batching
import Communication
import Data
import Support

extension Standardization {
    /// `--standardize`'s statistics of `data` over all ranks: μⱼ and σⱼ (the population standard
    /// deviation, as NumPy's std and scikit-learn's StandardScaler). One pass: each rank sums its
    /// even share of the samples, in order, of dⱼ = xⱼ − Kⱼ and dⱼ² in Float64 — K the features of
    /// sample 0, the same on every rank, so that the sums do not cancel away — and the ranks'
    /// sums add in the tree's order (`Communicator.allreduceSum`), so N ranks compute what N
    /// threads do. Then μⱼ = Kⱼ + Σd/n and σⱼ² = (Σd² − (Σd)²/n)/n, clamped at 0; a feature equal
    /// to K in every sample has σⱼ = 0 exactly. Collective.
    static func of(_ data: Dataset, communicator: Communicator) -> Standardization {
        let width = data.featureCount, n = Double(data.count)
        let share = evenShare(communicator.rank, of: data.count, parts: communicator.worldSize)
        let batch = BatchBuffer<Float>(capacity: 4096, featureCount: width)
        batch.gather(from: data, indices: [0])
        let shift = (0..<width).map { Double(batch.features[$0]) }
        var sums = [Double](repeating: 0, count: 2 * width)
        var start = share.lowerBound
        while start < share.upperBound {
            let end = min(start + batch.capacity, share.upperBound)
            batch.gather(from: data, indices: ArraySlice((Int32(start)..<Int32(end)).map { $0 }))
            for row in 0..<(end - start) {
                let x = batch.features.baseAddress! + row * width
                for j in 0..<width {
                    let d = Double(x[j]) - shift[j]
                    sums[j] += d
                    sums[width + j] += d * d
                }
            }
            start = end
        }
        sums.withUnsafeMutableBufferPointer { communicator.allreduceSum($0) }
        let means = (0..<width).map { shift[$0] + sums[$0] / n }
        let deviations = (0..<width).map { j in (max(0, (sums[width + j] - sums[j] * sums[j] / n) / n)).squareRoot() }
        return Standardization(means: means, deviations: deviations)
    }
}
