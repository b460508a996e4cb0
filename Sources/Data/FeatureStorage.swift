import Support

/// Features of every sample, row-major (count × featureCount).
public enum FeatureStorage: Sendable {
    /// Raw bytes (IDX pixels); the feature value is `Float(byte) * scale` (scale 1/255 for images).
    case bytes([UInt8], scale: Float)
    /// Feature values as they are (CSV and synthetic sets).
    case floats([Float])
    /// Rows of a file mapped read-only (a NumPy array, raw IDX pixels), never copied: a batch
    /// converts the rows it gathers to Float.
    case mapped(MappedRows)

    /// How many stored elements there are (bytes, floats or mapped values), whatever the representation.
    public var elementCount: Int {
        switch self {
        case .bytes(let bytes, _): return bytes.count
        case .floats(let floats): return floats.count
        case .mapped(let rows): return rows.count * rows.featureCount
        }
    }
}

/// The element types a mapped file may hold, as NumPy names them.
public typealias ElementType = NumPyHeader.DType

/// Samples as rows of a mapped file: row r of `featureCount` values of `element` at
/// `offset + r × rowBytes`, possibly unaligned. Sample i is file row `rows[i]` (a subset, e.g.
/// the training rows left by `--validation`), or row i when `rows` is nil. A value is
/// `Float(stored) × scale`: 1/255 for uint8 (intensities, as IDX images are), 1 for every other type.
public struct MappedRows: Sendable {
    public let file: MappedFile
    public let offset: Int
    public let element: ElementType
    public let featureCount: Int
    public let scale: Float
    /// The file rows of the samples, in order (nil: every row of the file, in order).
    public let rows: [Int32]?
    /// Samples (the rows of the file, or of `rows`).
    public let count: Int

    /// The rows of `file` from `offset`: `count` rows of `featureCount` values of `element`.
    /// The caller checked that they lie inside the file.
    public init(file: MappedFile, offset: Int, element: ElementType, count: Int, featureCount: Int) {
        self.init(file: file, offset: offset, element: element, featureCount: featureCount,
                  scale: element == .uint8 ? 1 / 255 : 1, rows: nil, count: count)
    }

    private init(file: MappedFile, offset: Int, element: ElementType, featureCount: Int, scale: Float, rows: [Int32]?, count: Int) {
        self.file = file
        self.offset = offset
        self.element = element
        self.featureCount = featureCount
        self.scale = scale
        self.rows = rows
        self.count = count
    }

    public var rowBytes: Int { featureCount * element.byteSize }

    /// The file row of sample `sample`.
    @inlinable public func fileRow(_ sample: Int) -> Int { rows.map { Int($0[sample]) } ?? sample }

    /// Where sample `sample`'s values start.
    @inlinable public func pointer(_ sample: Int) -> UnsafeRawPointer {
        file.bytes.baseAddress! + offset + fileRow(sample) * rowBytes
    }

    /// The file's bytes of sample `sample`.
    public func byteRange(_ sample: Int) -> Range<Int> {
        let start = offset + fileRow(sample) * rowBytes
        return start..<(start + rowBytes)
    }

    /// The samples `selected` (positions in 0..<count), in that order.
    public func subset(_ selected: [Int]) -> MappedRows {
        MappedRows(file: file, offset: offset, element: element, featureCount: featureCount, scale: scale,
                   rows: selected.map { Int32(fileRow($0)) }, count: selected.count)
    }

    /// `count` values of `element` from `source` (any alignment), as Float × `scale`, into `target`.
    @inlinable
    public func convert(_ source: UnsafeRawPointer, count: Int, into target: UnsafeMutablePointer<Float>) {
        switch element {
        case .float32:
            UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: 4 * count)
        case .uint8:
            let bytes = source.assumingMemoryBound(to: UInt8.self), s = scale
            for i in 0..<count { target[i] = Float(bytes[i]) * s }
        case .float64:
            for i in 0..<count { target[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        case .int8:
            for i in 0..<count { target[i] = Float(source.load(fromByteOffset: i, as: Int8.self)) }
        case .int16:
            for i in 0..<count { target[i] = Float(source.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
        case .int32:
            for i in 0..<count { target[i] = Float(source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
        case .int64:
            for i in 0..<count { target[i] = Float(source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
        }
    }
}
