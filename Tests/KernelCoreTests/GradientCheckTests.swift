import KernelCore
import Models
import Support
import XCTest

/// Every model × loss × activation × regulariser passes a central-difference gradient check in
/// Float64 with max relative error < 1e-6.
final class GradientCheckTests: XCTestCase {
    static let regularizers: [(String, Regularization)] = [
        ("none", .none), ("l1", Regularization(l1: 0.01)), ("l2", Regularization(l2: 0.1)),
        ("l1+l2", Regularization(l1: 0.01, l2: 0.1)),
    ]

    /// Runs the check for `spec` on a random batch; returns the max relative error.
    static func check(_ text: String, regularization: Regularization, rows: Int = 6, inputs: Int = 4,
                      seed: UInt64 = 7) throws -> GradientCheckResult {
        let spec = try ModelSpec(parsing: text)
        let classes: Int? = spec.loss.isClassification ? (spec.loss.usesSingleScore ? 2 : 3) : nil
        let network = Network<Double>(try spec.architecture(inputCount: inputs, classes: classes), batchCapacity: rows)
        Initialization.randomize(network, seed: seed, standardDeviation: 0.5)
        var random = PortableRandom(seed: seed, stream: .syntheticTrain)
        let x = (0..<rows * inputs).map { _ in random.nextGaussian() }
        let y = (0..<rows).map { _ in classes.map { Double(random.next(below: $0)) } ?? random.nextGaussian() }
        return x.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                network.checkGradient(xs.baseAddress!, labels: ys.baseAddress!, rows: rows, regularization: regularization)
            }
        }
    }

    func assertPasses(_ specs: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        for spec in specs {
            for (name, regularization) in Self.regularizers {
                let result = try Self.check(spec, regularization: regularization)
                XCTAssertLessThan(result.maxRelativeError, 1e-6,
                                  "\(spec) with \(name): analytic \(result.analytic) vs numerical \(result.numerical) at \(result.worstIndex)",
                                  file: file, line: line)
            }
        }
    }

    func testLinearModels() throws {
        try assertPasses(["linear", "perceptron", "multiperceptron", "svm", "softmax", "logistic"])
    }

    func testLinearModelsOnPolynomialFeatures() throws {
        try assertPasses(["poly2+linear", "poly2+logistic", "poly3+softmax", "poly2+svm", "poly2+perceptron",
                          "poly2+multiperceptron"])
    }

    func testMLPsWithEveryActivationAndLoss() throws {
        var specs: [String] = []
        for activation in Activation.allCases {
            for loss in ["softmax", "svm", "mse", "logistic", "perceptron", "multiperceptron"] {
                specs.append("mlp:5-3:\(activation.rawValue):\(loss)")
            }
        }
        try assertPasses(specs)
    }

    func testDeepMLPWithFeatureMap() throws {
        try assertPasses(["poly2+mlp:4-4-3:tanh:softmax", "mlp:8:sigmoid:softmax"])
    }

    /// The check itself must be able to fail: a wrong gradient is caught.
    func testCheckDetectsAWrongGradient() throws {
        let spec = try ModelSpec(parsing: "softmax")
        let network = Network<Double>(try spec.architecture(inputCount: 2, classes: 3), batchCapacity: 2)
        Initialization.randomize(network, seed: 1, standardDeviation: 0.5)
        let x = [1.0, 2.0, -1.0, 0.5], y = [0.0, 2.0]
        // With h = 1 the central difference is far from the derivative: the check must say so.
        let result = x.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                network.checkGradient(xs.baseAddress!, labels: ys.baseAddress!, rows: 2, regularization: .none, step: 1.0)
            }
        }
        XCTAssertGreaterThan(result.maxRelativeError, 1e-3)
    }
}
