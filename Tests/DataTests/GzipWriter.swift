/// A gzip member holding `bytes` in stored (uncompressed) deflate blocks: enough to test
/// decompression without a compressor.
func gzipStored(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
    var offset = 0
    repeat {
        let length = min(bytes.count - offset, 65_535)
        let final: UInt8 = offset + length == bytes.count ? 1 : 0
        let len = UInt16(length)
        out += [final, UInt8(len & 0xFF), UInt8(len >> 8), UInt8(~len & 0xFF), UInt8(~len >> 8)]
        out += bytes[offset..<offset + length]
        offset += length
    } while offset < bytes.count
    out += littleEndian(crc32Reference(bytes)) + littleEndian(UInt32(truncatingIfNeeded: bytes.count))
    return out
}

/// `value` as four little-endian bytes.
func littleEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
}

/// CRC-32 (IEEE 802.3, as zlib and gzip compute it), table-driven; continues from `crc`.
func crc32Reference(_ bytes: [UInt8], crc: UInt32 = 0) -> UInt32 {
    var value = ~crc
    for byte in bytes { value = crcTable[Int((value ^ UInt32(byte)) & 0xFF)] ^ (value >> 8) }
    return ~value
}

private let crcTable: [UInt32] = (0..<256).map { entry in
    var value = UInt32(entry)
    for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
    return value
}

/// A gzip member holding `prefix` followed by `zeroCount` zero bytes, compressed with one fixed-
/// Huffman deflate block whose zeros are length-258 back-references (about 160:1): a small file
/// that decompresses to much more than its size.
func gzipZeros(after prefix: [UInt8], zeroCount: Int) -> [UInt8] {
    var bits = BitWriter()
    bits.write(1, count: 1)  // BFINAL
    bits.write(1, count: 2)  // BTYPE = 01, fixed Huffman codes
    func literal(_ byte: UInt8) {
        if byte < 144 { bits.writeCode(0x30 + UInt32(byte), length: 8) } else { bits.writeCode(0x190 + UInt32(byte) - 144, length: 9) }
    }
    prefix.forEach(literal)
    var left = zeroCount
    if left > 0 { literal(0); left -= 1 }
    while left >= 258 {
        bits.writeCode(0xC5, length: 8)  // length code 285: 258 bytes
        bits.writeCode(0, length: 5)     // distance code 0: distance 1
        left -= 258
    }
    for _ in 0..<left { literal(0) }
    bits.writeCode(0, length: 7)  // end of block
    let contents = prefix + [UInt8](repeating: 0, count: zeroCount)
    return [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF] + bits.bytes
        + littleEndian(crc32Reference(contents)) + littleEndian(UInt32(truncatingIfNeeded: contents.count))
}

/// Packs bits least-significant first, as deflate does.
private struct BitWriter {
    var bytes: [UInt8] = []
    private var used = 8

    mutating func write(_ value: UInt32, count: Int) {
        for bit in 0..<count {
            if used == 8 { bytes.append(0); used = 0 }
            bytes[bytes.count - 1] |= UInt8((value >> UInt32(bit)) & 1) << UInt8(used)
            used += 1
        }
    }

    /// A Huffman code, which deflate stores most-significant bit first.
    mutating func writeCode(_ code: UInt32, length: Int) {
        var reversed: UInt32 = 0
        for bit in 0..<length { reversed |= ((code >> UInt32(bit)) & 1) << UInt32(length - 1 - bit) }
        write(reversed, count: length)
    }
}
