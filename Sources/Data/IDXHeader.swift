import Support

/// The header of an IDX file (big-endian): two zero bytes, a type byte, the number of
/// dimensions, then one 32-bit size per dimension.
struct IDXHeader {
    /// The sizes the header states, outermost first (not yet checked against the file).
    let dimensions: [Int]
    /// Bytes taken by the header: 4 + 4 × dimensions.
    let size: Int

    /// Reads the header of `bytes` (the file at `path`) and checks that its magic number is
    /// `expectedMagic`, described to users as `kind` (e.g. "IDX3 uint8 images"). Throws `.data`.
    init<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, path: String, expectedMagic: UInt32, kind: String) throws
        where Bytes.Index == Int {
        let dimensionCount = Int(expectedMagic & 0xFF)
        let size = 4 + 4 * dimensionCount
        let expected = "0x\(hex8(expectedMagic)) (\(kind))"
        guard bytes.count >= 4 else {
            throw TrainerError(.data, subject: path,
                "file is \(bytes.count) bytes, too short for the \(size)-byte header of \(kind)")
        }
        let magic = bigEndianWord(bytes, at: 0)
        guard magic == expectedMagic else {
            throw TrainerError(.data, subject: path, "bad magic number 0x\(hex8(magic)), expected \(expected)")
        }
        guard bytes.count >= size else {
            throw TrainerError(.data, subject: path,
                "file is \(bytes.count) bytes, too short for the \(size)-byte header of \(kind)")
        }
        dimensions = (0..<dimensionCount).map { Int(bigEndianWord(bytes, at: 4 + 4 * $0)) }
        self.size = size
    }

    /// The payload length in bytes the header promises (one byte per element), or nil if the
    /// product of the dimensions overflows `Int`.
    var payloadSize: Int? {
        var product = 1
        for dimension in dimensions {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            product = next
        }
        return product
    }
}

/// The big-endian 32-bit word at `offset`; the caller has checked that 4 bytes are there.
private func bigEndianWord<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, at offset: Int) -> UInt32 where Bytes.Index == Int {
    (offset..<offset + 4).reduce(0) { $0 << 8 | UInt32(bytes[bytes.startIndex + $1]) }
}

/// `value` as eight upper-case hex digits.
private func hex8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: 8 - digits.count) + digits
}
