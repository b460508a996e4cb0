import Checkpoint
import Support

/// Writes NumPy arrays as `np.savez` does: a zip archive of `.npy` members, stored (not
/// compressed) so that they can be mapped (`NumPyInput`), with ZIP64 records where a size or
/// offset passes 4 GiB. Written atomically (`AtomicFile`): a crash leaves the old file or the
/// new one. `trainer convert` and the data cache write through it.
public enum NumPyOutput {
    /// One array: its name in the archive (without ".npy"), element type, shape (C order), and
    /// its bytes, little-endian, `shape`'s product × the element size.
    public struct Array {
        public let name: String
        public let element: ElementType
        public let shape: [Int]
        public let bytes: UnsafeRawBufferPointer

        public init(name: String, element: ElementType, shape: [Int], bytes: UnsafeRawBufferPointer) {
            precondition(shape.reduce(1, *) * element.byteSize == bytes.count, "NumPyOutput.Array \(name): shape \(shape) and \(bytes.count) bytes")
            self.name = name
            self.element = element
            self.shape = shape
            self.bytes = bytes
        }
    }

    /// The `.npy` header of `array` (format 1.0, or 2.0 for a header past 64 KiB): the magic, the
    /// version, the header's length and the dict, padded with spaces and a newline so that the
    /// data start at a multiple of 64 bytes.
    static func header(_ array: Array) -> [UInt8] {
        let shape = array.shape.count == 1 ? "(\(array.shape[0]),)" : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var dict = Swift.Array("{'descr': '\(array.element.descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
        let wide = dict.count + 12 > 65_535
        let prefix = wide ? 12 : 10
        dict += Swift.Array(repeating: 0x20, count: (64 - (prefix + dict.count + 1) % 64) % 64) + [0x0A]
        var bytes: [UInt8] = [0x93] + Swift.Array("NUMPY".utf8) + [wide ? 2 : 1, 0]
        bytes += wide ? littleEndian(UInt32(dict.count)) : littleEndian(UInt16(dict.count))
        return bytes + dict
    }

    /// Writes `arrays` as an `.npz` archive at `path`.
    public static func writeNPZ(_ arrays: [Array], to path: String) throws {
        try AtomicFile.write(to: path) { file in
            var offset = 0, central: [UInt8] = []
            for array in arrays {
                let header = self.header(array), name = Swift.Array("\(array.name).npy".utf8)
                let size = header.count + array.bytes.count
                let crc = crc32(of: array.bytes, initial: header.withUnsafeBytes { crc32(of: $0) })
                let zip64 = size >= 0xFFFF_FFFF || offset >= 0xFFFF_FFFF
                // Local header: sizes in a ZIP64 extra field when they do not fit 32 bits.
                var local = littleEndian(UInt32(0x0403_4B50)) + littleEndian(UInt16(zip64 ? 45 : 20)) + littleEndian(UInt16(0))
                local += littleEndian(UInt16(0)) + littleEndian(UInt32(0x0021_0000)) + littleEndian(crc)  // stored; 1980-01-01
                local += littleEndian(UInt32(zip64 ? 0xFFFF_FFFF : UInt32(size))) + littleEndian(UInt32(zip64 ? 0xFFFF_FFFF : UInt32(size)))
                local += littleEndian(UInt16(name.count)) + littleEndian(UInt16(zip64 ? 20 : 0)) + name
                if zip64 { local += littleEndian(UInt16(1)) + littleEndian(UInt16(16)) + littleEndian(UInt64(size)) + littleEndian(UInt64(size)) }
                try file.append(local)
                try file.append(header)
                try file.append(array.bytes)
                // Its central directory entry.
                central += littleEndian(UInt32(0x0201_4B50)) + littleEndian(UInt16(zip64 ? 45 : 20)) + littleEndian(UInt16(zip64 ? 45 : 20))
                central += littleEndian(UInt16(0)) + littleEndian(UInt16(0)) + littleEndian(UInt32(0x0021_0000)) + littleEndian(crc)
                central += littleEndian(UInt32(zip64 ? 0xFFFF_FFFF : UInt32(size))) + littleEndian(UInt32(zip64 ? 0xFFFF_FFFF : UInt32(size)))
                central += littleEndian(UInt16(name.count)) + littleEndian(UInt16(zip64 ? 28 : 0)) + littleEndian(UInt16(0))
                central += littleEndian(UInt16(0)) + littleEndian(UInt16(0)) + littleEndian(UInt32(0))
                central += littleEndian(UInt32(zip64 ? 0xFFFF_FFFF : UInt32(offset))) + name
                if zip64 {
                    central += littleEndian(UInt16(1)) + littleEndian(UInt16(24)) + littleEndian(UInt64(size)) + littleEndian(UInt64(size))
                    central += littleEndian(UInt64(offset))
                }
                offset += local.count + size
            }
            let entries = UInt64(arrays.count), directorySize = UInt64(central.count), directoryOffset = UInt64(offset)
            if directoryOffset >= 0xFFFF_FFFF {
                // ZIP64 end of central directory record and its locator.
                central += littleEndian(UInt32(0x0606_4B50)) + littleEndian(UInt64(44)) + littleEndian(UInt16(45)) + littleEndian(UInt16(45))
                central += littleEndian(UInt32(0)) + littleEndian(UInt32(0)) + littleEndian(entries) + littleEndian(entries)
                central += littleEndian(directorySize) + littleEndian(directoryOffset)
                central += littleEndian(UInt32(0x0706_4B50)) + littleEndian(UInt32(0)) + littleEndian(directoryOffset + directorySize)
                central += littleEndian(UInt32(1))
            }
            let small = directoryOffset < 0xFFFF_FFFF
            central += littleEndian(UInt32(0x0605_4B50)) + littleEndian(UInt16(0)) + littleEndian(UInt16(0))
            central += littleEndian(UInt16(entries)) + littleEndian(UInt16(entries))
            central += littleEndian(UInt32(small ? UInt32(directorySize) : 0xFFFF_FFFF)) + littleEndian(UInt32(small ? UInt32(directoryOffset) : 0xFFFF_FFFF))
            central += littleEndian(UInt16(0))
            try file.append(central)
        }
    }

    /// `value`'s bytes, little-endian.
    static func littleEndian<I: FixedWidthInteger>(_ value: I) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Swift.Array($0) }
    }
}
