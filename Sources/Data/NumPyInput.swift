import Support

/// Data sets from NumPy arrays: `npy:FEATURES.npy,LABELS.npy` (two `np.save` files) and
/// `npz:FILE.npz` (an `np.savez` archive with arrays `x` or `X`, and `y`). The features are
/// mapped read-only and never copied (`FeatureStorage.mapped`): N × D, or N × d₁ × d₂ …
/// flattened per sample, of float32, float64, uint8 (scaled by 1/255, as IDX images are), int8,
/// int16, int32 or int64. The labels (a vector of N, or N × 1) are read into Floats: integers
/// exactly (|y| ≤ 2²⁴), floats as regression targets or classes; NaN and ±∞ are refused.
/// Errors are one line naming the file: `.noInput` for a missing file, `.data` for the rest.
public enum NumPyInput {
    /// One array of a file: its header, and where its data start in the file.
    public struct Array {
        public let file: MappedFile
        public let header: NumPyHeader
        /// The data's first byte in `file`.
        public let offset: Int
        /// For messages: the .npy file, or `FILE.npz (x)`.
        public let name: String
    }

    /// The array in the .npy file at `path`.
    public static func array(npy path: String) throws -> Array {
        let file = try MappedFile(path)
        let header = try NumPyHeader.parse(file.bytes, path: path)
        return Array(file: file, header: header, offset: header.dataOffset, name: path)
    }

    /// The first of `names` (without ".npy") in the archive at `path`; nil when it holds none
    /// of them. A compressed member (`np.savez_compressed`) is refused with a hint.
    public static func array(npz path: String, named names: [String], file: MappedFile) throws -> Array? {
        let members = try NPZArchive.members(file.bytes, path: path)
        guard let member = names.lazy.compactMap({ name in members.first { $0.name == name } }).first else { return nil }
        let name = "\(path) (\(member.name))"
        guard member.stored else {
            throw TrainerError(.data, subject: name,
                               "is compressed (np.savez_compressed), which cannot be mapped; save with np.savez, or convert once with trainer convert \(path) OUT.npz")
        }
        let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[member.offset..<(member.offset + member.size)])
        let header = try NumPyHeader.parse(bytes, path: name)
        return Array(file: file, header: header, offset: member.offset + header.dataOffset, name: name)
    }

    /// `npy:FEATURES.npy,LABELS.npy`.
    static func load(features: String, labels: String) throws -> Dataset {
        try dataset(features: try array(npy: features), labels: try array(npy: labels))
    }

    /// `npz:FILE.npz`.
    static func load(npz path: String) throws -> Dataset {
        let file = try MappedFile(path)
        guard let x = try array(npz: path, named: ["x", "X"], file: file) else {
            throw TrainerError(.data, subject: path, "holds no array x or X (the features); np.savez(FILE, x=features, y=labels)")
        }
        guard let y = try array(npz: path, named: ["y"], file: file) else {
            throw TrainerError(.data, subject: path, "holds no array y (the labels); np.savez(FILE, x=features, y=labels)")
        }
        return try dataset(features: x, labels: y)
    }

    /// The samples of `features`, and the labels of `labels`, which must be as many.
    static func dataset(features x: Array, labels y: Array) throws -> Dataset {
        let rows = try self.rows(x)
        let count = y.header.shape.first ?? 1
        guard y.header.shape.count == 1 || (y.header.shape.count == 2 && y.header.shape[1] == 1) else {
            throw TrainerError(.data, subject: y.name, "labels must be a vector of N values (or N × 1), but the shape is \(shape(y.header.shape))")
        }
        guard count == rows.count else {
            throw TrainerError(.data, subject: y.name, "has \(count) labels but \(x.name) has \(rows.count) samples")
        }
        return Dataset(name: x.name, count: rows.count, featureCount: rows.featureCount, storage: .mapped(rows),
                       labels: try labels(y), labelSource: y.name)
    }

    /// The samples of `x` without labels (`trainer predict`).
    public static func unlabeled(_ x: Array) throws -> Dataset {
        let rows = try self.rows(x)
        return Dataset(name: x.name, count: rows.count, featureCount: rows.featureCount, storage: .mapped(rows),
                       labels: [Float](repeating: 0, count: rows.count))
    }

    /// `x`'s samples as mapped rows: the first dimension counts them, the others multiply into
    /// the features of each (a vector: one feature).
    static func rows(_ x: Array) throws -> MappedRows {
        let shape = x.header.shape
        guard let count = shape.first, count >= 1 else {
            throw TrainerError(.data, subject: x.name, "has no samples (shape \(self.shape(shape)))")
        }
        guard count <= Dataset.maximumSampleCount else {
            throw TrainerError(.data, subject: x.name, "has \(count) samples; at most \(Dataset.maximumSampleCount) are supported")
        }
        var features = 1
        for d in shape.dropFirst() {
            let (product, overflow) = features.multipliedReportingOverflow(by: d)
            guard !overflow else { throw TrainerError(.data, subject: x.name, "shape \(self.shape(shape)) is too large") }
            features = product
        }
        guard features >= 1 else {
            throw TrainerError(.data, subject: x.name, "has no features (shape \(self.shape(shape)))")
        }
        return MappedRows(file: x.file, offset: x.offset, element: x.header.dtype, count: count, featureCount: features)
    }

    /// The labels of `y`: converted to float32 (one pass, which also finds their facts) at most
    /// once per machine into the data cache, and mapped from it (`DataCache.labels`).
    static func labels(_ y: Array) throws -> Labels {
        try DataCache.labels(of: [y.file.path], variant: "labels \(y.name) \(y.offset)") { try converted(y) }
    }

    /// The labels of `y` as Floats, checked: integers exactly (|y| ≤ 2²⁴), no NaN or ±∞.
    static func converted(_ y: Array) throws -> [Float] {
        let count = y.header.shape.first ?? 1, base = y.file.bytes.baseAddress! + y.offset
        var labels = [Float](repeating: 0, count: count)
        func fail(_ index: Int, _ value: String, _ problem: String) -> TrainerError {
            TrainerError(.data, subject: y.name, "label \(value) of sample \(index) \(problem)")
        }
        func whole<I: BinaryInteger>(_: I.Type) throws {
            for i in 0..<count {
                let v = base.loadUnaligned(fromByteOffset: i * MemoryLayout<I>.size, as: I.self)
                guard v.magnitude <= 1 << 24 else { throw fail(i, "\(v)", "is beyond 2^24, which a Float label cannot hold exactly") }
                labels[i] = Float(v)
            }
        }
        func real<F: BinaryFloatingPoint>(_: F.Type) throws {
            for i in 0..<count {
                let v = base.loadUnaligned(fromByteOffset: i * MemoryLayout<F>.size, as: F.self)
                guard v.isFinite else { throw fail(i, "\(v)", "is not a number (NaN or infinite)") }
                let f = Float(v)
                guard f.isFinite else { throw fail(i, "\(v)", "is beyond Float's range") }
                labels[i] = f
            }
        }
        switch y.header.dtype {
        case .uint8: try whole(UInt8.self)
        case .int8: try whole(Int8.self)
        case .int16: try whole(Int16.self)
        case .int32: try whole(Int32.self)
        case .int64: try whole(Int64.self)
        case .float32: try real(Float.self)
        case .float64: try real(Double.self)
        }
        return labels
    }

    /// A shape as NumPy prints it: (3,), (3, 4).
    static func shape(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
}
