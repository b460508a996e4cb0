import ArgumentParser
import KernelCore
import Models
import Support
import Training

/// What `train` trains and `gradcheck` checks: the model, its regularisation and the seed of its
/// random start. One declaration for both commands, each with its own `Defaults`.
struct ModelOptions<Defaults: ModelDefaults>: ParsableArguments {
    @Option(help: ArgumentHelp("The model: linear | perceptron | multiperceptron | svm | softmax | logistic | mlp:WIDTHS[:ACTIVATION[:LOSS]], optionally prefixed by polyD+.",
                               discussion: "e.g. mlp:256-128:relu (softmax cross-entropy head), mlp:16:tanh:mse, poly2+logistic."))
    var model = Defaults.model

    @Option(parsing: .unconditional, help: "L1 strength λ₁ (weights only, biases exempt).")
    var l1 = 0.0

    @Option(parsing: .unconditional, help: "L2 strength λ₂, penalty λ₂/2·‖W‖² (weights only, biases exempt).")
    var l2 = 0.0

    @Option(parsing: .unconditional, help: ArgumentHelp("Random seed: \(Defaults.seedDraws)."))
    var seed: UInt64 = Defaults.seed

    /// The model spec, the regularisers' strengths in their ranges (`RunSettings`).
    func validate() throws {
        do {
            _ = try spec()
            try RunSettings.flag("--l1").check(String(l1))
            try RunSettings.flag("--l2").check(String(l2))
        } catch let error as TrainerError {
            throw ValidationError(error.message)
        }
    }

    /// `--model`, parsed.
    func spec() throws -> ModelSpec { try ModelSpec(parsing: model, flag: "--model") }

    var regularization: Regularization { Regularization(l1: l1, l2: l2) }
}

/// A command's defaults for `ModelOptions`.
protocol ModelDefaults {
    static var model: String { get }
    static var seed: UInt64 { get }
    /// What the seed draws, for its help.
    static var seedDraws: String { get }
}
