import CPrefetch
import Data

/// Buffers for one batch, allocated once for `capacity` rows and reused every step (no
/// allocation per step). Not thread-safe: one owner fills and reads it.
public final class BatchBuffer<T: BinaryFloatingPoint> {
    /// The most rows one gather may fill.
    public let capacity: Int
    /// Features per row.
    public let featureCount: Int
    /// capacity × featureCount values, row-major; rows ≥ `rows` hold stale values.
    public let features: UnsafeMutableBufferPointer<T>
    /// capacity labels; entries ≥ `rows` hold stale values.
    public let labels: UnsafeMutableBufferPointer<T>
    @usableFromInline var filledRows = 0
    /// Applied to every row gathered (`--standardize`); nil: the features as stored.
    public var standardization: Standardization? {
        didSet { precondition(standardization.map { $0.mean.count == featureCount } ?? true, "BatchBuffer: standardization of another width") }
    }

    /// Rows filled by the last gather (0 before the first).
    public var rows: Int { filledRows }

    /// Allocates zeroed buffers for `capacity` rows of `featureCount` features; both must be ≥ 0
    /// and their product must fit in `Int` (the caller validated the sizes).
    public init(capacity: Int, featureCount: Int) {
        let (total, overflow) = capacity.multipliedReportingOverflow(by: featureCount)
        precondition(capacity >= 0 && featureCount >= 0 && !overflow, "BatchBuffer: bad size \(capacity) × \(featureCount)")
        self.capacity = capacity
        self.featureCount = featureCount
        // Never allocate zero bytes, but expose exactly the promised counts.
        let featureStore = UnsafeMutableBufferPointer<T>.allocate(capacity: Swift.max(total, 1))
        featureStore.initialize(repeating: 0)
        features = UnsafeMutableBufferPointer(rebasing: featureStore[0..<total])
        let labelStore = UnsafeMutableBufferPointer<T>.allocate(capacity: Swift.max(capacity, 1))
        labelStore.initialize(repeating: 0)
        labels = UnsafeMutableBufferPointer(rebasing: labelStore[0..<capacity])
    }

    deinit {
        features.deallocate()
        labels.deallocate()
    }

    /// Copies samples `indices` (at most `capacity` of them, each in 0..<dataset.count) of
    /// `dataset` into rows 0..<indices.count, converting bytes with their scale and mapped values
    /// to Float, then standardising them (`standardization`), and sets `rows`.
    /// `dataset.featureCount` must equal `featureCount`. Does not allocate.
    @inlinable
    public func gather(from dataset: Dataset, indices: ArraySlice<Int32>) {
        precondition(indices.count <= capacity, "BatchBuffer.gather: \(indices.count) rows exceed capacity \(capacity)")
        precondition(dataset.featureCount == featureCount,
                     "BatchBuffer.gather: dataset has \(dataset.featureCount) features, buffer \(featureCount)")
        guard let destination = features.baseAddress, let labelDestination = labels.baseAddress else { return }
        let width = featureCount
        let sourceLabels = dataset.labels
        for (row, index) in indices.enumerated() {
            precondition(index >= 0 && Int(index) < sourceLabels.count, "BatchBuffer.gather: sample \(index) outside 0..<\(sourceLabels.count)")
            labelDestination[row] = T(sourceLabels[Int(index)])
        }
        switch dataset.storage {
        case .bytes(let bytes, let scale):
            bytes.withUnsafeBufferPointer { source in
                copyRows(source, indices, to: destination) { from, to in
                    if T.self == Float.self {
                        // The hot case: a plain widening loop the optimiser vectorises.
                        let target = UnsafeMutableRawPointer(to).assumingMemoryBound(to: Float.self)
                        convertBytes(from, to: target, count: width, scale: scale)
                    } else {
                        let factor = T(scale)
                        for column in 0..<width { to[column] = T(from[column]) * factor }
                    }
                }
            }
        case .floats(let floats):
            floats.withUnsafeBufferPointer { source in
                copyRows(source, indices, to: destination) { from, to in
                    if T.self == Float.self {
                        UnsafeMutableRawPointer(to).assumingMemoryBound(to: Float.self).update(from: from, count: width)
                    } else {
                        for column in 0..<width { to[column] = T(from[column]) }
                    }
                }
            }
        case .mapped(let mapped):
            for (row, index) in indices.enumerated() {
                precondition(index >= 0 && Int(index) < mapped.count, "BatchBuffer.gather: sample \(index) outside the features")
                let to = destination + row * width
                if T.self == Float.self {
                    mapped.convert(mapped.pointer(Int(index)), count: width, into: UnsafeMutableRawPointer(to).assumingMemoryBound(to: Float.self))
                } else {
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 1) { one in
                        for column in 0..<width {
                            mapped.convert(mapped.pointer(Int(index)) + column * mapped.element.byteSize, count: 1, into: one.baseAddress!)
                            to[column] = T(one[0])
                        }
                    }
                }
            }
        }
        if let standardization { standardize(rows: indices.count, standardization) }
        filledRows = indices.count
    }

    /// x ← (x − mean) × scale, feature by feature, over the first `rows` rows.
    @inlinable
    func standardize(rows: Int, _ standardization: Standardization) {
        guard let base = features.baseAddress else { return }
        let width = featureCount
        standardization.mean.withUnsafeBufferPointer { mean in
            standardization.scale.withUnsafeBufferPointer { scale in
                for row in 0..<rows {
                    let x = base + row * width
                    if T.self == Float.self {
                        let f = UnsafeMutableRawPointer(x).assumingMemoryBound(to: Float.self)
                        for j in 0..<width { f[j] = (f[j] - mean[j]) * scale[j] }
                    } else {
                        for j in 0..<width { x[j] = (x[j] - T(mean[j])) * T(scale[j]) }
                    }
                }
            }
        }
    }
}

extension BatchBuffer {
    /// The row loop of `gather`, for either storage: for row r, checks that sample
    /// `indices[r]`'s `featureCount` values lie in `source`, then calls `copy(its values, row r
    /// of destination)`.
    @inlinable @inline(__always)
    func copyRows<Source>(_ source: UnsafeBufferPointer<Source>, _ indices: ArraySlice<Int32>,
                          to destination: UnsafeMutablePointer<T>,
                          _ copy: (UnsafePointer<Source>, UnsafeMutablePointer<T>) -> Void) {
        guard let sourceBase = source.baseAddress else { return }
        let width = featureCount
        for (row, index) in indices.enumerated() {
            let start = Int(index) * width
            precondition(start + width <= source.count, "BatchBuffer.gather: sample \(index) outside the features")
            copy(sourceBase + start, destination + row * width)
        }
    }

    /// Starts bringing the feature rows of samples `indices` of `dataset` into the CPU's caches,
    /// without waiting: called with the next step's samples, it lets the next `gather` read from
    /// cache instead of waiting on memory for rows scattered over the whole dataset. Reads and
    /// changes nothing; indices outside the dataset are skipped.
    public func prefetch(from dataset: Dataset, indices: ArraySlice<Int32>) {
        let line = 64
        func touch(_ base: UnsafeRawPointer, count: Int, rowBytes: Int) {
            for index in indices where index >= 0 && Int(index) < count {
                let row = base + Int(index) * rowBytes
                for offset in stride(from: 0, to: rowBytes, by: line) { prefetch_for_reading(row + offset) }
            }
        }
        switch dataset.storage {
        case .bytes(let bytes, _):
            bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress { touch(base, count: dataset.count, rowBytes: dataset.featureCount) }
            }
        case .floats(let floats):
            floats.withUnsafeBytes { raw in
                if let base = raw.baseAddress {
                    touch(base, count: dataset.count, rowBytes: dataset.featureCount * MemoryLayout<Float>.stride)
                }
            }
        case .mapped(let mapped):
            for index in indices where index >= 0 && Int(index) < mapped.count {
                let row = mapped.pointer(Int(index))
                for offset in stride(from: 0, to: mapped.rowBytes, by: line) { prefetch_for_reading(row + offset) }
            }
        }
    }
}

/// `target[i] = Float(source[i]) * scale` for i in 0..<count.
@inlinable @inline(__always)
func convertBytes(_ source: UnsafePointer<UInt8>, to target: UnsafeMutablePointer<Float>, count: Int, scale: Float) {
    for column in 0..<count { target[column] = Float(source[column]) * scale }
}
