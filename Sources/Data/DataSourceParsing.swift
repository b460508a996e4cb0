import Support

/// Limits on synthetic sizes, so that no flag value can exhaust memory.
enum SyntheticLimits {
    static let maximumCount = 10_000_000
    static let maximumClasses = 10_000
    static let maximumDimensions = 10_000
    /// Most features (N × D) one synthetic split may hold: 400 MB of floats.
    static let maximumFeatureValues = 100_000_000
}

extension DataSource {
    /// Parses the value of `flag` (e.g. "--data"): `fashion-mnist`, `idx:DIR`, `csv:FILE`,
    /// `npy:FEATURES.npy,LABELS.npy`, `npz:FILE.npz`, `xor[:N]`, `blobs[:N[:K[:D]]]` or `linear[:N[:D]]`. Throws `.usage` naming `flag` for
    /// unknown forms, empty paths, extra or non-integer fields, N < 1 or N > 10 000 000,
    /// K < 2 or K > 10 000, D < 1 or D > 10 000, and N × D > 100 000 000.
    public init(parsing text: String, flag: String) throws {
        func fail(_ problem: String) -> TrainerError {
            TrainerError(.usage, subject: flag, "\"\(text)\": \(problem)")
        }
        let forms = "expected fashion-mnist, idx:DIR, csv:FILE, npy:FEATURES.npy,LABELS.npy, npz:FILE.npz, xor[:N], blobs[:N[:K[:D]]] or linear[:N[:D]]"
        if text == "fashion-mnist" {
            self = .fashionMNIST
            return
        }
        if text.hasPrefix("npy:") {
            let paths = text.dropFirst(4).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard paths.count == 2, !paths[0].isEmpty, !paths[1].isEmpty else {
                throw fail("npy: takes two paths, features and labels: npy:FEATURES.npy,LABELS.npy")
            }
            self = .npy(features: paths[0], labels: paths[1])
            return
        }
        for (prefix, make) in [("idx:", DataSource.idx(directory:)), ("csv:", DataSource.csv(path:)), ("npz:", DataSource.npz(path:))] {
            guard text.hasPrefix(prefix) else { continue }
            let path = String(text.dropFirst(prefix.count))
            guard !path.isEmpty else { throw fail("the path after \(prefix) is empty") }
            self = make(path)
            return
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let name = parts.first.map(String.init) ?? ""
        let defaults: [Int]
        switch name {
        case "xor": defaults = SyntheticDefaults.xor
        case "blobs": defaults = SyntheticDefaults.blobs
        case "linear": defaults = SyntheticDefaults.linear
        default: throw fail("unknown data source; \(forms)")
        }
        let given = parts.dropFirst()
        guard given.count <= defaults.count else {
            throw fail("\(name) takes at most \(defaults.count) number\(defaults.count == 1 ? "" : "s")")
        }
        var values = defaults
        for (position, field) in given.enumerated() {
            guard let value = Int(field) else { throw fail("\"\(field)\" is not an integer") }
            values[position] = value
        }
        let count = values[0]
        guard count >= 1 else { throw fail("N must be at least 1") }
        guard count <= SyntheticLimits.maximumCount else {
            throw fail("N must be at most \(SyntheticLimits.maximumCount)")
        }
        switch name {
        case "xor":
            self = .xor(count: count)
        case "blobs":
            try DataSource.checkClasses(values[1], fail)
            try DataSource.checkDimensions(values[2], count: count, fail)
            self = .blobs(count: count, classes: values[1], dimensions: values[2])
        default:
            try DataSource.checkDimensions(values[1], count: count, fail)
            self = .linear(count: count, dimensions: values[1])
        }
    }

    /// Throws unless 2 ≤ `classes` ≤ the limit.
    private static func checkClasses(_ classes: Int, _ fail: (String) -> TrainerError) throws {
        guard classes >= 2 else { throw fail("K (classes) must be at least 2") }
        guard classes <= SyntheticLimits.maximumClasses else {
            throw fail("K (classes) must be at most \(SyntheticLimits.maximumClasses)")
        }
    }

    /// Throws unless 1 ≤ `dimensions` ≤ the limit and `count` × `dimensions` is within the limit.
    private static func checkDimensions(_ dimensions: Int, count: Int, _ fail: (String) -> TrainerError) throws {
        guard dimensions >= 1 else { throw fail("D (dimensions) must be at least 1") }
        guard dimensions <= SyntheticLimits.maximumDimensions else {
            throw fail("D (dimensions) must be at most \(SyntheticLimits.maximumDimensions)")
        }
        guard count * dimensions <= SyntheticLimits.maximumFeatureValues else {
            throw fail("N × D must be at most \(SyntheticLimits.maximumFeatureValues)")
        }
    }
}
