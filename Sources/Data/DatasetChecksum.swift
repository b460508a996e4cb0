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
        }
        return crc32(littleEndian: labels, initial: crc)
    }
}

/// Feeds `values` to the CRC as little-endian IEEE-754 words, whatever the host's byte order.
private func crc32(littleEndian values: [Float], initial: UInt32) -> UInt32 {
    #if _endian(little)
    return values.withUnsafeBytes { crc32(of: $0, initial: initial) }
    #else
    return values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { crc32(of: $0, initial: initial) }
    #endif
}
