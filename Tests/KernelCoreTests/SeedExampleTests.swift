import KernelCore
import Models
import XCTest

/// The worked examples of the course material in ../shared/seeds, reproduced to their digits.
final class SeedExampleTests: XCTestCase {
    /// Seed 002's three images (cat, car, frog) and their class scores, one row each.
    let scores: [Double] = [3.2, 5.1, -1.7,   1.3, 4.9, 2.0,   2.2, 2.5, -3.1]
    let labels: [Double] = [0, 1, 2]

    func perSampleLoss(_ loss: Loss, row: Int, label: Double) -> Double {
        scores.withUnsafeBufferPointer { s in
            [label].withUnsafeBufferPointer { y in
                loss.sum(scores: s.baseAddress! + 3 * row, labels: y.baseAddress!, rows: 1, outputs: 3, gradient: nil)
            }
        }
    }

    func testMulticlassSVMLossesOfSeed002() {
        let losses = (0..<3).map { perSampleLoss(.hinge, row: $0, label: labels[$0]) }
        XCTAssertEqual(losses[0], 2.9, accuracy: 1e-12)
        XCTAssertEqual(losses[1], 0.0, accuracy: 1e-12)
        XCTAssertEqual(losses[2], 12.9, accuracy: 1e-12)
        XCTAssertEqual((losses.reduce(0, +) / 3 * 100).rounded() / 100, 5.27)
    }

    func testSoftmaxProbabilitiesOfSeed002() {
        // −log p_j for the cat image's scores, for each class j: p_j = e^{−loss}.
        let probabilities = (0..<3).map { exp(-perSampleLoss(.softmaxCrossEntropy, row: 0, label: Double($0))) }
        XCTAssertEqual(probabilities.map { ($0 * 100).rounded() / 100 }, [0.13, 0.87, 0.00])
        XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-12)
        // The slide's unnormalised probabilities e^s: 24.5, 164.0, 0.18.
        XCTAssertEqual(exp(3.2), 24.5, accuracy: 0.05)
        XCTAssertEqual(exp(5.1), 164.0, accuracy: 0.05)
        XCTAssertEqual(exp(-1.7), 0.18, accuracy: 0.005)
    }

    /// A linear model with one sample and the given weights; returns the gradient of ℓ.
    func perceptronGradient(weights: [Double], bias: Double, x: [Double], label: Double) -> [Double] {
        let spec = ModelSpec(loss: .perceptron)
        let network = Network<Double>(try! spec.architecture(inputCount: x.count, classes: 2), batchCapacity: 1)
        for (i, w) in weights.enumerated() { network.parameters[i] = w }
        network.parameters[weights.count] = bias
        x.withUnsafeBufferPointer { xs in
            [label].withUnsafeBufferPointer { ys in
                network.forward(xs.baseAddress!, rows: 1)
                network.backward(xs.baseAddress!, labels: ys.baseAddress!, rows: 1)
            }
        }
        return Array(network.gradients)
    }

    /// Seed 000: ∇_W max(0, −y W·X) = −y X on a mistake (bias: −y), and 0 when classified right.
    func testPerceptronGradientOfSeed000() {
        let x = [0.5, -2.0, 3.0]
        // y = +1 (class 1) but W·X = −1.5 < 0: a mistake.
        XCTAssertEqual(perceptronGradient(weights: [1, 1, 0], bias: 0, x: x, label: 1), [-0.5, 2.0, -3.0, -1])
        // y = −1 (class 0) and W·X = −1.5: right, no update.
        XCTAssertEqual(perceptronGradient(weights: [1, 1, 0], bias: 0, x: x, label: 0), [0, 0, 0, 0])
        // y = −1 but W·X = 2.5 > 0: a mistake, gradient −y X = +X.
        XCTAssertEqual(perceptronGradient(weights: [1, 0, 0.5], bias: 0, x: x, label: 0), [0.5, -2.0, 3.0, 1])
        // Seed 001 starts from w = 0, where y·w·x = 0 counts as a mistake: the first update is w ← y x.
        XCTAssertEqual(perceptronGradient(weights: [0, 0, 0], bias: 0, x: x, label: 1), [-0.5, 2.0, -3.0, -1])
    }

    /// Seed 001's multiclass perceptron: on a mistake w_ŷ ← w_ŷ − x and w_y ← w_y + x, i.e. the
    /// gradient is +x in row ŷ and −x in row y.
    func testMulticlassPerceptronUpdateOfSeed001() throws {
        let spec = ModelSpec(loss: .multiclassPerceptron)
        let network = Network<Double>(try spec.architecture(inputCount: 2, classes: 3), batchCapacity: 1)
        // W rows: class 0 = (1, 0), class 1 = (0, 1), class 2 = (0, 0); x = (2, 1) → ŷ = 0.
        for (i, w) in [1.0, 0, 0, 1, 0, 0].enumerated() { network.parameters[i] = w }
        let x = [2.0, 1.0], y = [2.0]
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                network.forward(xs.baseAddress!, rows: 1)
                XCTAssertEqual(network.backward(xs.baseAddress!, labels: ys.baseAddress!, rows: 1).lossSum, 2)  // s_ŷ − s_y = 2 − 0
            }
        }
        XCTAssertEqual(Array(network.gradients), [2, 1, 0, 0, -2, -1, /* biases */ 1, 0, -1])
    }
}
