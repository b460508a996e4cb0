import Support

/// A value of the part of Python's literal syntax that .npy headers are written in (the `repr`
/// of a dict of strings, booleans, integers and tuples), as `ast.literal_eval` would read it —
/// far enough to tell the values a header may hold apart and to name the others in messages.
indirect enum PythonLiteral {
    case string(String)
    /// An integer: its value, or nil when it does not fit in `Int`; `text` as written.
    case integer(Int?, text: String)
    case boolean(Bool)
    case none
    /// A number that is not a decimal integer, such as `3.0`, `1e3` or `0x10`.
    case otherNumber(String)
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([(key: PythonLiteral, value: PythonLiteral)])

    /// The value as Python would print it (for messages; callers cut it to length).
    var pythonText: String {
        switch self {
        case .string(let text): return "'\(text)'"
        case .integer(_, let text), .otherNumber(let text): return text
        case .boolean(let value): return value ? "True" : "False"
        case .none: return "None"
        case .tuple(let items): return "(" + items.map(\.pythonText).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .list(let items): return "[" + items.map(\.pythonText).joined(separator: ", ") + "]"
        case .dict(let pairs): return "{" + pairs.map { "\($0.key.pythonText): \($0.value.pythonText)" }.joined(separator: ", ") + "}"
        }
    }

    /// Parses `text` (a .npy header: one literal, then only white space). Integers may end in
    /// `L` (Python 2's long integers) when `longSuffix` is true, as NumPy allows in versions 1.0
    /// and 2.0. Throws `.data` naming `path`, the problem and where in the header it is.
    static func parse(_ text: UnsafeRawBufferPointer, longSuffix: Bool, path: String) throws -> PythonLiteral {
        var parser = PythonLiteralParser(text: text, longSuffix: longSuffix, path: path)
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        if parser.position < text.count {
            throw parser.failure("unexpected \(parser.describeNext()) after the header's \(value.kindName)")
        }
        return value
    }

    /// What kind of value this is, for messages: "a dict", "a tuple", ….
    var kindName: String {
        switch self {
        case .string: return "string"
        case .integer, .otherNumber: return "number"
        case .boolean: return "boolean"
        case .none: return "None"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        }
    }
}

/// The recursive-descent reader behind `PythonLiteral.parse`.
private struct PythonLiteralParser {
    let text: UnsafeRawBufferPointer
    let longSuffix: Bool
    let path: String
    var position = 0

    /// Deeper nesting is refused (a structured dtype nests three levels; recursion stays bounded).
    static let maximumDepth = 16

    init(text: UnsafeRawBufferPointer, longSuffix: Bool, path: String) {
        self.text = text
        self.longSuffix = longSuffix
        self.path = path
    }

    func failure(_ problem: String) -> TrainerError {
        TrainerError(.data, subject: path, "header is not a valid Python literal: \(problem) at byte \(position) of the header")
    }

    /// The next byte, or nil at the end.
    var next: UInt8? { position < text.count ? text[position] : nil }

    func describeNext() -> String {
        guard let byte = next else { return "end of the header" }
        return byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }

    /// Skips Python's white space between tokens (newlines too: the header's dict is bracketed).
    mutating func skipSpace() {
        while let byte = next, byte == 0x20 || (0x09...0x0D).contains(byte) { position += 1 }
    }

    mutating func value(depth: Int) throws -> PythonLiteral {
        guard depth < Self.maximumDepth else { throw failure("nested more than \(Self.maximumDepth) levels deep") }
        skipSpace()
        guard let byte = next else { throw failure("it ends where a value should be") }
        switch byte {
        case UInt8(ascii: "{"):
            return try dict(depth: depth)
        case UInt8(ascii: "("):
            let (items, comma) = try sequence(closing: ")", depth: depth)
            return items.count == 1 && !comma ? items[0] : .tuple(items)  // (3) is 3, (3,) a tuple
        case UInt8(ascii: "["):
            return .list(try sequence(closing: "]", depth: depth).items)
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number()
        default:
            let word = token { $0 == UInt8(ascii: "_") || isAlphanumeric($0) }
            switch word {
            case "True": return .boolean(true)
            case "False": return .boolean(false)
            case "None": return .none
            case "": throw failure("unexpected \(describeNext())")
            default: throw failure("unexpected name \(quotedForMessage(word))")
            }
        }
    }

    /// `{key: value, …}` with an optional trailing comma; the keys in the order written.
    mutating func dict(depth: Int) throws -> PythonLiteral {
        position += 1
        var pairs: [(key: PythonLiteral, value: PythonLiteral)] = []
        while true {
            skipSpace()
            if next == UInt8(ascii: "}") { position += 1; return .dict(pairs) }
            let key = try value(depth: depth + 1)
            skipSpace()
            guard next == UInt8(ascii: ":") else { throw failure("expected ':' after a dict key, found \(describeNext())") }
            position += 1
            pairs.append((key, try value(depth: depth + 1)))
            skipSpace()
            if next == UInt8(ascii: ",") { position += 1; continue }
            guard next == UInt8(ascii: "}") else { throw failure("expected ',' or '}' in a dict, found \(describeNext())") }
        }
    }

    /// The items up to `closing` (the opening bracket is next), and whether a comma followed the last.
    mutating func sequence(closing: Unicode.Scalar, depth: Int) throws -> (items: [PythonLiteral], comma: Bool) {
        position += 1
        var items: [PythonLiteral] = []
        var comma = false
        while true {
            skipSpace()
            if next == UInt8(ascii: closing) { position += 1; return (items, comma) }
            items.append(try value(depth: depth + 1))
            skipSpace()
            comma = next == UInt8(ascii: ",")
            if comma { position += 1; continue }
            guard next == UInt8(ascii: closing) else { throw failure("expected ',' or '\(closing)', found \(describeNext())") }
        }
    }

    /// A quoted string on one line; backslash escapes of quotes and backslashes are undone.
    mutating func string() throws -> String {
        let quote = text[position]
        position += 1
        var bytes: [UInt8] = []
        while let byte = next, byte != quote, byte != UInt8(ascii: "\n") {
            position += 1
            if byte == UInt8(ascii: "\\"), let escaped = next, escaped != UInt8(ascii: "\n") {
                position += 1
                if escaped != quote && escaped != byte { bytes.append(byte) }
                bytes.append(escaped)
            } else {
                bytes.append(byte)
            }
        }
        guard next == quote else { throw failure("unterminated string") }
        position += 1
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An integer (with an optional sign, and `L` when allowed), or another number as written.
    mutating func number() throws -> PythonLiteral {
        let start = position
        let negative = next == UInt8(ascii: "-")
        if negative || next == UInt8(ascii: "+") { position += 1 }
        let word = token { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || isAlphanumeric($0) }
        let written = String(decoding: UnsafeRawBufferPointer(rebasing: text[start..<position]), as: UTF8.self)
        var digits = Substring(word)
        if longSuffix && digits.hasSuffix("L") { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            if word.isEmpty { throw failure("a sign without a number") }
            return .otherNumber(written)
        }
        var magnitude: Int? = 0
        for digit in digits.utf8 {
            guard let value = magnitude else { break }
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(digit - 0x30))
            magnitude = overflow || overflow2 ? nil : sum
        }
        return .integer(negative ? magnitude.map { 0 - $0 } : magnitude, text: written)
    }

    /// The longest run of bytes from here that satisfy `accepted`, as text.
    mutating func token(_ accepted: (UInt8) -> Bool) -> String {
        let start = position
        while let byte = next, accepted(byte) { position += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: text[start..<position]), as: UTF8.self)
    }
}

private func isAlphanumeric(_ byte: UInt8) -> Bool {
    (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
}
