extension UnsafeRawBufferPointer {
    /// True if `length` bytes from `offset` lie in the buffer (both non-negative; no overflow).
    func holds(_ length: Int, at offset: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= count - length
    }

    /// The little-endian integer of type `T` at `offset`. The caller has checked that its bytes
    /// lie in the buffer (`holds`); a read past it is a bug, and stops the process.
    func littleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        precondition(holds(MemoryLayout<T>.size, at: offset), "read of \(T.self) at \(offset) past a \(count)-byte buffer")
        return T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

/// `text` in single quotes for a message, cut to 60 characters.
func quotedForMessage(_ text: String) -> String {
    "'" + (text.count > 60 ? text.prefix(60) + "…" : text) + "'"
}
