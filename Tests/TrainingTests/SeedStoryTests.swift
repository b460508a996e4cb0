import Data
import KernelCore
import Models
import Training
import XCTest

/// Seed 001's XOR story and the perceptron on separable data, trained end to end.
final class SeedStoryTests: XCTestCase {
    func xor(_ model: String, epochs: Int = 60, lr: Double = 0.5) throws -> Double {
        let run = try train {
            $0.data = .xor(count: 200)
            $0.model = try ModelSpec(parsing: model)
            $0.epochs = epochs
            $0.batchSize = 16
            $0.learningRate = lr
        }
        return try XCTUnwrap(run.summary.final?.testAccuracy)
    }

    /// A linear classifier cannot separate XOR: at most 3 of the 4 corners.
    func testLinearClassifierFailsOnXOR() throws {
        XCTAssertLessThanOrEqual(try xor("logistic"), 0.75)
        XCTAssertLessThanOrEqual(try xor("perceptron", lr: 1), 0.75)
    }

    /// Degree-2 polynomial features (x₁x₂ among them) make XOR linearly separable.
    func testDegreeTwoFeaturesSolveXOR() throws {
        XCTAssertEqual(try xor("poly2+logistic"), 1.0)
        XCTAssertEqual(try xor("poly2+perceptron", lr: 1), 1.0)
    }

    /// A small MLP learns the feature map itself.
    func testSmallMLPSolvesXOR() throws {
        XCTAssertEqual(try xor("mlp:8:relu"), 1.0)
        XCTAssertEqual(try xor("mlp:4:tanh", epochs: 100), 1.0)
    }

    /// Seed 001, "does learning occur?": linear regression on XOR drives w → 0.
    func testLinearRegressionOnXORFindsNoSignal() throws {
        let run = try train {
            $0.data = .xor(count: 200)
            $0.model = ModelSpec(loss: .squaredError)
            $0.epochs = 100
            $0.batchSize = 200
            $0.learningRate = 0.5
        }
        let w = run.trainer.network.parameters
        XCTAssertLessThan(abs(w[0]), 0.05)
        XCTAssertLessThan(abs(w[1]), 0.05)
        XCTAssertEqual(Double(w[2]), 0.5, accuracy: 0.05)  // the bias learns the mean label
    }

    /// The perceptron separates separable blobs perfectly.
    func testPerceptronOnSeparableBlobs() throws {
        let run = try train {
            $0.data = .blobs(count: 300, classes: 2, dimensions: 2)
            $0.model = ModelSpec(loss: .perceptron)
            $0.epochs = 10
            $0.batchSize = 1
            $0.learningRate = 1
        }
        XCTAssertEqual(run.summary.final?.trainAccuracy, 1.0)
        XCTAssertEqual(run.summary.final?.testAccuracy, 1.0)
    }

    /// Multiclass models on 4 separable blobs.
    func testMulticlassModelsOnBlobs() throws {
        for model in ["multiperceptron", "svm", "softmax", "mlp:16:sigmoid:softmax", "mlp:16:relu:svm"] {
            let run = try train {
                $0.data = .blobs(count: 400, classes: 4, dimensions: 3)
                $0.model = try ModelSpec(parsing: model)
                $0.epochs = 20
                $0.batchSize = 32
                $0.learningRate = 0.1
            }
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(run.summary.final?.testAccuracy), 0.99, model)
        }
    }

    /// Linear regression recovers a noisy linear function: the loss falls to the noise level ½σ² = 0.005.
    func testLinearRegressionFitsNoisyLinearData() throws {
        let run = try train {
            $0.data = .linear(count: 400, dimensions: 3)
            $0.model = ModelSpec(loss: .squaredError)
            $0.epochs = 200
            $0.batchSize = 400
            $0.learningRate = 0.5
        }
        let final = try XCTUnwrap(run.summary.final)
        XCTAssertLessThan(try XCTUnwrap(final.testLoss), 0.008)
        XCTAssertNil(final.testAccuracy)
    }

    /// L1 and L2 shrink the weights (never the bias); L1 pins the weights of pure-noise inputs
    /// inside its subgradient band |w| ≤ η·λ₁, where L2 only scales them down.
    func testRegularizersShrinkWeightsAndL1PinsNoiseWeights() throws {
        func parameters(l1: Double, l2: Double) throws -> [Float] {
            let run = try train {
                $0.data = .blobs(count: 300, classes: 2, dimensions: 10)
                $0.model = ModelSpec(loss: .logistic)
                $0.epochs = 200
                $0.batchSize = 300
                $0.learningRate = 0.1
                $0.regularization = Regularization(l1: l1, l2: l2)
            }
            return Array(run.trainer.network.parameters)
        }
        let plain = try parameters(l1: 0, l2: 0), lasso = try parameters(l1: 0.05, l2: 0), ridge = try parameters(l1: 0, l2: 0.05)
        func norm(_ p: [Float]) -> Float { p.prefix(10).map(abs).reduce(0, +) }
        XCTAssertLessThan(norm(lasso), norm(plain))
        XCTAssertLessThan(norm(ridge), norm(plain))
        let band: Float = 0.1 * 0.05
        XCTAssertEqual(lasso[2..<10].filter { abs($0) <= band }.count, 8)
        XCTAssertLessThan(ridge[2..<10].filter { abs($0) <= band }.count, 8)
    }
}
