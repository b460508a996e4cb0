import Batching
import Data
import Models
import KernelCore
import Support

/// The training, validation and test sets of a configuration, loaded and checked against each
/// other and the model: same feature count, labels that are classes 0..<K when the loss classifies.
public struct PreparedData: Sendable {
    /// The training samples — without the validation samples, when `--validation` holds some out.
    public let train: Dataset
    /// `--validation N`: N training samples chosen by the seed, never trained on.
    public let validation: Dataset?
    public let test: Dataset?
    /// K for classification, nil for regression.
    public let classes: Int?
    public let architecture: Architecture
    /// What identifies the training and test data without a pass over them (`Dataset.sampleChecksum`).
    public let trainIdentity: UInt32
    public let testIdentity: UInt32?
    /// The CRC-32 of all the training data, before any was held out (`Dataset.checksum`): one
    /// pass over them, made only to resume a checkpoint of an earlier version, which recorded it.
    public let sourceChecksum: @Sendable () -> UInt32

    public init(_ configuration: TrainingConfiguration) throws {
        let label = configuration.labelColumn
        let all = try configuration.data.load(split: .train, seed: configuration.seed, label: label)
        (train, validation) = try Self.holdOut(configuration.validation, of: all, seed: configuration.seed)
        if let source = configuration.testData {
            test = try source.load(split: .test, seed: configuration.seed, label: label)
        } else if !configuration.data.hasTestSplit {
            test = nil
        } else {
            test = try configuration.data.load(split: .test, seed: configuration.seed, label: label)
        }
        if let test, test.featureCount != train.featureCount {
            throw TrainerError(.data, subject: test.name,
                               "has \(test.featureCount) features per sample but the training data \(train.name) has \(train.featureCount)")
        }
        let loss = configuration.model.loss
        if loss.isClassification {
            let inferred = all.inferredClassCount
            guard let classes = configuration.classes ?? inferred.map({ loss.usesSingleScore ? max($0, 2) : $0 }) else {
                throw TrainerError(.data, subject: all.labelSource, (all.firstNonClassLabel.map { "\($0) is not a class: " } ?? "")
                                   + "labels must be whole numbers 0, 1, … for the classifier \(configuration.model); use a regression model (linear, or mlp:…:mse) for real-valued targets")
            }
            try all.validateClassLabels(classes: classes)
            try test?.validateClassLabels(classes: classes)
            self.classes = classes
        } else {
            classes = nil
        }
        architecture = try configuration.model.architecture(inputCount: train.featureCount, classes: classes)
        trainIdentity = all.sampleChecksum()
        testIdentity = test?.sampleChecksum()
        sourceChecksum = { all.checksum() }
    }

    /// `count` samples of `all` for validation, chosen by `seed` (the first `count` of a
    /// permutation of its own stream, kept in file order), and the rest for training.
    static func holdOut(_ count: Int, of all: Dataset, seed: UInt64) throws -> (train: Dataset, validation: Dataset?) {
        guard count > 0 else { return (all, nil) }
        guard count < all.count else {
            throw TrainerError(.usage, subject: "--validation \(count)",
                               "must be less than the \(all.count) training samples of \(all.name)")
        }
        let chosen = seededPermutation(count: all.count, seed: seed, stream: .validation)
        var isHeldOut = [Bool](repeating: false, count: all.count)
        for index in chosen.prefix(count) { isHeldOut[Int(index)] = true }
        let rows = Array(0..<all.count)
        return (all.subset(rows.filter { !isHeldOut[$0] }, name: all.name),
                all.subset(rows.filter { isHeldOut[$0] }, name: "\(all.name) (validation)"))
    }
}
