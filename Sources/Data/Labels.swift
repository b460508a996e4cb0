import Support

/// One label per sample, as Floats: in memory, or a float32 column of a mapped file (a NumPy
/// file's labels as the data cache converted them), never copied. Reads like an array.
public struct Labels: RandomAccessCollection, Sendable, ExpressibleByArrayLiteral {
    enum Storage: Sendable {
        case array([Float])
        /// `count` float32 values from `offset` of `file` (any alignment).
        case mapped(MappedFile, offset: Int)
    }

    let storage: Storage
    public let count: Int
    /// What a pass over the labels found, when it was made once and kept (the data cache's);
    /// nil: found by a pass when asked (`facts`).
    let knownFacts: Facts?

    public init(_ values: [Float]) {
        storage = .array(values)
        count = values.count
        knownFacts = nil
    }

    public init(arrayLiteral values: Float...) { self.init(values) }

    /// `count` float32 labels at `offset` of `file`, whose facts a pass found before.
    init(file: MappedFile, offset: Int, count: Int, facts: Facts) {
        storage = .mapped(file, offset: offset)
        self.count = count
        knownFacts = facts
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(index: Int) -> Float {
        switch storage {
        case .array(let values): return values[index]
        case .mapped(let file, let offset):
            precondition(index >= 0 && index < count, "Labels: index \(index) outside 0..<\(count)")
            return file.bytes.loadUnaligned(fromByteOffset: offset + 4 * index, as: Float.self)
        }
    }

    /// What classifiers need to know of the labels, from one pass over them.
    public struct Facts: Sendable, Equatable {
        /// The smallest and largest label.
        public let minimum: Float, maximum: Float
        /// Every label is a whole number (and finite).
        public let whole: Bool

        /// Facts of `labels` (at least one), by a pass over them.
        init<Values: Collection<Float>>(of labels: Values) {
            var low = Float.infinity, high = -Float.infinity, whole = true
            for label in labels {
                low = Swift.min(low, label)
                high = Swift.max(high, label)
                if whole, !(label.isFinite && label.rounded(.towardZero) == label) { whole = false }
            }
            minimum = low
            maximum = high
            self.whole = whole
        }

        init(minimum: Float, maximum: Float, whole: Bool) {
            self.minimum = minimum
            self.maximum = maximum
            self.whole = whole
        }
    }

    /// The facts: kept ones, or a pass over the labels now.
    public var facts: Facts { knownFacts ?? Facts(of: self) }

    /// The labels' bytes (little-endian float32), for `body`: the mapped column itself, or the array's.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .array(let values): return try values.withUnsafeBytes(body)
        case .mapped(let file, let offset): return try body(UnsafeRawBufferPointer(rebasing: file.bytes[offset..<(offset + 4 * count)]))
        }
    }
}

extension Labels: Equatable {
    public static func == (a: Labels, b: Labels) -> Bool { a.elementsEqual(b) }
}
