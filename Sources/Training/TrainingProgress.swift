/// Where a run stands — with the parameters and the optimizer's state, everything a bit-exact
/// resume needs (the data order is a function of (seed, epoch), the rate of the global step).
public struct TrainingProgress: Sendable, Equatable {
    public var epochsCompleted = 0
    /// Steps completed in the epoch in progress.
    public var stepInEpoch = 0
    public var globalStep = 0
    public var samplesSeen = 0
    /// Global sums over the steps of the epoch in progress, for its train_loss and train_accuracy.
    public var epochLossSum = 0.0
    public var epochCorrect = 0.0
    public var epochSamples = 0.0
    /// The lowest epoch-end validation loss so far (`--validation`), and the global step of its
    /// checkpoint (what `best` names with `--keep-best`).
    public var bestValidation: BestValidation?

    public struct BestValidation: Sendable, Equatable {
        public var loss: Double
        public var globalStep: Int
    }

    public init() {}

    /// Notes the validation loss at the end of the epoch just finished; true when it is the lowest yet.
    mutating func noteValidation(loss: Double) -> Bool {
        if let best = bestValidation, !(loss < best.loss) { return false }
        bestValidation = BestValidation(loss: loss, globalStep: globalStep)
        return true
    }

    mutating func record(_ step: StepStatistics) {
        stepInEpoch += 1
        globalStep += 1
        guard !step.local else { return }  // a local round's sums come at its end
        epochLossSum += step.lossSum
        epochCorrect += step.correct
        epochSamples += step.count
        samplesSeen += Int(step.count)
    }

    mutating func finishEpoch() {
        epochsCompleted += 1
        stepInEpoch = 0
        epochLossSum = 0
        epochCorrect = 0
        epochSamples = 0
    }
}

/// What a progress display needs after each step.
public struct StepReport: Sendable {
    /// 1-based epoch and step within it.
    public let epoch: Int, epochs: Int
    public let step: Int, stepsPerEpoch: Int
    public let globalStep: Int
    /// The step's global mean loss and its global sample count.
    public let loss: Double
    public let samples: Int
}
