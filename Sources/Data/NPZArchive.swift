import Support

/// The members of a NumPy `.npz` file: a zip archive (np.savez, np.savez_compressed) holding
/// one .npy file per array, named `NAME.npy`. Only the archive's structure is read here; the
/// caller parses a stored member's bytes with `NumPyHeader.parse`.
public struct NPZArchive {
    /// One file of the archive.
    public struct Member: Sendable, Equatable {
        /// The array's name: the member's file name without its `.npy` suffix (other names as
        /// they are).
        public let name: String
        /// Where the member's data begin in the archive: for a stored member, its .npy file.
        public let offset: Int
        /// The bytes of its data in the archive (compressed, if it is compressed).
        public let size: Int
        /// True if the member is stored uncompressed (method 0): its bytes are the .npy file.
        /// np.savez_compressed's members (deflate, method 8) are not.
        public let stored: Bool

        public init(name: String, offset: Int, size: Int, stored: Bool) {
            self.name = name
            self.offset = offset
            self.size = size
            self.stored = stored
        }
    }

    /// Lists the members of the zip archive whose bytes are all of `bytes` (the file at `path`),
    /// in the order of its central directory, treating the bytes as untrusted. Reads the end
    /// records (`ZipEndRecord`: EOCD, ZIP64), every central directory entry (with its ZIP64
    /// sizes and offset when the 32-bit fields say 0xFFFFFFFF) and each member's local file
    /// header, whose own name and extra field say where the data begin. Throws a one-line
    /// `.data` error naming `path` if the file is not a zip archive, its end records or central
    /// directory are truncated or corrupt, a member's header or data lie outside the file (before
    /// the central directory), a member is encrypted, or two members give the same name.
    /// Compressed members are listed, with `stored` false: inflating them is the caller's choice.
    public static func members(_ bytes: UnsafeRawBufferPointer, path: String) throws -> [Member] {
        let end = try ZipEndRecord(bytes, path: path)
        let directory = UnsafeRawBufferPointer(rebasing: bytes[end.directoryOffset..<end.directoryEnd])
        let area = UnsafeRawBufferPointer(rebasing: bytes[0..<end.directoryOffset])
        var members: [Member] = []
        var fileNames: [String: String] = [:]  // array name → member file name
        var position = 0
        for index in 0..<end.entries {
            let entry = try ZipDirectoryEntry(directory, at: position, index: index, of: end.entries, path: path)
            position = entry.end
            let member = try entry.member(in: area, path: path)
            if let earlier = fileNames.updateValue(entry.name, forKey: member.name) {
                throw TrainerError(.data, subject: path, earlier == entry.name
                    ? "member \(quotedForMessage(entry.name)) appears twice in the archive"
                    : "members \(quotedForMessage(earlier)) and \(quotedForMessage(entry.name)) both give the array \(quotedForMessage(member.name))")
            }
            members.append(member)
        }
        guard position == directory.count else {
            throw TrainerError(.data, subject: path, "corrupt central directory: \(directory.count - position) bytes follow "
                + "the \(end.entries) entr\(end.entries == 1 ? "y" : "ies") the end record counts")
        }
        return members
    }
}

/// One entry of a zip archive's central directory: a member's name, method, sizes and where
/// its local file header is.
private struct ZipDirectoryEntry {
    let name: String
    let nameBytes: UnsafeRawBufferPointer
    let compressedSize: UInt64
    let size: UInt64
    let localHeader: UInt64
    let flags: UInt16
    let method: UInt16
    /// Where the next entry begins in the directory.
    let end: Int

    static let signature: UInt32 = 0x0201_4B50

    /// Reads entry `index` (0-based) of `count` at `position` of `directory`.
    init(_ directory: UnsafeRawBufferPointer, at position: Int, index: Int, of count: Int, path: String) throws {
        func fail(_ problem: String) -> TrainerError {
            TrainerError(.data, subject: path, "corrupt central directory: entry \(index + 1) of \(count) \(problem)")
        }
        let fixed = ZipEndRecord.directoryEntrySize
        guard directory.holds(fixed, at: position) else { throw fail("runs past its end") }
        guard directory.littleEndian(UInt32.self, at: position) == Self.signature else {
            throw fail("does not begin with the signature PK\\1\\2")
        }
        let nameLength = Int(directory.littleEndian(UInt16.self, at: position + 28))
        let extraLength = Int(directory.littleEndian(UInt16.self, at: position + 30))
        let commentLength = Int(directory.littleEndian(UInt16.self, at: position + 32))
        end = position + fixed + nameLength + extraLength + commentLength
        guard end <= directory.count else { throw fail("runs past its end") }
        nameBytes = UnsafeRawBufferPointer(rebasing: directory[position + fixed..<position + fixed + nameLength])
        name = String(decoding: nameBytes, as: UTF8.self)
        flags = directory.littleEndian(UInt16.self, at: position + 8)
        method = directory.littleEndian(UInt16.self, at: position + 10)

        // ZIP64: the extra field 0x0001 holds, in this order, the 64-bit values of the fields
        // that are 0xFFFFFFFF: the size, the compressed size, the local header's offset.
        var values = [position + 24, position + 20, position + 42].map { UInt64(directory.littleEndian(UInt32.self, at: $0)) }
        let needed = values.indices.filter { values[$0] == 0xFFFF_FFFF }
        if !needed.isEmpty {
            let extra = UnsafeRawBufferPointer(rebasing: directory[position + fixed + nameLength..<position + fixed + nameLength + extraLength])
            guard let zip64 = Self.zip64Field(extra), zip64.count >= 8 * needed.count else {
                throw fail("(\(quotedForMessage(name))) has a 32-bit size or offset of 0xFFFFFFFF but no ZIP64 extra field holding it")
            }
            for (slot, field) in needed.enumerated() { values[field] = zip64.littleEndian(UInt64.self, at: 8 * slot) }
        }
        (size, compressedSize, localHeader) = (values[0], values[1], values[2])
    }

    /// The data of the extra field 0x0001 (ZIP64) among the fields of `extra`, if there is one.
    private static func zip64Field(_ extra: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var position = 0
        while extra.holds(4, at: position) {
            let id = extra.littleEndian(UInt16.self, at: position)
            let length = Int(extra.littleEndian(UInt16.self, at: position + 2))
            guard extra.holds(length, at: position + 4) else { return nil }
            if id == 0x0001 { return UnsafeRawBufferPointer(rebasing: extra[position + 4..<position + 4 + length]) }
            position += 4 + length
        }
        return nil
    }

    /// The member this entry describes, checked against its local file header in `area` (the
    /// archive before its central directory, where every header and member's data must lie).
    func member(in area: UnsafeRawBufferPointer, path: String) throws -> NPZArchive.Member {
        func fail(_ problem: String) -> TrainerError {
            TrainerError(.data, subject: path, "member \(quotedForMessage(name)) \(problem)")
        }
        if flags & 1 != 0 || method == 99 {
            throw fail("is encrypted, which is not supported; save the arrays with np.savez")
        }
        if method == 0 && compressedSize != size {
            throw fail("is stored but its sizes differ (\(compressedSize) in the archive, \(size) uncompressed): corrupt central directory")
        }
        guard let header = Int(exactly: localHeader), area.holds(30, at: header) else {
            throw fail("is out of bounds: its local header at byte \(localHeader) does not lie before the central directory (byte \(area.count))")
        }
        guard area.littleEndian(UInt32.self, at: header) == ZipEndRecord.localHeaderSignature else {
            throw fail("is corrupt: no local file header (PK\\3\\4) at byte \(header)")
        }
        let nameLength = Int(area.littleEndian(UInt16.self, at: header + 26))
        let extraLength = Int(area.littleEndian(UInt16.self, at: header + 28))
        let start = header + 30 + nameLength + extraLength
        guard area.holds(nameLength, at: header + 30),
              UnsafeRawBufferPointer(rebasing: area[header + 30..<header + 30 + nameLength]).elementsEqual(nameBytes) else {
            throw fail("is corrupt: its local header at byte \(header) names another file")
        }
        guard let count = Int(exactly: compressedSize), area.holds(count, at: start) else {
            throw fail("is out of bounds: its \(compressedSize) bytes from byte \(start) run past byte \(area.count), where the central directory begins")
        }
        let arrayName = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
        return NPZArchive.Member(name: arrayName, offset: start, size: count, stored: method == 0)
    }
}
