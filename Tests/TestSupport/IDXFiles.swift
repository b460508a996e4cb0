/// IDX files (the format of MNIST and Fashion-MNIST), written byte by byte for the tests that
/// load them or hand them to `trainer`: big-endian magic number, dimensions, then the bytes.

/// `value` as four big-endian bytes.
func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
}

/// An IDX3 images file: header (with the given magic and sizes) followed by `pixels`.
public func idxImages(count: UInt32, rows: UInt32, columns: UInt32, pixels: [UInt8], magic: UInt32 = 0x0803) -> [UInt8] {
    bigEndian(magic) + bigEndian(count) + bigEndian(rows) + bigEndian(columns) + pixels
}

/// An IDX1 labels file: header (count defaults to the number of labels) followed by `labels`.
public func idxLabels(_ labels: [UInt8], count: UInt32? = nil, magic: UInt32 = 0x0801) -> [UInt8] {
    bigEndian(magic) + bigEndian(count ?? UInt32(labels.count)) + labels
}
