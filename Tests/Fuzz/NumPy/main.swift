// Fuzz target for the NumPy parsers: NumPyHeader.parse on the input as a .npy file, and
// NPZArchive.members on it as a .npz archive, then NumPyHeader.parse on each stored member's
// bytes, as a caller reading an archive does.
// Built with -sanitize=fuzzer -DFUZZING by launch/fuzz; a normal build replays files given
// on the command line: `FuzzNumPy Tests/Fuzz/NumPy/corpus`.
import Data
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size > 0 ? size : 0)
    checkHeader(bytes, path: "fuzz.npy")
    guard let members = expectingTrainerError("NPZArchive.members", { try NPZArchive.members(bytes, path: "fuzz.npz") }) else {
        return 0
    }
    guard Set(members.map(\.name)).count == members.count else { fuzzFailure("members share a name: \(members)") }
    for member in members {
        guard member.offset >= 0, member.size >= 0, member.offset <= bytes.count - member.size else {
            fuzzFailure("member \(member) does not lie in the \(bytes.count)-byte input")
        }
        if member.stored {
            checkHeader(UnsafeRawBufferPointer(rebasing: bytes[member.offset..<member.offset + member.size]), path: "fuzz.npz/\(member.name)")
        }
    }
    return 0
}

/// Parses `bytes` as a .npy file; if they are accepted, checks that the header describes them.
private func checkHeader(_ bytes: UnsafeRawBufferPointer, path: String) {
    guard let header = expectingTrainerError("NumPyHeader.parse", { try NumPyHeader.parse(bytes, path: path) }) else { return }
    var count = 1
    for size in header.shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: size)
        guard size >= 0, !overflow else { fuzzFailure("accepted shape \(header.shape)") }
        count = product
    }
    guard header.shape.count <= 32, count == header.elementCount, header.dataBytes == count * header.dtype.byteSize,
          header.dataOffset >= 10, header.dataOffset + header.dataBytes == bytes.count else {
        fuzzFailure("accepted \(header) for \(bytes.count) bytes")
    }
}

fuzzMain(fuzz)
