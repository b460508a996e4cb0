import Support

/// One tensor of a safetensors file: a name, an element type, a shape (row-major) and the raw
/// little-endian bytes of its elements.
///
/// An entry is always consistent: `bytes.count == elementCount * dtype.byteSize` and every
/// dimension is non-negative. The initialisers enforce it.
public struct TensorEntry: Sendable, Equatable {
    public let name: String
    public let dtype: TensorDType
    public let shape: [Int]
    /// The elements' raw little-endian bytes, row-major.
    public let bytes: [UInt8]
    /// The number of elements: the product of `shape` (1 for a scalar, shape `[]`).
    public let elementCount: Int

    /// Builds an entry from raw little-endian bytes, checking that they fit the shape.
    /// Throws `.data` naming the tensor if a dimension is negative, the element count overflows,
    /// or the byte count is not `elementCount * dtype.byteSize`.
    public init(name: String, dtype: TensorDType, shape: [Int], bytes: [UInt8]) throws {
        let subject = "tensor '\(Self.shortened(name))'"
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TrainerError(.data, subject: subject, "shape \(shape) has a negative dimension")
        }
        guard let count = Self.product(of: shape), let byteCount = Self.checkedMultiply(count, dtype.byteSize) else {
            throw TrainerError(.data, subject: subject, "shape \(shape) is too large")
        }
        guard byteCount == bytes.count else {
            throw TrainerError(
                .data, subject: subject,
                "shape \(shape) of \(dtype.rawValue) needs \(byteCount) bytes, got \(bytes.count)")
        }
        self.init(validatedName: name, dtype: dtype, shape: shape, bytes: bytes, elementCount: count)
    }

    /// For callers that have already checked every invariant (the decoder).
    init(validatedName name: String, dtype: TensorDType, shape: [Int], bytes: [UInt8], elementCount: Int) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
        self.elementCount = elementCount
    }

    /// The product of `dims`, folded left to right; nil if a dimension is negative or an
    /// intermediate product overflows (as the reference implementation does).
    static func product(of dims: [Int]) -> Int? {
        var result = 1
        for dim in dims {
            guard dim >= 0, let next = checkedMultiply(result, dim) else { return nil }
            result = next
        }
        return result
    }

    static func checkedMultiply(_ a: Int, _ b: Int) -> Int? {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : value
    }

    /// A name fit for a one-line message: names come from files and may be huge.
    static func shortened(_ name: String) -> String {
        let limit = 80
        guard name.count > limit else { return name }
        return String(name.prefix(limit)) + "…"
    }
}

// MARK: - Typed construction and access

extension TensorEntry {
    /// An F32 tensor from host floats. Precondition: the shape's element count equals `floats.count`.
    public init(name: String, shape: [Int], floats: UnsafeBufferPointer<Float>) {
        self.init(name: name, dtype: .f32, shape: shape,
                  littleEndianBytes: Self.encode(floats) { $0.bitPattern })
    }

    /// An F64 tensor from host doubles. Precondition: the shape's element count equals `doubles.count`.
    public init(name: String, shape: [Int], doubles: UnsafeBufferPointer<Double>) {
        self.init(name: name, dtype: .f64, shape: shape,
                  littleEndianBytes: Self.encode(doubles) { $0.bitPattern })
    }

    private init(name: String, dtype: TensorDType, shape: [Int], littleEndianBytes bytes: [UInt8]) {
        guard let count = Self.product(of: shape), Self.checkedMultiply(count, dtype.byteSize) == bytes.count else {
            preconditionFailure(
                "TensorEntry '\(Self.shortened(name))': shape \(shape) does not hold \(bytes.count / dtype.byteSize) elements")
        }
        self.init(validatedName: name, dtype: dtype, shape: shape, bytes: bytes, elementCount: count)
    }

    /// Copies this F32 tensor into `destination`. Throws `.data` naming `source` and the tensor if
    /// the dtype is not F32 or the element count differs from `destination.count`.
    public func copyFloats(into destination: UnsafeMutableBufferPointer<Float>, source: String) throws {
        guard dtype == .f32 else {
            throw TrainerError(
                .data, subject: source,
                "tensor '\(Self.shortened(name))' has dtype \(dtype.rawValue), expected F32")
        }
        guard elementCount == destination.count else {
            throw TrainerError(
                .data, subject: source,
                "tensor '\(Self.shortened(name))' has \(elementCount) elements (shape \(shape)), expected \(destination.count)")
        }
        bytes.withUnsafeBytes { raw in
            for index in 0..<elementCount {
                let bits = raw.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self)
                destination[index] = Float(bitPattern: UInt32(littleEndian: bits))
            }
        }
    }

    /// The elements as host floats, or nil unless the dtype is F32.
    public func floats() -> [Float]? {
        guard dtype == .f32 else { return nil }
        return decode(UInt32.self) { Float(bitPattern: $0) }
    }

    /// The elements as host doubles, or nil unless the dtype is F64.
    public func doubles() -> [Double]? {
        guard dtype == .f64 else { return nil }
        return decode(UInt64.self) { Double(bitPattern: $0) }
    }

    private static func encode<Element, Bits: FixedWidthInteger>(
        _ values: UnsafeBufferPointer<Element>, _ bits: (Element) -> Bits
    ) -> [UInt8] {
        let width = MemoryLayout<Bits>.size
        return [UInt8](unsafeUninitializedCapacity: values.count * width) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for (index, value) in values.enumerated() {
                raw.storeBytes(of: bits(value).littleEndian, toByteOffset: index * width, as: Bits.self)
            }
            initialized = values.count * width
        }
    }

    private func decode<Bits: FixedWidthInteger, Element>(
        _: Bits.Type, _ make: (Bits) -> Element
    ) -> [Element] {
        let width = MemoryLayout<Bits>.size
        return bytes.withUnsafeBytes { raw in
            (0..<elementCount).map { index in
                make(Bits(littleEndian: raw.loadUnaligned(fromByteOffset: index &* width, as: Bits.self)))
            }
        }
    }
}
