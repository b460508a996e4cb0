import Support

/// The header of a NumPy `.npy` file (NumPy's `numpy.lib.format`, versions 1.0, 2.0 and 3.0):
/// the magic `\x93NUMPY`, the version, the header's length (16 bits in 1.0, 32 in 2.0 and 3.0),
/// then the header, a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`
/// padded with spaces and a newline; the array's elements follow it, C order, no gaps.
public struct NumPyHeader: Sendable, Equatable {
    /// The element types trainer reads: little-endian (or, for 1-byte types, any byte order).
    /// The raw value is the name messages use.
    public enum DType: String, Sendable, CaseIterable {
        case float32, float64, uint8, int8, int16, int32, int64

        /// Bytes per element.
        public var byteSize: Int {
            switch self {
            case .uint8, .int8: return 1
            case .int16: return 2
            case .float32, .int32: return 4
            case .float64, .int64: return 8
            }
        }

        /// The name messages use: "float32", "uint8", ….
        public var name: String { rawValue }

        /// NumPy's `dtype.str` of the type as NumPy writes it here: "<f4", "|u1", ….
        public var descr: String {
            (byteSize == 1 ? "|" : "<") + typeCode
        }

        /// The descr without its byte order: "f4", "u1", ….
        var typeCode: String {
            switch self {
            case .float32: return "f4"
            case .float64: return "f8"
            case .uint8: return "u1"
            case .int8: return "i1"
            case .int16: return "i2"
            case .int32: return "i4"
            case .int64: return "i8"
            }
        }
    }

    public let dtype: DType
    /// The sizes of the dimensions, outermost first; `[]` for a scalar.
    public let shape: [Int]
    /// Bytes from the start of the file to its first element (the end of the header).
    public let dataOffset: Int

    /// The number of elements: the product of `shape` (1 for a scalar, 0 if a size is 0).
    /// `parse` has checked that it does not overflow.
    public var elementCount: Int { shape.reduce(1, *) }

    /// Bytes of the elements: `elementCount × dtype.byteSize`, which `parse` has checked
    /// against the file.
    public var dataBytes: Int { elementCount * dtype.byteSize }

    /// The shape as Python prints it, for messages: `(3,)`, `(3, 4)`, `()`.
    var shapeText: String {
        "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
    }

    /// Dimensions beyond this are refused (NumPy 1.x's own limit).
    static let maximumDimensions = 32

    /// `\x93NUMPY`, the first bytes of every .npy file.
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// Reads the header of the .npy file whose bytes are all of `bytes` (the file at `path`, or
    /// one member of a .npz archive) and checks it against the file, treating the bytes as
    /// untrusted. Every problem throws a one-line `.data` error naming `path`:
    /// - not a .npy file (no magic), a version other than 1.0, 2.0 and 3.0, a file truncated
    ///   in the preamble or the header;
    /// - a header that is not a Python dict literal with exactly the keys 'descr',
    ///   'fortran_order' and 'shape' (in any order, once each);
    /// - 'descr' not one of `DType`'s little-endian types (a hint says how to convert big-endian,
    ///   bool, float16, unsigned, string, object, complex and structured arrays);
    /// - 'fortran_order' not False;
    /// - 'shape' not a tuple of at most 32 non-negative integers whose byte size fits in `Int`;
    /// - fewer bytes after the header than the shape promises (truncated), or more (trailing).
    ///
    /// A scalar (shape `()`, one element) and empty arrays (a size 0) are accepted: what they
    /// mean is the caller's to decide.
    public static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> NumPyHeader {
        func fail(_ problem: String) -> TrainerError { TrainerError(.data, subject: path, problem) }
        guard bytes.prefix(magic.count).elementsEqual(magic.prefix(bytes.count)) else {
            throw fail("not a NumPy .npy file: it does not begin with the magic \\x93NUMPY")
        }
        guard bytes.count >= 8 else {
            throw fail("truncated: \(bytes.count) bytes, too short for the magic and version of a .npy file")
        }
        let major = bytes[6], minor = bytes[7]
        let lengthSize: Int
        switch (major, minor) {
        case (1, 0): lengthSize = 2
        case (2, 0), (3, 0): lengthSize = 4
        default: throw fail("unsupported .npy format version \(major).\(minor) (NumPy writes 1.0, 2.0 and 3.0)")
        }
        let headerStart = 8 + lengthSize
        guard bytes.count >= headerStart else {
            throw fail("truncated: \(bytes.count) bytes, too short for the \(headerStart)-byte preamble of a version \(major).0 .npy file")
        }
        let declared = lengthSize == 2
            ? UInt64(bytes.littleEndian(UInt16.self, at: 8)) : UInt64(bytes.littleEndian(UInt32.self, at: 8))
        guard let headerLength = Int(exactly: declared), headerLength <= bytes.count - headerStart else {
            throw fail("truncated: the header is \(declared) bytes but only \(bytes.count - headerStart) follow the preamble")
        }
        let headerText = UnsafeRawBufferPointer(rebasing: bytes[headerStart..<headerStart + headerLength])
        let literal = try PythonLiteral.parse(headerText, longSuffix: major < 3, path: path)
        let fields = try headerFields(literal, path: path)

        let dtype = try DType(descr: fields.descr, path: path)
        switch fields.fortranOrder {
        case .boolean(false): break
        case .boolean(true): throw fail("Fortran order is not supported; save with np.ascontiguousarray(arr)")
        case let other: throw fail("'fortran_order' is \(quotedForMessage(other.pythonText)), not True or False")
        }
        let shape = try dimensions(fields.shape, path: path)
        let header = NumPyHeader(dtype: dtype, shape: shape, dataOffset: headerStart + headerLength)
        guard header.shapeFits else {
            throw fail("shape \(header.shapeText) is too large: its \(dtype.name) elements need more than \(Int.max) bytes")
        }
        let present = bytes.count - header.dataOffset, promised = header.dataBytes
        if present < promised {
            throw fail("truncated: shape \(header.shapeText) of \(dtype.name) promises \(promised) bytes of data, "
                       + "but only \(present) follow the \(header.dataOffset)-byte header")
        }
        if present > promised {
            throw fail("\(present - promised) trailing byte\(present - promised == 1 ? "" : "s") after the \(promised) bytes "
                       + "of data that shape \(header.shapeText) of \(dtype.name) promises")
        }
        return header
    }

    /// True if the element count and the bytes of the elements fit in `Int`.
    private var shapeFits: Bool {
        var product = dtype.byteSize
        for size in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: size)
            if overflow { return false }
            product = next
        }
        return true
    }

    /// The three values of the header dict; throws unless it is a dict with exactly these keys.
    private static func headerFields(_ literal: PythonLiteral, path: String) throws
        -> (descr: PythonLiteral, fortranOrder: PythonLiteral, shape: PythonLiteral) {
        func fail(_ problem: String) -> TrainerError { TrainerError(.data, subject: path, problem) }
        guard case .dict(let pairs) = literal else {
            throw fail("header is not a Python dict but a \(literal.kindName): \(quotedForMessage(literal.pythonText))")
        }
        let keys = ["descr", "fortran_order", "shape"]
        var values: [String: PythonLiteral] = [:]
        for (key, value) in pairs {
            guard case .string(let name) = key else {
                throw fail("header key \(quotedForMessage(key.pythonText)) is not a string")
            }
            guard keys.contains(name) else {
                throw fail("unknown key \(quotedForMessage(name)) in the header (a .npy header has 'descr', 'fortran_order' and 'shape')")
            }
            guard values.updateValue(value, forKey: name) == nil else {
                throw fail("key '\(name)' appears twice in the header")
            }
        }
        let missing = keys.filter { values[$0] == nil }
        guard let descr = values["descr"], let fortranOrder = values["fortran_order"], let shape = values["shape"] else {
            throw fail("header lacks " + missing.map { "'\($0)'" }.joined(separator: " and "))
        }
        return (descr, fortranOrder, shape)
    }

    /// The sizes of a 'shape' value: a tuple of at most 32 non-negative integers.
    private static func dimensions(_ shape: PythonLiteral, path: String) throws -> [Int] {
        func fail(_ problem: String) -> TrainerError { TrainerError(.data, subject: path, problem) }
        guard case .tuple(let items) = shape else {
            throw fail("'shape' is \(quotedForMessage(shape.pythonText)), not a tuple of integers")
        }
        guard items.count <= maximumDimensions else {
            throw fail("'shape' has \(items.count) dimensions, more than \(maximumDimensions)")
        }
        return try items.map { item in
            switch item {
            case .integer(let value?, _) where value >= 0: return value
            case .integer(.some, let text): throw fail("'shape' has a negative size \(text)")
            case .integer(nil, let text): throw fail("'shape' has a size \(quotedForMessage(text)) too large to exist")
            default: throw fail("'shape' has \(quotedForMessage(item.pythonText)), not an integer")
            }
        }
    }
}
