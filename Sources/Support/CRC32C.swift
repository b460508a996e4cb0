/// CRC-32C (Castagnoli), the checksum of TFRecord files (TensorBoard's event files), iSCSI and ext4.
///
/// Contract: the message's bits, least significant bit of each byte first, are read as a
/// polynomial over GF(2); with the register started at 0xFFFFFFFF, the checksum is the
/// remainder of that polynomial times x³² modulo the generator
/// x³²+x²⁸+x²⁷+x²⁶+x²⁵+x²³+x²²+x²⁰+x¹⁹+x¹⁸+x¹⁴+x¹³+x¹¹+x¹⁰+x⁹+x⁸+x⁶+1 (0x1EDC6F41;
/// 0x82F63B78 bit-reversed), bit-reversed and xored with 0xFFFFFFFF. Check values:
/// "123456789" → 0xE3069283, no bytes → 0, 32 zero bytes → 0x8A9136AA.
public enum CRC32C {
    /// `table[b]` is the register's change for byte `b`: eight steps of the bitwise algorithm
    /// (shift right; xor the reflected polynomial when a 1 falls out).
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// CRC-32C of `bytes`, one table look-up per byte.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = (crc >> 8) ^ table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// CRC-32C of a byte array; see `checksum(_:)`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// TFRecord's masked CRC: `crc` rotated right by 15 bits, plus 0xA282EAD8 modulo 2³²
    /// (so that a CRC stored inside checksummed data does not checksum to a fixed value).
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
