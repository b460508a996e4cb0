/// Features of every sample, row-major (count × featureCount).
public enum FeatureStorage: Sendable {
    /// Raw bytes (IDX pixels); the feature value is `Float(byte) * scale` (scale 1/255 for images).
    case bytes([UInt8], scale: Float)
    /// Feature values as they are (CSV and synthetic sets).
    case floats([Float])

    /// How many stored elements there are (bytes or floats), whatever the representation.
    public var elementCount: Int {
        switch self {
        case .bytes(let bytes, _): return bytes.count
        case .floats(let floats): return floats.count
        }
    }
}
