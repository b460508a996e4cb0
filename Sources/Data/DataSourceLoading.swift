import Support

extension DataSource {
    /// Loads `split`. idx and fashion-mnist: `train-images-idx3-ubyte[.gz]` and
    /// `train-labels-idx1-ubyte[.gz]` (test: `t10k-…`), the raw file preferred if both exist.
    /// csv: the file itself for either split. Synthetic: generated from `seed` (train and test
    /// differ but share blob centres and regression weights), named e.g. `xor (train)`.
    /// Throws `.noInput` for missing input, `.data` for bad contents.
    /// `label`: the label's column of a CSV file (ignored by other sources).
    public func load(split: Split, seed: UInt64, label: LabelColumn = .first) throws -> Dataset {
        let synthetic = "\(description) (\(split == .train ? "train" : "test"))"
        switch self {
        case .fashionMNIST:
            return try loadIDX(directory: DataSource.fashionMNISTDirectory, split: split)
        case .idx(let directory):
            return try loadIDX(directory: directory, split: split)
        case .csv(let path):
            return try loadCSV(path: path, label: label)
        case .npy(let features, let labels):
            return try NumPyInput.load(features: features, labels: labels)
        case .npz(let path):
            return try NumPyInput.load(npz: path)
        case .xor(let count):
            return makeXor(count: count, seed: seed, split: split, name: synthetic)
        case .blobs(let count, let classes, let dimensions):
            return makeBlobs(count: count, classes: classes, dimensions: dimensions, seed: seed, split: split,
                             name: synthetic)
        case .linear(let count, let dimensions):
            return makeLinear(count: count, dimensions: dimensions, seed: seed, split: split, name: synthetic)
        }
    }
}
