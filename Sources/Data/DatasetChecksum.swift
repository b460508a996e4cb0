import CZlib

extension Dataset {
    /// CRC-32 (zlib crc32) over the feature bytes/floats (little-endian) and then the labels
    /// (little-endian floats); used to check ranks load identical data.
    public func checksum() -> UInt32 {
        var crc: UInt = crc32(0, nil, 0)
        switch storage {
        case .bytes(let bytes, _):
            bytes.withUnsafeBytes { crc = updateCRC(crc, $0) }
        case .floats(let floats):
            crc = updateCRC(crc, littleEndian: floats)
        }
        crc = updateCRC(crc, littleEndian: labels)
        return UInt32(truncatingIfNeeded: crc)
    }
}

/// Feeds `values` to the CRC as little-endian IEEE-754 words, whatever the host's byte order.
private func updateCRC(_ crc: UInt, littleEndian values: [Float]) -> UInt {
    #if _endian(little)
    return values.withUnsafeBytes { updateCRC(crc, $0) }
    #else
    let words = values.map { $0.bitPattern.littleEndian }
    return words.withUnsafeBytes { updateCRC(crc, $0) }
    #endif
}

/// Feeds `bytes` to the CRC in pieces that fit zlib's 32-bit length.
private func updateCRC(_ crc: UInt, _ bytes: UnsafeRawBufferPointer) -> UInt {
    guard let base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return crc }
    var crc = crc, offset = 0
    while offset < bytes.count {
        let piece = Swift.min(bytes.count - offset, 1 << 30)
        crc = crc32(crc, base + offset, uInt(piece))
        offset += piece
    }
    return crc
}
