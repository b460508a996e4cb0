/// Where data come from: the value of `--data` / `--test-data`.
///
/// Parsed by `init(parsing:flag:)`, loaded by `load(split:seed:)`, printed by `description`
/// in the shortest form that parses back to the same value.
public enum DataSource: Sendable, Equatable, CustomStringConvertible {
    /// "fashion-mnist": the IDX files in `DataSource.fashionMNISTDirectory`.
    case fashionMNIST
    /// "idx:DIR": train-/t10k- images and labels IDX files in DIR, raw or gzip.
    case idx(directory: String)
    /// "csv:FILE": label in the first column, features in the rest; the same file for both splits.
    case csv(path: String)
    /// "npy:FEATURES.npy,LABELS.npy": NumPy arrays (`np.save`), features N × D (or N × d₁ × d₂ …,
    /// flattened per sample), labels N; the same arrays for both splits.
    case npy(features: String, labels: String)
    /// "npz:FILE.npz": an `np.savez` archive holding arrays `x` (or `X`) and `y`; the same for both splits.
    case npz(path: String)
    /// "xor" or "xor:N": noisy XOR in two dimensions, N samples per split (default 200).
    case xor(count: Int)
    /// "blobs[:N[:K[:D]]]": K Gaussian blobs in D dimensions, N samples per split (default 300, 2, 2).
    case blobs(count: Int, classes: Int, dimensions: Int)
    /// "linear[:N[:D]]": noisy linear regression in D dimensions, N samples per split (default 200, 1).
    case linear(count: Int, dimensions: Int)

    /// Which half of a data source to load.
    public enum Split: String, Sendable, CaseIterable {
        case test, train
    }

    /// Whether the source has a test split of its own (IDX sets and synthetic sets); a file of
    /// samples (CSV, NumPy) is one split, and its test data come from `--test-data`.
    public var hasTestSplit: Bool {
        switch self {
        case .csv, .npy, .npz: return false
        case .fashionMNIST, .idx, .xor, .blobs, .linear: return true
        }
    }

    /// Where "fashion-mnist" is read from.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    /// The source as the user would write it; parses back to `self`.
    public var description: String {
        switch self {
        case .fashionMNIST:
            return "fashion-mnist"
        case .idx(let directory):
            return "idx:\(directory)"
        case .csv(let path):
            return "csv:\(path)"
        case .npy(let features, let labels):
            return "npy:\(features),\(labels)"
        case .npz(let path):
            return "npz:\(path)"
        case .xor(let count):
            return shortest("xor", [count], defaults: SyntheticDefaults.xor)
        case .blobs(let count, let classes, let dimensions):
            return shortest("blobs", [count, classes, dimensions], defaults: SyntheticDefaults.blobs)
        case .linear(let count, let dimensions):
            return shortest("linear", [count, dimensions], defaults: SyntheticDefaults.linear)
        }
    }
}

/// Default N, K, D of the synthetic sources, in the order they are written.
enum SyntheticDefaults {
    static let xor = [200]
    static let blobs = [300, 2, 2]
    static let linear = [200, 1]
}

/// `name` followed by `:value` for each value up to the last one that differs from its default.
private func shortest(_ name: String, _ values: [Int], defaults: [Int]) -> String {
    var kept = values.count
    while kept > 0 && values[kept - 1] == defaults[kept - 1] { kept -= 1 }
    return ([name] + values.prefix(kept).map(String.init)).joined(separator: ":")
}
