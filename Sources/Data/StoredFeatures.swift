import Support

extension Dataset {
    /// The features as stored: their element type, the scale a value is multiplied by (1/255 for
    /// IDX and uint8 pixels, else 1), and their bytes, row-major (a copy).
    public func storedFeatures() -> (element: ElementType, scale: Float, bytes: [UInt8]) {
        let scale: Float
        switch storage {
        case .bytes(_, let s): scale = s
        case .floats: scale = 1
        case .mapped(let mapped): scale = mapped.scale
        }
        return try! withStoredFeatures { element, bytes in (element, scale, Array(bytes)) }
    }

    /// Every feature value, row-major, as a batch gathers it (converted to Float, scaled).
    public func featureValues() -> [Float] {
        switch storage {
        case .bytes(let bytes, let scale): return bytes.map { Float($0) * scale }
        case .floats(let floats): return floats
        case .mapped(let mapped):
            var values = [Float](repeating: 0, count: count * featureCount)
            values.withUnsafeMutableBufferPointer { out in
                for sample in 0..<count { mapped.convert(mapped.pointer(sample), count: featureCount, into: out.baseAddress! + sample * featureCount) }
            }
            return values
        }
    }

    /// Calls `body` with the features' element type and bytes as stored, row-major: IDX bytes as
    /// uint8, floats as float32, a mapped file's rows in order.
    public func withStoredFeatures<R>(_ body: (ElementType, UnsafeRawBufferPointer) throws -> R) throws -> R {
        switch storage {
        case .bytes(let bytes, _): return try bytes.withUnsafeBytes { try body(.uint8, $0) }
        case .floats(let floats): return try floats.withUnsafeBytes { try body(.float32, $0) }
        case .mapped(let mapped):
            if mapped.rows == nil {
                return try body(mapped.element, UnsafeRawBufferPointer(start: mapped.pointer(0), count: count * mapped.rowBytes))
            }
            var rows = [UInt8](repeating: 0, count: count * mapped.rowBytes)
            rows.withUnsafeMutableBytes { out in
                for sample in 0..<count {
                    (out.baseAddress! + sample * mapped.rowBytes).copyMemory(from: mapped.pointer(sample), byteCount: mapped.rowBytes)
                }
            }
            return try rows.withUnsafeBytes { try body(mapped.element, $0) }
        }
    }
}
