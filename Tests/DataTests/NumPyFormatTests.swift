import Data
import Foundation
import Support
import TestSupport
import XCTest

/// NumPyHeader and NPZArchive on real NumPy output (NumPyFiles): what they read equals what
/// numpy and Python's zipfile read, and every bad file is one `.data` error naming it.
final class NumPyFormatTests: XCTestCase {
    struct Manifest: Decodable {
        struct ArrayFile: Decodable {
            let dtype: String, descr: String, shape: [Int], itemsize: Int, data: String
            let file: String?, version: Int?, dataOffset: Int?
        }
        struct Member: Decodable {
            let name: String, offset: Int, size: Int, stored: Bool
            let array: ArrayFile?
        }
        struct Archive: Decodable {
            let file: String, members: [Member]
        }
        let npy: [ArrayFile]
        let npz: [Archive]
    }

    func manifest(in directory: String) throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Foundation.Data(contentsOf: URL(fileURLWithPath: directory + "/manifest.json")))
    }

    /// Checks the header of the .npy bytes `bytes` against what numpy says of them; returns it.
    @discardableResult
    func checkHeader(_ bytes: UnsafeRawBufferPointer, path: String, against array: Manifest.ArrayFile,
                     line: UInt = #line) throws -> NumPyHeader {
        let header = try NumPyHeader.parse(bytes, path: path)
        XCTAssertEqual(header.dtype.name, array.dtype, path, line: line)
        XCTAssertEqual(header.dtype.descr, array.descr, path, line: line)
        XCTAssertEqual(header.dtype.byteSize, array.itemsize, path, line: line)
        XCTAssertEqual(header.shape, array.shape, path, line: line)
        XCTAssertEqual(header.elementCount, array.shape.reduce(1, *), path, line: line)
        XCTAssertEqual(header.dataBytes, array.data.count / 2, path, line: line)
        XCTAssertEqual(hex(bytes[header.dataOffset...]), array.data, path, line: line)
        return header
    }

    func testEveryDTypeShapeAndVersionOfNpSave() throws {
        let directory = try NumPyFiles.generate(NumPyFiles.good, in: try scratchDirectory())
        let files = try manifest(in: directory).npy
        XCTAssertEqual(files.count, 7 * 5 * 4)
        XCTAssertEqual(Set(files.map(\.dtype)), Set(NumPyHeader.DType.allCases.map(\.name)))
        XCTAssertEqual(Set(files.compactMap(\.version)), [1, 2, 3])
        for file in files {
            let path = directory + "/" + (file.file ?? "")
            let header = try NumPyFiles.withBytes(of: path) { try checkHeader($0, path: path, against: file) }
            XCTAssertEqual(header.dataOffset, file.dataOffset, path)
        }
    }

    func testArchivesOfNpSavezAndZipfile() throws {
        let directory = try NumPyFiles.generate(NumPyFiles.good, in: try scratchDirectory())
        let archives = try manifest(in: directory).npz
        XCTAssertEqual(archives.map(\.file), ["savez-xy.npz", "savez-every-dtype.npz", "savez-positional.npz", "savez-compressed.npz",
                                              "zip64-records.npz", "zip64-local.npz", "streamed.npz", "with-readme.npz", "empty.npz"])
        var arrays = 0
        for archive in archives {
            let path = directory + "/" + archive.file
            try NumPyFiles.withBytes(of: path) { bytes in
                let members = try NPZArchive.members(bytes, path: path)
                XCTAssertEqual(members, archive.members.map { NPZArchive.Member(name: $0.name, offset: $0.offset, size: $0.size, stored: $0.stored) }, path)
                for (member, expected) in zip(members, archive.members) {
                    guard let array = expected.array else { continue }
                    let npy = UnsafeRawBufferPointer(rebasing: bytes[member.offset..<member.offset + member.size])
                    try checkHeader(npy, path: "\(path)/\(member.name)", against: array)
                    arrays += 1
                }
            }
        }
        XCTAssertEqual(arrays, 2 + 7 + 2 + 2 + 2 + 2 + 1)
        let byName = Dictionary(uniqueKeysWithValues: archives.map { ($0.file, $0.members) })
        XCTAssertEqual(byName["savez-compressed.npz"]?.map(\.stored), [false, false], "np.savez_compressed deflates")
        XCTAssertEqual(byName["savez-positional.npz"]?.map(\.name), ["arr_0", "arr_1"])
        XCTAssertEqual(byName["with-readme.npz"]?.map(\.name), ["readme.txt", "y"], "other files are listed; no x: the caller says so")
        XCTAssertEqual(byName["empty.npz"]?.count, 0)
    }

    func testHeadersNumPyReadsThoughNpSaveDoesNotWriteThem() throws {
        let directory = try NumPyFiles.generate(NumPyFiles.bad, in: try scratchDirectory())
        let grid = (0..<12).map { Float($0) }.withUnsafeBytes { hex($0[...]) }
        for (file, dtype, shape, data) in [
            ("ok-python2-long.npy", NumPyHeader.DType.float32, [4, 3], grid),  // (4L, 3L): a version 1.0 header of Python 2
            ("ok-reordered.npy", .float32, [4, 3], grid),                       // double quotes, other order, no spaces, a newline and tab
            ("ok-native.npy", .float32, [4, 3], grid),                          // '=f4', shape ((4), 3)
            ("ok-big-endian-bytes.npy", .uint8, [4, 3], hex((0..<12).map { UInt8($0) }[...])),  // '>u1': 1 byte, no order
        ] {
            let path = directory + "/" + file
            let header = try NumPyFiles.withBytes(of: path) { bytes in
                let header = try NumPyHeader.parse(bytes, path: path)
                XCTAssertEqual(hex(bytes[header.dataOffset...]), data, path)
                return header
            }
            XCTAssertEqual(header.dtype, dtype, path)
            XCTAssertEqual(header.shape, shape, path)
            XCTAssertEqual(header.dataOffset % 64, 0, path)
        }
    }

    /// Each bad file and the phrase that must be in its error.
    static let badFiles: [(file: String, phrase: String)] = [
        ("not-npy.npy", "not a NumPy .npy file"),
        ("empty.npy", "truncated: 0 bytes"),
        ("cut-3.npy", "truncated: 3 bytes"),
        ("cut-7.npy", "truncated: 7 bytes, too short for the magic and version"),
        ("cut-9.npy", "truncated: 9 bytes, too short for the 10-byte preamble"),
        ("cut-v2-11.npy", "truncated: 11 bytes, too short for the 12-byte preamble of a version 2.0"),
        ("cut-30.npy", "truncated: the header is 118 bytes but only 20 follow the preamble"),
        ("header-length.npy", "truncated: the header is 176 bytes"),
        ("cut-133.npy", "truncated: shape (4, 3) of float32 promises 48 bytes of data, but only 5 follow the 128-byte header"),
        ("cut-175.npy", "but only 47 follow"),
        ("shape-too-big.npy", "truncated: shape (5, 3) of float32 promises 60 bytes of data, but only 48"),
        ("trailing.npy", "3 trailing bytes after the 48 bytes of data"),
        ("shape-too-small.npy", "24 trailing bytes after the 24 bytes of data that shape (2, 3) of float32 promises"),
        ("version-4.npy", "unsupported .npy format version 4.0"),
        ("fortran.npy", "Fortran order is not supported; save with np.ascontiguousarray"),
        ("bigendian-f4.npy", "dtype '>f4' is big-endian; save with arr.astype('<f4')"),
        ("bigendian-i8.npy", "dtype '>i8' is big-endian; save with arr.astype('<i8')"),
        ("object.npy", "dtype '|O' (object: pickled Python objects) is not supported"),
        ("unicode.npy", "dtype '<U3' (unicode strings) is not supported"),
        ("bytes.npy", "dtype '|S3' (byte strings) is not supported"),
        ("bool.npy", "dtype '|b1' (bool) is not supported; save with arr.astype('uint8')"),
        ("float16.npy", "dtype '<f2' (float16) is not supported; save with arr.astype('<f4')"),
        ("complex.npy", "dtype '<c8' (complex) is not supported"),
        ("uint16.npy", "dtype '<u2' (uint16) is not supported; save with arr.astype('<i4')"),
        ("datetime.npy", "dtype '<M8[D]' (datetime) is not supported"),
        ("structured.npy", "structured dtype (a list of fields) is not supported"),
        ("list-header.npy", "header is not a Python dict but a list"),
        ("missing-key.npy", "header lacks 'fortran_order'"),
        ("unknown-key.npy", "unknown key 'order' in the header"),
        ("duplicate-key.npy", "key 'shape' appears twice in the header"),
        ("negative-shape.npy", "'shape' has a negative size -4"),
        ("float-shape.npy", "'shape' has '12.0', not an integer"),
        ("long-v3.npy", "'shape' has '4L', not an integer"),  // Python 2's 4L only in versions 1.0 and 2.0
        ("list-shape.npy", "'shape' is '[4, 3]', not a tuple of integers"),
        ("many-dims.npy", "'shape' has 33 dimensions, more than 32"),
        ("overflow-shape.npy", "shape (1099511627776, 1099511627776) is too large"),
        ("huge-size.npy", "'shape' has a size '1000000000000000000000000000000' too large to exist"),
        ("unterminated.npy", "header is not a valid Python literal: unterminated string"),
        ("after-dict.npy", "unexpected 'x' after the header's dict"),
        ("fortran-not-bool.npy", "'fortran_order' is '0', not True or False"),
        ("deep.npy", "nested more than 16 levels deep"),

        ("text.npz", "is not a zip file (np.savez output)"),
        ("npy.npz", "is not a zip file (np.savez output) but a .npy file"),
        ("cut-half.npz", "truncated or corrupt zip archive: no end of central directory record"),
        ("cut-last.npz", "truncated or corrupt zip archive"),
        ("directory-offset.npz", "corrupt central directory: the end record puts it at byte"),
        ("entries.npz", "corrupt central directory: 3 entries cannot fit"),
        ("one-entry.npz", "corrupt central directory: 51 bytes follow the 1 entry the end record counts"),
        ("signature.npz", "corrupt central directory: entry 1 of 2 does not begin with the signature"),
        ("no-zip64-extra.npz", "a 32-bit size or offset of 0xFFFFFFFF but no ZIP64 extra field"),
        ("zip64-locator.npz", "the ZIP64 end locator points to byte 3"),
        ("multi-disk.npz", "split over several disks"),
        ("member-size.npz", "member 'x.npy' is out of bounds: its 100000 bytes from byte 55 run past"),
        ("local-offset.npz", "member 'x.npy' is out of bounds: its local header at byte 4294967040"),
        ("local-name.npz", "member 'x.npy' is corrupt: its local header at byte 0 names another file"),
        ("encrypted.npz", "member 'x.npy' is encrypted"),
        ("duplicate.npz", "member 'x.npy' appears twice in the archive"),
        ("x-and-x-npy.npz", "members 'x' and 'x.npy' both give the array 'x'"),
    ]

    func testEveryBadFileIsOneDataErrorNamingIt() throws {
        let directory = try NumPyFiles.generate(NumPyFiles.bad, in: try scratchDirectory())
        let written = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix("ok-") }
        XCTAssertEqual(Set(written), Set(Self.badFiles.map(\.file)), "every bad file is in the table")
        for (file, phrase) in Self.badFiles {
            let path = directory + "/" + file
            try NumPyFiles.withBytes(of: path) { bytes in
                if file.hasSuffix(".npz") {
                    assertTrainerError(.data, subject: path, [phrase]) { try NPZArchive.members(bytes, path: path) }
                } else {
                    assertTrainerError(.data, subject: path, [phrase]) { try NumPyHeader.parse(bytes, path: path) }
                }
            }
        }
    }

    func testTheTypesAndTheirSizes() {
        XCTAssertEqual(NumPyHeader.DType.allCases.map { "\($0.name) \($0.descr) \($0.byteSize)" }, [
            "float32 <f4 4", "float64 <f8 8", "uint8 |u1 1", "int8 |i1 1", "int16 <i2 2", "int32 <i4 4", "int64 <i8 8",
        ])
    }
}

/// `bytes` as lower-case hex, as Python's bytes.hex() writes them.
private func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
