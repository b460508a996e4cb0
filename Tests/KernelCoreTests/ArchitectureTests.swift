import KernelCore
import Models
import Support
import XCTest

final class ArchitectureTests: XCTestCase {
    func testDefaultMLPLayout() throws {
        let a = try ModelSpec(parsing: "mlp:256-128:relu").architecture(inputCount: 784, classes: 10)
        XCTAssertEqual(a.parameterCount, 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10)
        XCTAssertEqual(a.layers.map(\.outputs), [256, 128, 10])
        XCTAssertEqual(a.layers.map(\.activation), [.relu, .relu, .identity])
        XCTAssertEqual(a.tensorNames.map(\.name), ["layers.0.weight", "layers.0.bias", "layers.1.weight",
                                                    "layers.1.bias", "layers.2.weight", "layers.2.bias"])
        // Contiguous, in order, covering the buffer.
        var end = 0
        for t in a.tensorNames { XCTAssertEqual(t.range.lowerBound, end); end = t.range.upperBound }
        XCTAssertEqual(end, a.parameterCount)
    }

    /// Seed 001: all monomials of degree ≤ 2 in 2 variables — x1, x2, x1², x1x2, x2² (+ the bias).
    func testPolynomialFeatureMapOfTwoInputs() {
        let map = PolynomialFeatures(inputCount: 2, degree: 2)
        XCTAssertEqual(map.outputCount, 5)
        var out = [Double](repeating: 0, count: 5)
        [3.0, -2.0].withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { map.apply(x.baseAddress!, rows: 1, to: $0.baseAddress!) }
        }
        XCTAssertEqual(out, [3, -2, 9, -6, 4])
        XCTAssertEqual(PolynomialFeatures.featureCount(inputs: 2, degree: 2, limit: 100), 5)
        XCTAssertEqual(PolynomialFeatures.featureCount(inputs: 1, degree: 5, limit: 100), 5)
        XCTAssertNil(PolynomialFeatures.featureCount(inputs: 784, degree: 8, limit: 1_000_000))
    }

    func testSpecRoundTripsAndRejectsNonsense() throws {
        for text in ["linear", "perceptron", "multiperceptron", "svm", "softmax", "logistic",
                     "mlp:256-128:relu:softmax", "poly2+logistic", "mlp:4:tanh:mse"] {
            XCTAssertEqual(try ModelSpec(parsing: text).description, text)
        }
        for bad in ["", "mlp", "mlp:", "mlp:0", "mlp:12-x", "mlp:4:swish", "mlp:4:relu:cosine", "poly0+linear",
                    "poly+linear", "cnn", "mlp:4:relu:softmax:extra", "mlp:99999999999999999999"] {
            XCTAssertThrowsError(try ModelSpec(parsing: bad), bad) { error in
                XCTAssertEqual((error as? TrainerError)?.kind, .usage, bad)
            }
        }
    }

    func testLossMustFitTheData() throws {
        XCTAssertThrowsError(try ModelSpec(parsing: "logistic").architecture(inputCount: 4, classes: 10))
        XCTAssertThrowsError(try ModelSpec(parsing: "perceptron").architecture(inputCount: 4, classes: 3))
        XCTAssertThrowsError(try ModelSpec(parsing: "softmax").architecture(inputCount: 4, classes: nil))
        XCTAssertThrowsError(try ModelSpec(parsing: "svm").architecture(inputCount: 4, classes: 1))
        XCTAssertThrowsError(try ModelSpec(parsing: "poly8+linear").architecture(inputCount: 784, classes: nil))
        XCTAssertNoThrow(try ModelSpec(parsing: "linear").architecture(inputCount: 4, classes: nil))
        XCTAssertEqual(try ModelSpec(parsing: "logistic").architecture(inputCount: 4, classes: 2).outputCount, 1)
    }
}
