import ArgumentParser
import Data
import Support

/// `trainer convert SOURCE OUT.npz`: a data set decoded once, written as NumPy arrays that
/// `--data npz:OUT.npz` maps (and NumPy reads).
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write a data set as an .npz of NumPy arrays (x: features, y: labels), decoded once.",
        discussion: "SOURCE takes the forms of train --data. x keeps the features' element type (uint8 for IDX pixels — read back scaled by 1/255 as they were — float32 for CSV); y is int64 when every label is a whole number, else float32. Train on it with --data npz:OUT.npz.")

    @Argument(help: "The data, as for `train --data`.")
    var source: String

    @Argument(help: "The .npz file to write (replaced atomically).")
    var output: String

    @Option(help: "Which split of the data.")
    var split = DataSource.Split.train

    @Option(help: "CSV data: the label's column, by name or number from 0.")
    var labelColumn = "0"

    @Option(help: "The seed of a synthetic source.")
    var seed: UInt64 = 0

    func run() throws {
        let data = try DataSource(parsing: source, flag: "SOURCE").load(split: split, seed: seed, label: try LabelColumn(parsing: labelColumn))
        let whole = data.labels.allSatisfy { $0.rounded(.towardZero) == $0 }
        let integers = whole ? data.labels.map { Int64($0) } : []
        try data.withStoredFeatures { element, features in
            let write = { (labels: UnsafeRawBufferPointer) in
                try NumPyOutput.writeNPZ([
                    .init(name: "x", element: element, shape: [data.count, data.featureCount], bytes: features),
                    .init(name: "y", element: whole ? .int64 : .float32, shape: [data.count], bytes: labels),
                ], to: output)
            }
            try whole ? integers.withUnsafeBytes(write) : data.labels.withUnsafeBytes(write)
        }
        print("\(data.name): \(data.count) samples of \(data.featureCount) features → \(output)")
    }
}
