import Support

/// Where a zip archive's central directory is, as its end records say: the End of Central
/// Directory record (EOCD) at the end of the file and, when the archive has one (np.savez writes
/// it for large archives), the ZIP64 end record its locator points to.
struct ZipEndRecord {
    /// The number of central directory entries.
    let entries: Int
    /// Where the central directory begins; it ends at `directoryEnd`.
    let directoryOffset: Int
    /// Where the central directory ends: where the (ZIP64) end record begins.
    let directoryEnd: Int

    static let endSignature: UInt32 = 0x0605_4B50
    static let locatorSignature: UInt32 = 0x0706_4B50
    static let zip64EndSignature: UInt32 = 0x0606_4B50
    static let localHeaderSignature: UInt32 = 0x0403_4B50
    /// Bytes of the fixed part of a central directory entry (the smallest entry).
    static let directoryEntrySize = 46
    /// Bytes of the EOCD without its comment, and the longest comment.
    static let endSize = 22, longestComment = 65_535

    /// Finds and checks the end records of the archive `bytes` (the file at `path`): the last
    /// EOCD whose comment reaches exactly to the end of the file, searched for in the last
    /// 22 + 65,535 bytes; the ZIP64 locator right before it and the record it points to, if
    /// there; one disk; a central directory that lies in the file and ends where the end records
    /// begin, with room for its entries. Throws `.data` naming `path`.
    init(_ bytes: UnsafeRawBufferPointer, path: String) throws {
        func fail(_ problem: String) -> TrainerError { TrainerError(.data, subject: path, problem) }
        guard let end = Self.findEnd(bytes) else {
            if bytes.starts(with: [0x50, 0x4B]) {
                throw fail("truncated or corrupt zip archive: no end of central directory record in its last "
                           + "\(Self.endSize + Self.longestComment) bytes")
            }
            let npy = bytes.starts(with: NumPyHeader.magic) ? " but a .npy file (np.save output)" : ""
            throw fail("is not a zip file (np.savez output)\(npy)")
        }
        // Without ZIP64 records, the disk numbers of the EOCD; with them, those of the locator and the ZIP64 record.
        var split = bytes.littleEndian(UInt16.self, at: end + 4) != 0 || bytes.littleEndian(UInt16.self, at: end + 6) != 0
        var entriesOnDisk = UInt64(bytes.littleEndian(UInt16.self, at: end + 8))
        var entries = UInt64(bytes.littleEndian(UInt16.self, at: end + 10))
        var directorySize = UInt64(bytes.littleEndian(UInt32.self, at: end + 12))
        var directoryOffset = UInt64(bytes.littleEndian(UInt32.self, at: end + 16))
        var directoryEnd = end

        let locator = end - 20
        if bytes.holds(20, at: locator), bytes.littleEndian(UInt32.self, at: locator) == Self.locatorSignature {
            let record = bytes.littleEndian(UInt64.self, at: locator + 8)
            guard let start = Int(exactly: record), bytes.holds(56, at: start), start + 56 <= locator,
                  bytes.littleEndian(UInt32.self, at: start) == Self.zip64EndSignature else {
                throw fail("corrupt zip archive: the ZIP64 end locator points to byte \(record), where no ZIP64 end record is")
            }
            let recordSize = bytes.littleEndian(UInt64.self, at: start + 4)
            guard recordSize >= 44, recordSize <= UInt64(locator - start - 12) else {
                throw fail("corrupt zip archive: the ZIP64 end record's size \(recordSize) does not fit before its locator")
            }
            split = bytes.littleEndian(UInt32.self, at: locator + 4) != 0 || bytes.littleEndian(UInt32.self, at: locator + 16) > 1
                || bytes.littleEndian(UInt32.self, at: start + 16) != 0 || bytes.littleEndian(UInt32.self, at: start + 20) != 0
            entriesOnDisk = bytes.littleEndian(UInt64.self, at: start + 24)
            entries = bytes.littleEndian(UInt64.self, at: start + 32)
            directorySize = bytes.littleEndian(UInt64.self, at: start + 40)
            directoryOffset = bytes.littleEndian(UInt64.self, at: start + 48)
            directoryEnd = start
        }
        guard !split, entriesOnDisk == entries else {
            throw fail("is a zip archive split over several disks, which is not supported")
        }
        guard directorySize <= UInt64(directoryEnd), directoryOffset == UInt64(directoryEnd) - directorySize else {
            throw fail("corrupt central directory: the end record puts it at byte \(directoryOffset), \(directorySize) bytes long, "
                       + "but it must end at byte \(directoryEnd), where the end record begins")
        }
        guard entries <= directorySize / UInt64(Self.directoryEntrySize) else {
            throw fail("corrupt central directory: \(entries) entries cannot fit in its \(directorySize) bytes")
        }
        // Both are at most directoryEnd now, which is an Int.
        self.entries = Int(entries)
        self.directoryOffset = Int(directoryOffset)
        self.directoryEnd = directoryEnd
    }

    /// The offset of the last EOCD signature whose comment length reaches the end of `bytes`.
    private static func findEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= endSize else { return nil }
        let lowest = max(0, bytes.count - endSize - longestComment)
        for start in stride(from: bytes.count - endSize, through: lowest, by: -1)
        where bytes[start] == 0x50 && bytes.littleEndian(UInt32.self, at: start) == endSignature
            && Int(bytes.littleEndian(UInt16.self, at: start + 20)) == bytes.count - start - endSize {
            return start
        }
        return nil
    }
}
