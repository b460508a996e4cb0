import Support

extension NumPyHeader.DType {
    /// The type a header's 'descr' names: a string such as '<f4' — the byte order ('<' little,
    /// '=' native, '|' none, '>' big; may be absent), then the type code. Multi-byte types must be
    /// little-endian or native; 1-byte types may have any order. Throws `.data` naming `path`
    /// for anything else, with a hint on how to save the array in a type trainer reads.
    init(descr: PythonLiteral, path: String) throws {
        func fail(_ problem: String) -> TrainerError { TrainerError(.data, subject: path, problem) }
        let text: String
        switch descr {
        case .string(let string): text = string
        case .list: throw fail("structured dtype (a list of fields) is not supported; save a plain numeric array")
        default: throw fail("'descr' is \(quotedForMessage(descr.pythonText)), not a dtype string such as '<f4'")
        }
        let order = text.first.flatMap { "<>=|".contains($0) ? $0 : nil }
        let code = order == nil ? Substring(text) : text.dropFirst()
        let shown = quotedForMessage(text)
        guard let type = Self.allCases.first(where: { $0.typeCode == code }) else {
            throw fail("dtype \(shown) " + Self.unsupported(code))
        }
        if type.byteSize > 1 && order == ">" {
            throw fail("dtype \(shown) is big-endian; save with arr.astype('\(type.descr)')")
        }
        if type.byteSize > 1 && order == "|" {
            throw fail("dtype \(shown) has no byte order ('|' is for 1-byte types); save with arr.astype('\(type.descr)')")
        }
        self = type
    }

    /// What is said of a type code trainer does not read: which kind it is and how to convert.
    private static func unsupported(_ code: Substring) -> String {
        let supported = allCases.map(\.name).joined(separator: ", ")
        switch code {
        case "b1", "?": return "(bool) is not supported; save with arr.astype('uint8')"
        case "f2", "e": return "(float16) is not supported; save with arr.astype('<f4')"
        case "f12", "f16", "g": return "(long double) is not supported; save with arr.astype('<f8')"
        case "u2", "H": return "(uint16) is not supported; save with arr.astype('<i4')"
        case "u4", "I", "u8", "L", "Q": return "(unsigned) is not supported; save with arr.astype('<i8')"
        case "O": return "(object: pickled Python objects) is not supported; save a numeric array, e.g. arr.astype('<f4')"
        default: break
        }
        let kinds: [(prefix: String, text: String)] = [
            ("c", "(complex) is not supported; save the real and imaginary parts as float32 columns"),
            ("U", "(unicode strings) is not supported; save numbers, e.g. class indices with arr.astype('<i8')"),
            ("S", "(byte strings) is not supported; save numbers, e.g. class indices with arr.astype('<i8')"),
            ("a", "(byte strings) is not supported; save numbers, e.g. class indices with arr.astype('<i8')"),
            ("M8", "(datetime) is not supported; save with arr.astype('<i8')"),
            ("m8", "(timedelta) is not supported; save with arr.astype('<i8')"),
            ("V", "(raw or structured records) is not supported; save a plain numeric array"),
        ]
        if let kind = kinds.first(where: { code.hasPrefix($0.prefix) }) { return kind.text }
        return "is not supported; supported: \(supported) (little-endian)"
    }
}
