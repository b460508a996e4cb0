import Data
import Models
import KernelCore
import Support

/// The training and test sets of a configuration, loaded and checked against each other and the
/// model: same feature count, labels that are classes 0..<K when the loss classifies.
public struct PreparedData: Sendable {
    public let train: Dataset
    public let test: Dataset?
    /// K for classification, nil for regression.
    public let classes: Int?
    public let architecture: Architecture
    /// CRC-32s of the training and test data (`Dataset.checksum`), computed once.
    public let trainChecksum: UInt32
    public let testChecksum: UInt32?

    public init(_ configuration: TrainingConfiguration) throws {
        train = try configuration.data.load(split: .train, seed: configuration.seed)
        if let source = configuration.testData {
            test = try source.load(split: .test, seed: configuration.seed)
        } else if case .csv = configuration.data {
            test = nil
        } else {
            test = try configuration.data.load(split: .test, seed: configuration.seed)
        }
        if let test, test.featureCount != train.featureCount {
            throw TrainerError(.data, subject: test.name,
                               "has \(test.featureCount) features per sample but the training data \(train.name) has \(train.featureCount)")
        }
        let loss = configuration.model.loss
        if loss.isClassification {
            let inferred = train.inferredClassCount
            guard let classes = configuration.classes ?? inferred.map({ loss.usesSingleScore ? max($0, 2) : $0 }) else {
                throw TrainerError(.data, subject: train.name,
                                   "labels must be whole numbers 0, 1, … for the classifier \(configuration.model); use a regression model (linear, or mlp:…:mse) for real-valued targets")
            }
            try train.validateClassLabels(classes: classes)
            try test?.validateClassLabels(classes: classes)
            self.classes = classes
        } else {
            classes = nil
        }
        architecture = try configuration.model.architecture(inputCount: train.featureCount, classes: classes)
        trainChecksum = train.checksum()
        testChecksum = test?.checksum()
    }
}
