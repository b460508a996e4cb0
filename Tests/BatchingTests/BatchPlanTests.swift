import XCTest
import Batching

final class BatchPlanTests: XCTestCase {
    func testStepsPerEpoch() {
        let plan = BatchPlan(sampleCount: 1001, batchSize: 64)
        XCTAssertEqual(plan.stepsPerEpoch, 16)
        XCTAssertEqual(plan.globalBatch(step: 15), 960..<1001)
        XCTAssertEqual(plan.globalBatch(step: 15).count, 41)
        XCTAssertEqual(plan.globalBatch(step: 0), 0..<64)
        XCTAssertEqual(BatchPlan(sampleCount: 1024, batchSize: 64).stepsPerEpoch, 16)
        XCTAssertEqual(BatchPlan(sampleCount: 5, batchSize: 100).stepsPerEpoch, 1)
        XCTAssertEqual(BatchPlan(sampleCount: 5, batchSize: 100).globalBatch(step: 0), 0..<5)
        XCTAssertEqual(BatchPlan(sampleCount: Int.max, batchSize: Int.max - 1).stepsPerEpoch, 2)
    }

    func testSlicesPartitionEveryEpochInOrder() {
        for count in [1, 2, 3, 7, 63, 64, 65, 100, 1001] {
            for batch in [1, 2, 3, 7, 64, 100, 2000] {
                for world in [1, 2, 3, 4, 7, 8, 128] {
                    let plan = BatchPlan(sampleCount: count, batchSize: batch)
                    XCTAssertEqual(plan.stepsPerEpoch, (count + batch - 1) / batch)
                    var next = 0
                    for step in 0..<plan.stepsPerEpoch {
                        let global = plan.globalBatch(step: step)
                        XCTAssertEqual(global.lowerBound, next)
                        XCTAssertTrue(global.count == batch || step == plan.stepsPerEpoch - 1)
                        let sizes = (0..<world).map { rank -> Int in
                            let slice = plan.slice(step: step, rank: rank, worldSize: world)
                            XCTAssertEqual(slice.lowerBound, next, "count \(count) batch \(batch) world \(world)")
                            next = slice.upperBound
                            return slice.count
                        }
                        XCTAssertEqual(next, global.upperBound)
                        XCTAssertLessThanOrEqual((sizes.max() ?? 0) - (sizes.min() ?? 0), 1)
                    }
                    XCTAssertEqual(next, count)
                }
            }
        }
    }

    func testSliceFormula() {
        let plan = BatchPlan(sampleCount: 1001, batchSize: 64)
        // Last batch: 41 samples from 960 over 4 ranks: 10, 10, 10, 11.
        XCTAssertEqual((0..<4).map { plan.slice(step: 15, rank: $0, worldSize: 4) },
                       [960..<970, 970..<980, 980..<990, 990..<1001])
        let tiny = BatchPlan(sampleCount: 2, batchSize: 2)
        XCTAssertEqual((0..<4).map { tiny.slice(step: 0, rank: $0, worldSize: 4) }, [0..<0, 0..<1, 1..<1, 1..<2])
    }
}
