import Training
import XCTest

final class OptimizerTests: XCTestCase {
    func testSchedules() throws {
        XCTAssertEqual(LearningRateSchedule.constant.rate(base: 0.1, globalStep: 999, stepsPerEpoch: 10), 0.1)
        let step = try LearningRateSchedule(parsing: "step:2:0.5")
        XCTAssertEqual(step.rate(base: 0.1, globalStep: 19, stepsPerEpoch: 10), 0.1)
        XCTAssertEqual(step.rate(base: 0.1, globalStep: 20, stepsPerEpoch: 10), 0.05)
        XCTAssertEqual(step.rate(base: 0.1, globalStep: 45, stepsPerEpoch: 10), 0.025)
        let inverse = try LearningRateSchedule(parsing: "invtime:0.5")
        XCTAssertEqual(inverse.rate(base: 1, globalStep: 0, stepsPerEpoch: 10), 1)
        XCTAssertEqual(inverse.rate(base: 1, globalStep: 2, stepsPerEpoch: 10), 0.5)
        for bad in ["", "step", "step:0:0.5", "step:1:2", "invtime:-1", "invtime:x", "cosine:x", "cosine:-1", "cosine:1:2", "sine"] {
            XCTAssertThrowsError(try LearningRateSchedule(parsing: bad), bad)
        }
    }

    /// Warmup rises as (t + 1)/W; cosine falls from η₀ after the warmup to its floor at the last step.
    func testWarmupAndCosine() throws {
        let cosine = try LearningRateSchedule(parsing: "cosine:0.01")
        XCTAssertEqual(cosine.rate(base: 1, globalStep: 0, stepsPerEpoch: 10, totalSteps: 110, warmup: 10), 0.1, accuracy: 1e-12)
        XCTAssertEqual(cosine.rate(base: 1, globalStep: 9, stepsPerEpoch: 10, totalSteps: 110, warmup: 10), 1, accuracy: 1e-12)
        XCTAssertEqual(cosine.rate(base: 1, globalStep: 60, stepsPerEpoch: 10, totalSteps: 110, warmup: 10), 0.505, accuracy: 1e-12)
        XCTAssertEqual(cosine.rate(base: 1, globalStep: 110, stepsPerEpoch: 10, totalSteps: 110, warmup: 10), 0.01, accuracy: 1e-12)
        XCTAssertEqual(LearningRateSchedule.constant.rate(base: 2, globalStep: 1, stepsPerEpoch: 10, warmup: 4), 1)
    }

    /// v ← μv + g, θ ← θ − ηv, checked by hand for two steps.
    func testMomentumUpdate() {
        let sgd = Optimizer(.sgd, parameterCount: 2, momentum: 0.9)
        let theta = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2)
        let g = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2)
        defer { theta.deallocate(); g.deallocate() }
        theta[0] = 1; theta[1] = -1; g[0] = 0.5; g[1] = 1
        sgd.update(theta, gradients: g, rate: 0.1, step: 1)
        XCTAssertEqual(theta[0], 0.95, accuracy: 1e-6)
        XCTAssertEqual(theta[1], -1.1, accuracy: 1e-6)
        sgd.update(theta, gradients: g, rate: 0.1, step: 1)  // v = 0.9·0.5 + 0.5 = 0.95, 0.9·1 + 1 = 1.9
        XCTAssertEqual(theta[0], 0.855, accuracy: 1e-6)
        XCTAssertEqual(theta[1], -1.29, accuracy: 1e-6)
    }

    /// Nesterov: v ← μv + g, θ ← θ − η(g + μv), by hand for two steps.
    func testNesterovUpdate() {
        let sgd = Optimizer(.sgd, parameterCount: 1, momentum: 0.5, nesterov: true)
        let theta = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1)
        let g = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1)
        defer { theta.deallocate(); g.deallocate() }
        theta[0] = 1; g[0] = 1
        sgd.update(theta, gradients: g, rate: 0.1, step: 1)  // v = 1, step g + μv = 1.5
        XCTAssertEqual(theta[0], 0.85, accuracy: 1e-6)
        sgd.update(theta, gradients: g, rate: 0.1, step: 1)  // v = 1.5, step 1 + 0.75 = 1.75
        XCTAssertEqual(theta[0], 0.675, accuracy: 1e-6)
    }

    func testPlainSGDUpdate() {
        let sgd = Optimizer(.sgd, parameterCount: 1, momentum: 0)
        let theta = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1)
        let g = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1)
        defer { theta.deallocate(); g.deallocate() }
        theta[0] = 1; g[0] = 2
        sgd.update(theta, gradients: g, rate: 0.25, step: 1)
        XCTAssertEqual(theta[0], 0.5)
    }
}
