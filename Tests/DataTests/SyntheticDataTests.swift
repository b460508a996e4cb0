import XCTest
import Data
import Support

final class SyntheticDataTests: XCTestCase {
    private func floats(_ set: Dataset) -> [Float] {
        guard case .floats(let values) = set.storage else { return [] }
        return values
    }

    func testSameSeedSameData() throws {
        for source in [DataSource.xor(count: 50), .blobs(count: 60, classes: 3, dimensions: 4),
                       .linear(count: 40, dimensions: 3)] {
            let a = try source.load(split: .train, seed: 7), b = try source.load(split: .train, seed: 7)
            XCTAssertEqual(floats(a), floats(b), "\(source)")
            XCTAssertEqual(a.labels, b.labels, "\(source)")
            XCTAssertEqual(a.checksum(), b.checksum(), "\(source)")
            let other = try source.load(split: .train, seed: 8)
            XCTAssertNotEqual(a.checksum(), other.checksum(), "\(source)")
            let test = try source.load(split: .test, seed: 7)
            XCTAssertNotEqual(a.checksum(), test.checksum(), "\(source)")
            XCTAssertEqual(test.count, a.count)
            XCTAssertEqual(floats(a).count, a.count * a.featureCount)
            XCTAssertEqual(a.labels.count, a.count)
        }
    }

    func testNames() throws {
        XCTAssertEqual(try DataSource.xor(count: 200).load(split: .train, seed: 1).name, "xor (train)")
        XCTAssertEqual(try DataSource.blobs(count: 10, classes: 2, dimensions: 2).load(split: .test, seed: 1).name,
                       "blobs:10 (test)")
    }

    func testXorLabels() throws {
        let set = try DataSource.xor(count: 1000).load(split: .train, seed: 3)
        XCTAssertEqual(set.featureCount, 2)
        XCTAssertEqual(set.inferredClassCount, 2)
        let values = floats(set)
        var corners = Set<[Float]>()
        for sample in 0..<set.count {
            let x = values[2 * sample], y = values[2 * sample + 1]
            XCTAssertTrue(abs(abs(x) - 1) <= 0.2 && abs(abs(y) - 1) <= 0.2, "(\(x), \(y))")
            XCTAssertEqual(set.labels[sample], (x < 0) != (y < 0) ? 1 : 0)
            corners.insert([x.sign == .minus ? -1 : 1, y.sign == .minus ? -1 : 1])
        }
        XCTAssertEqual(corners.count, 4)
    }

    func testBlobsShareCentresBetweenSplits() throws {
        let source = DataSource.blobs(count: 3000, classes: 3, dimensions: 3)
        let train = try source.load(split: .train, seed: 11), test = try source.load(split: .test, seed: 11)
        XCTAssertEqual(train.inferredClassCount, 3)
        let trainMeans = classMeans(train, classes: 3), testMeans = classMeans(test, classes: 3)
        for k in 0..<3 {
            XCTAssertEqual(hypot(trainMeans[k][0], trainMeans[k][1]), 5, accuracy: 0.15)
            XCTAssertEqual(trainMeans[k][2], 0, accuracy: 0.1)
            for d in 0..<3 { XCTAssertEqual(trainMeans[k][d], testMeans[k][d], accuracy: 0.15) }
        }
        XCTAssertTrue(floats(train).allSatisfy { abs($0) <= 6.5 })
    }

    private func classMeans(_ set: Dataset, classes: Int) -> [[Float]] {
        var sums = Array(repeating: Array(repeating: Float(0), count: set.featureCount), count: classes)
        var counts = Array(repeating: Float(0), count: classes)
        let values = floats(set)
        for sample in 0..<set.count {
            let k = Int(set.labels[sample])
            counts[k] += 1
            for d in 0..<set.featureCount { sums[k][d] += values[sample * set.featureCount + d] }
        }
        return (0..<classes).map { k in sums[k].map { $0 / counts[k] } }
    }

    func testLinearSharesWeightsBetweenSplits() throws {
        let source = DataSource.linear(count: 2000, dimensions: 1)
        let train = try source.load(split: .train, seed: 5), test = try source.load(split: .test, seed: 5)
        let (slope, intercept) = fit(train), (testSlope, testIntercept) = fit(test)
        XCTAssertEqual(slope, testSlope, accuracy: 0.05)
        XCTAssertEqual(intercept, testIntercept, accuracy: 0.05)
        XCTAssertTrue(abs(slope) <= 2 && abs(intercept) <= 2)
        XCTAssertTrue(floats(train).allSatisfy { abs($0) <= 1 })
        XCTAssertNil(train.inferredClassCount)
    }

    /// Least-squares line through (x, label) of a one-feature set.
    private func fit(_ set: Dataset) -> (slope: Double, intercept: Double) {
        let xs = floats(set).map(Double.init), ys = set.labels.map(Double.init)
        let n = Double(xs.count)
        let mx = xs.reduce(0, +) / n, my = ys.reduce(0, +) / n
        let sxy = zip(xs, ys).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let sxx = xs.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        return (sxy / sxx, my - sxy / sxx * mx)
    }
}
