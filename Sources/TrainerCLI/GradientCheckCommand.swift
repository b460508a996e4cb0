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

    @Option(help: "The model spec, as for `trainer train --model`.")
    var model = "mlp:8-4:relu"

    @Option(help: "Input features of the random batch.")
    var inputs = 4

    @Option(help: "Classes of the random labels (ignored for regression losses, 2 for binary ones).")
    var classes = 3

    @Option(help: "Rows in the batch.")
    var rows = 6

    @Option(help: "L1 strength λ₁.")
    var l1 = 0.0

    @Option(help: "L2 strength λ₂.")
    var l2 = 0.0

    @Option(help: "Seed of the random parameters and batch.")
    var seed: UInt64 = 1

    func run() throws {
        let spec = try ModelSpec(parsing: model, flag: "--model")
        for (flag, value) in [("--inputs", inputs), ("--classes", classes), ("--rows", rows)] where !(1...4096).contains(value) {
            throw TrainerError(.usage, subject: "\(flag) \(value)", "must be a whole number from 1 to 4096")
        }
        guard l1 >= 0, l1.isFinite, l2 >= 0, l2.isFinite else {
            throw TrainerError(.usage, subject: "--l1/--l2", "must be numbers ≥ 0")
        }
        let labelClasses: Int? = spec.loss.isClassification ? (spec.loss.usesSingleScore ? 2 : max(classes, 2)) : nil
        let network = Network<Double>(try spec.architecture(inputCount: inputs, classes: labelClasses), batchCapacity: rows)
        guard network.parameterCount <= 200_000 else {
            throw TrainerError(.usage, subject: "--model \(spec)", "has \(network.parameterCount) parameters; the check does 4 passes per parameter, keep it under 200000")
        }
        Initialization.randomize(network, seed: seed, standardDeviation: 0.5)
        var random = PortableRandom(seed: seed, stream: .syntheticTrain)
        let x = (0..<rows * inputs).map { _ in random.nextGaussian() }
        let y = (0..<rows).map { _ in labelClasses.map { Double(random.next(below: $0)) } ?? random.nextGaussian() }
        let result = x.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                network.checkGradient(xs.baseAddress!, labels: ys.baseAddress!, rows: rows,
                                      regularization: Regularization(l1: l1, l2: l2))
            }
        }
        print("\(spec): max relative error \(result.maxRelativeError) over \(result.checkedCount) parameters (worst at \(result.worstIndex): analytic \(result.analytic), numerical \(result.numerical))")
        if !(result.maxRelativeError < 1e-6) { throw ExitCode(1) }
    }
}
