import CZlib

/// CRC-32 (zlib's polynomial, as in gzip and PNG) of `bytes`, continuing from `initial`
/// (pass a previous result to checksum data in pieces; 0 to start).
public func crc32(of bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return initial }
    var crc = uLong(initial)
    var offset = 0
    // zlib takes a 32-bit length: feed large buffers in pieces.
    let piece = 1 << 30
    while offset < bytes.count {
        let length = min(piece, bytes.count - offset)
        crc = CZlib.crc32(crc, base.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(length))
        offset += length
    }
    return UInt32(truncatingIfNeeded: crc)
}

/// CRC-32 (zlib) of a byte array; see `crc32(of:initial:)`.
public func crc32(of bytes: [UInt8], initial: UInt32 = 0) -> UInt32 {
    bytes.withUnsafeBytes { crc32(of: $0, initial: initial) }
}
