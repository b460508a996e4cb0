import ArgumentParser
import KernelCore
import Models
import Support

/// `trainer gradcheck`: the numerical gradient check of seed 002 for any model spec.
struct GradientCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Compare the analytic gradient of a model with central differences, in Float64.",
        discussion: """
        Builds the model for a random batch, sets every parameter from N(0, 0.5²), and prints the
        max relative error |a − n| / max(|a|, |n|, 1e-5) between the analytic gradient a of
        J = mean loss + regulariser and the fourth-order central difference n. Exits 1 if it is
        not below 1e-6.
        """)

    @OptionGroup var modelOptions: ModelOptions<GradientCheckCommand>

    @Option(help: "Input features of the random batch.")
    var inputs = 4

    @Option(help: "Classes of the random labels (ignored for regression losses, 2 for binary ones).")
    var classes = 3

    @Option(help: "Rows in the batch.")
    var rows = 6

    /// The batch's shape in range, and a model small enough to check (`--model`, `--l1` and
    /// `--l2` are `ModelOptions`' to check).
    func validate() throws {
        for (flag, value) in [("--inputs", inputs), ("--classes", classes), ("--rows", rows)] where !(1...4096).contains(value) {
            throw ValidationError("\(flag) \(value): must be a whole number from 1 to 4096")
        }
        let (spec, architecture) = try checkedModel()
        guard architecture.parameterCount <= 200_000 else {
            throw ValidationError("--model \(spec): has \(architecture.parameterCount) parameters; the check does 4 passes per parameter, keep it under 200000")
        }
    }

    /// The model spec and its architecture for the random batch.
    func checkedModel() throws -> (ModelSpec, Architecture) {
        do {
            let spec = try modelOptions.spec()
            return (spec, try spec.architecture(inputCount: inputs, classes: labelClasses(spec)))
        } catch let error as TrainerError {
            throw ValidationError(error.message)
        }
    }

    /// The classes of the random labels: nil for a regression loss.
    func labelClasses(_ spec: ModelSpec) -> Int? {
        spec.loss.isClassification ? (spec.loss.usesSingleScore ? 2 : max(classes, 2)) : nil
    }

    func run() throws {
        let (spec, architecture) = try checkedModel()
        let network = Network<Double>(architecture, batchCapacity: rows)
        let seed = modelOptions.seed, labelClasses = labelClasses(spec)
        Initialization.randomize(network, seed: seed, standardDeviation: 0.5)
        var random = PortableRandom(seed: seed, stream: .syntheticTrain)
        let x = (0..<rows * inputs).map { _ in random.nextGaussian() }
        let y = (0..<rows).map { _ in labelClasses.map { Double(random.next(below: $0)) } ?? random.nextGaussian() }
        let result = x.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                network.checkGradient(xs.baseAddress!, labels: ys.baseAddress!, rows: rows,
                                      regularization: modelOptions.regularization)
            }
        }
        print("\(spec): max relative error \(result.maxRelativeError) over \(result.checkedCount) parameters (worst at \(result.worstIndex): analytic \(result.analytic), numerical \(result.numerical))")
        if !(result.maxRelativeError < 1e-6) { throw ExitCode(1) }
    }
}

extension GradientCheckCommand: ModelDefaults {
    static let model = "mlp:8-4:relu"
    static let seed: UInt64 = 1
    static let seedDraws = "the random parameters and batch"
}
