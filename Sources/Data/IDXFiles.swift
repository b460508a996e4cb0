import Support

/// Magic number of IDX3 unsigned-byte files (images: count × rows × columns).
let idxImagesMagic: UInt32 = 0x0000_0803
/// Magic number of IDX1 unsigned-byte files (labels: count).
let idxLabelsMagic: UInt32 = 0x0000_0801

/// Pixels of an IDX3 images file.
struct IDXImages {
    let pixels: [UInt8]
    let count: Int
    let rows: Int
    let columns: Int
}

/// Decodes the IDX3 uint8 images `file` read from `path` (`imagesHeader`'s checks). Throws
/// `.data` naming `path`. Takes `file` by value and strips the header in place, so the pixels
/// are not copied (the images of Fashion-MNIST are 47 MB: a copy would be the largest
/// allocation of a run).
func decodeIDXImages(_ file: consuming [UInt8], path: String) throws -> IDXImages {
    var bytes = file
    let (header, count, rows, columns) = try imagesHeader(bytes, path: path)
    bytes.removeFirst(header.size)
    return IDXImages(pixels: bytes, count: count, rows: rows, columns: columns)
}

/// The images of the raw IDX3 uint8 file mapped in `file`, as mapped rows (pixels scaled by
/// 1/255), with `imagesHeader`'s checks. Throws `.data` naming the file.
func mappedIDXImages(_ file: MappedFile) throws -> MappedRows {
    let (header, count, rows, columns) = try imagesHeader(file.bytes, path: file.path)
    return MappedRows(file: file, offset: header.size, element: .uint8, count: count, featureCount: rows * columns)
}

/// The header of the IDX3 uint8 images file `bytes` (read from `path`) and its sizes. Checks
/// the magic number, that no size is zero, that exactly the promised pixels follow the header
/// (no fewer, no more) and that the count is at most `Dataset.maximumSampleCount`. Throws `.data`.
private func imagesHeader<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, path: String) throws
    -> (header: IDXHeader, count: Int, rows: Int, columns: Int) where Bytes.Index == Int {
    let header = try IDXHeader(bytes, path: path, expectedMagic: idxImagesMagic, kind: "IDX3 uint8 images")
    let count = header.dimensions[0], rows = header.dimensions[1], columns = header.dimensions[2]
    let promise = "\(count) images of \(rows)×\(columns)"
    guard count > 0, rows > 0, columns > 0 else {
        throw TrainerError(.data, subject: path, "header promises \(promise): no pixels")
    }
    try checkPayload(bytes.count - header.size, against: header, promise: promise, path: path)
    guard count <= Dataset.maximumSampleCount else {
        throw TrainerError(.data, subject: path, "has \(count) images; at most \(Dataset.maximumSampleCount) are supported")
    }
    return (header, count, rows, columns)
}

/// Decodes the IDX1 uint8 labels file `bytes` read from `path` into one Float per label,
/// with the same checks as `decodeIDXImages`. Throws `.data` naming `path`.
func decodeIDXLabels(_ bytes: [UInt8], path: String) throws -> [Float] {
    let header = try IDXHeader(bytes, path: path, expectedMagic: idxLabelsMagic, kind: "IDX1 uint8 labels")
    let count = header.dimensions[0]
    guard count > 0 else {
        throw TrainerError(.data, subject: path, "header promises 0 labels")
    }
    try checkPayload(bytes.count - header.size, against: header, promise: "\(count) labels", path: path)
    return bytes[header.size...].map { Float($0) }
}

/// Throws `.data` unless exactly the `actual` payload bytes the header promises follow it.
private func checkPayload(_ actual: Int, against header: IDXHeader, promise: String, path: String) throws {
    guard let expected = header.payloadSize else {
        throw TrainerError(.data, subject: path, "header promises \(promise): too large to exist")
    }
    if actual < expected {
        throw TrainerError(.data, subject: path,
            "truncated: header promises \(promise) = \(expected) bytes after the \(header.size)-byte header, "
            + "but the file has only \(actual)")
    }
    if actual > expected {
        throw TrainerError(.data, subject: path,
            "\(actual - expected) trailing byte\(actual - expected == 1 ? "" : "s") after the \(expected) bytes the header promises (\(promise))")
    }
}
