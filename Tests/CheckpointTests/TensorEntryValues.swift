import Checkpoint

/// F64 and I64 tensors, which trainer never writes but other safetensors files hold: the tests
/// make and read them through the public byte-level API.
extension TensorEntry {
    init(name: String, shape: [Int], doubles: UnsafeBufferPointer<Double>) {
        try! self.init(name: name, dtype: .f64, shape: shape, bytes: doubles.flatMap { littleEndian($0.bitPattern) })
    }

    init(name: String, shape: [Int], int64s: [Int64]) {
        try! self.init(name: name, dtype: .i64, shape: shape, bytes: int64s.flatMap { littleEndian(UInt64(bitPattern: $0)) })
    }

    func doubles() -> [Double]? { dtype == .f64 ? words().map { Double(bitPattern: $0) } : nil }

    func int64s() -> [Int64]? { dtype == .i64 ? words().map { Int64(bitPattern: $0) } : nil }

    private func words() -> [UInt64] {
        stride(from: 0, to: bytes.count, by: 8).map { offset in
            bytes[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
    }
}

private func littleEndian(_ word: UInt64) -> [UInt8] { withUnsafeBytes(of: word.littleEndian) { Array($0) } }
