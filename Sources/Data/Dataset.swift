import Support

/// A whole split: `count` samples of `featureCount` features each — in memory, or rows of a
/// mapped file — and one label per sample.
///
/// The initializer checks nothing; the loaders guarantee `storage.elementCount == count * featureCount`,
/// `labels.count == count`, `1 ≤ count ≤ Dataset.maximumSampleCount` and `featureCount ≥ 1`.
public struct Dataset: Sendable {
    /// For messages, e.g. the images file's path or `xor (train)`.
    public let name: String
    /// Number of samples.
    public let count: Int
    /// Features per sample.
    public let featureCount: Int
    /// Features of every sample, row-major (count × featureCount).
    public let storage: FeatureStorage
    /// One label per sample: a class index 0..<K (stored exactly as Float) or a regression target.
    public let labels: Labels
    /// Where the labels come from, for messages about them: the labels file for IDX, else `name`.
    public let labelSource: String

    /// The most samples a loader accepts: sample indices must fit an `Int32` (see `epochPermutation`).
    public static let maximumSampleCount = Int(Int32.max)

    /// Wraps already validated data; checks nothing (the loaders validate).
    public init(name: String, count: Int, featureCount: Int, storage: FeatureStorage, labels: Labels,
                labelSource: String? = nil) {
        self.name = name
        self.labelSource = labelSource ?? name
        self.count = count
        self.featureCount = featureCount
        self.storage = storage
        self.labels = labels
    }

    /// The samples `rows` (ascending positions in 0..<count), in that order, as a data set called `name`.
    public func subset(_ rows: [Int], name: String) -> Dataset {
        let width = featureCount
        let storage: FeatureStorage
        switch self.storage {
        case .bytes(let bytes, let scale):
            var kept = [UInt8](); kept.reserveCapacity(rows.count * width)
            for row in rows { kept.append(contentsOf: bytes[(row * width)..<((row + 1) * width)]) }
            storage = .bytes(kept, scale: scale)
        case .floats(let floats):
            var kept = [Float](); kept.reserveCapacity(rows.count * width)
            for row in rows { kept.append(contentsOf: floats[(row * width)..<((row + 1) * width)]) }
            storage = .floats(kept)
        case .mapped(let mapped):
            storage = .mapped(mapped.subset(rows))  // the rows' indices, not their values
        }
        return Dataset(name: name, count: rows.count, featureCount: width, storage: storage,
                       labels: Labels(rows.map { labels[$0] }), labelSource: labelSource)
    }

    /// Wraps already validated data, the labels in memory; checks nothing.
    public init(name: String, count: Int, featureCount: Int, storage: FeatureStorage, labels: [Float], labelSource: String? = nil) {
        self.init(name: name, count: count, featureCount: featureCount, storage: storage, labels: Labels(labels), labelSource: labelSource)
    }
}

extension Dataset {
    /// Asks for the rows of `ranges` of samples to be read into memory now, without waiting
    /// (mapped data; `MappedFile.willNeed`). A hint: nothing for data in memory.
    public func readAhead(_ ranges: [Range<Int>]) {
        guard case .mapped(let mapped) = storage else { return }
        for range in ranges where !range.isEmpty && range.upperBound <= count {
            let first = mapped.byteRange(range.lowerBound).lowerBound, last = mapped.byteRange(range.upperBound - 1).upperBound
            mapped.file.willNeed(min(first, last - mapped.rowBytes)..<max(last, first + mapped.rowBytes))
        }
    }
}
