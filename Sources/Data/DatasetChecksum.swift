import Support

extension Dataset {
    /// CRC-32 (zlib's) over the feature bytes or floats (little-endian) and then the labels
    /// (little-endian floats); used to check that ranks load identical data, and that a resumed
    /// run trains on the data of its checkpoint. O(size of the data): compute it once.
    public func checksum() -> UInt32 {
        var crc: UInt32 = 0
        switch storage {
        case .bytes(let bytes, _):
            crc = crc32(of: bytes)
        case .floats(let floats):
            crc = crc32(littleEndian: floats, initial: crc)
        case .mapped(let mapped):
            for sample in 0..<count { crc = crc32(of: UnsafeRawBufferPointer(start: mapped.pointer(sample), count: mapped.rowBytes), initial: crc) }
        }
        return labels.withUnsafeBytes { crc32(of: $0, initial: crc) }
    }
}

extension Dataset {
    /// Rows `sampleChecksum` reads: runs of `sampleRun` consecutive rows, spread evenly.
    public static let sampledRows = 1024, sampleRun = 64

    /// What identifies the data without a pass over them: a CRC-32 of the sample count, the
    /// feature count, how the features are stored (element type and scale) and, for up to
    /// `sampledRows` rows — 16 runs of 64 consecutive rows from rows ⌊i·count/16⌋: on a disk, 16
    /// reads rather than a thousand — their stored bytes (little-endian) and labels. A different file of the same shape differs in the rows read with near
    /// certainty; the same data read from another path or another copy are the same. Used to
    /// check that ranks load the same data, and that a resumed run trains on its checkpoint's.
    public func sampleChecksum() -> UInt32 {
        // The element type and scale, alike for the same values however they are held (IDX bytes
        // and a uint8 array, CSV floats and a float32 array).
        let (element, scale): (ElementType, Float)
        switch storage {
        case .bytes(_, let s): (element, scale) = (.uint8, s)
        case .floats: (element, scale) = (.float32, 1)
        case .mapped(let mapped): (element, scale) = (mapped.element, mapped.scale)
        }
        let header: [UInt64] = [UInt64(count), UInt64(featureCount), UInt64(ElementType.allCases.firstIndex(of: element)!),
                                UInt64(scale.bitPattern)]
        var crc = header.map(\.littleEndian).withUnsafeBytes { crc32(of: $0) }
        // Every row when there are few, else the runs (no allocation: start-up counts them).
        let runs = Self.sampledRows / Self.sampleRun
        for run in 0..<(count <= Self.sampledRows ? 1 : runs) {
            let first = count <= Self.sampledRows ? 0 : Swift.min(run * count / runs, count - Self.sampleRun)
            for sample in first..<(count <= Self.sampledRows ? count : first + Self.sampleRun) {
                switch storage {
                case .bytes(let bytes, _):
                    crc = bytes[(sample * featureCount)..<((sample + 1) * featureCount)].withUnsafeBytes { crc32(of: $0, initial: crc) }
                case .floats(let floats):
                    crc = crc32(littleEndian: floats[(sample * featureCount)..<((sample + 1) * featureCount)], initial: crc)
                case .mapped(let mapped):
                    crc = crc32(of: UnsafeRawBufferPointer(start: mapped.pointer(sample), count: mapped.rowBytes), initial: crc)
                }
                var label = labels[sample].bitPattern.littleEndian
                crc = withUnsafeBytes(of: &label) { crc32(of: $0, initial: crc) }
            }
        }
        return crc
    }
}

/// Feeds `values` to the CRC as little-endian IEEE-754 words, whatever the host's byte order.
private func crc32<Values: Collection<Float>>(littleEndian values: Values, initial: UInt32) -> UInt32 {
    #if _endian(little)
    return values.withContiguousStorageIfAvailable { crc32(of: UnsafeRawBufferPointer($0), initial: initial) }!
    #else
    return values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { crc32(of: $0, initial: initial) }
    #endif
}
