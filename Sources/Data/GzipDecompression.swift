import CZlib
import Support

/// The most bytes a gzip file may decompress to (2 GiB).
public let maximumDecompressedSize = 1 << 31

/// Whether `bytes` read from `path` are gzip: the path ends in `.gz` or the data starts with 1f 8b.
func isGzip(path: String, bytes: [UInt8]) -> Bool {
    path.hasSuffix(".gz") || (bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
}

/// Decompresses a whole gzip file (one or more members) in memory.
///
/// The output buffer grows with the output zlib actually produces, never from sizes stated in
/// the file. Throws `.data` naming `path` if the data are corrupt or truncated, or would
/// decompress to more than `limit` bytes.
public func gunzip(_ input: [UInt8], path: String, limit: Int = maximumDecompressedSize) throws -> [UInt8] {
    var stream = z_stream()
    guard shim_inflate_init_gzip(&stream) == Z_OK else {
        throw TrainerError(.environment, subject: path, "zlib could not start decompressing")
    }
    defer { inflateEnd(&stream) }

    // First guess: the gzip trailer's ISIZE (the size modulo 2³², of the last member only, and
    // untrusted): right for ordinary files, so the buffer need not grow by doubling and end
    // with up to twice the memory. A wrong or hostile value only costs a regrowth; never
    // more than `limit` + 1 bytes, nor more than 1032× the input (deflate's maximum ratio).
    let trailerSize = input.count >= 18 ? input.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) } : 0
    let plausible = trailerSize > 0 && trailerSize <= input.count.multipliedReportingOverflow(by: 1032).partialValue
    let firstGuess = plausible ? trailerSize + 1 : Swift.max(2 * input.count, 1 << 16)
    var output = [UInt8](repeating: 0, count: Swift.min(firstGuess, limit + 1))
    var produced = 0, consumed = 0
    var memberStart: (input: Int, output: Int)? = nil  // where the latest member after the first began
    while true {
        if produced == output.count {  // then output.count ≤ limit, or the check below would have thrown
            let grown = Swift.min(output.count > limit / 2 ? limit + 1 : 2 * output.count, limit + 1)
            output.append(contentsOf: repeatElement(0, count: grown - output.count))
        }
        let inputPiece = Swift.min(input.count - consumed, Int(UInt32.max))
        let outputPiece = Swift.min(output.count - produced, Int(UInt32.max))
        let status: Int32 = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                guard let sourceBase = source.baseAddress, let targetBase = target.baseAddress else {
                    stream.avail_in = uInt(inputPiece)  // nothing consumed or produced
                    stream.avail_out = uInt(outputPiece)
                    return Z_BUF_ERROR
                }
                stream.next_in = UnsafeMutablePointer(mutating: sourceBase + consumed)
                stream.avail_in = uInt(inputPiece)
                stream.next_out = targetBase + produced
                stream.avail_out = uInt(outputPiece)
                return inflate(&stream, Z_NO_FLUSH)
            }
        }
        let progressed = inputPiece - Int(stream.avail_in) + outputPiece - Int(stream.avail_out) > 0
        consumed += inputPiece - Int(stream.avail_in)
        produced += outputPiece - Int(stream.avail_out)
        guard produced <= limit else {
            throw TrainerError(.data, subject: path, "decompresses to more than \(limit) bytes, the limit")
        }

        switch status {
        case Z_STREAM_END:
            if consumed == input.count {
                output.removeSubrange(produced...)
                return output
            }
            // Another gzip member follows (as `cat a.gz b.gz` makes); garbage fails in inflate.
            memberStart = (consumed, produced)
            guard inflateReset(&stream) == Z_OK else {
                throw TrainerError(.data, subject: path, "corrupt gzip data after byte \(consumed)")
            }
        case Z_OK, Z_BUF_ERROR:
            if produced < output.count && (consumed == input.count || !progressed) {
                throw TrainerError(.data, subject: path,
                    "truncated gzip data: the file's \(input.count) bytes end before the gzip stream does")
            }
        default:
            let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            if let start = memberStart, start.output == produced {
                throw TrainerError(.data, subject: path,
                    "\(input.count - start.input) unexpected bytes after the end of the gzip stream (\(reason))")
            }
            throw TrainerError(.data, subject: path, "corrupt gzip data: \(reason)")
        }
    }
}
