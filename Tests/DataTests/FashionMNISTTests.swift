import XCTest
import Data

final class FashionMNISTTests: XCTestCase {
    func testLoadsWhenInstalled() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: DataSource.fashionMNISTDirectory, isDirectory: &isDirectory),
              isDirectory.boolValue else {
            throw XCTSkip("\(DataSource.fashionMNISTDirectory) is not installed")
        }
        let clock = ContinuousClock()
        let start = clock.now
        let train = try DataSource.fashionMNIST.load(split: .train, seed: 0)
        let trainTime = clock.now - start
        let test = try DataSource.fashionMNIST.load(split: .test, seed: 0)
        print("fashion-mnist: train loaded in \(trainTime), train + test in \(clock.now - start)")

        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual(train.featureCount, 784)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(test.featureCount, 784)
        XCTAssertEqual(train.inferredClassCount, 10)
        XCTAssertEqual(test.inferredClassCount, 10)
        try train.validateClassLabels(classes: 10)
        let (element, scale, pixels) = train.storedFeatures()
        XCTAssertEqual(element, .uint8)
        XCTAssertEqual(pixels.count, 60_000 * 784)
        XCTAssertEqual(scale, 1 / 255)
        XCTAssertEqual(Set(train.labels).count, 10)
        XCTAssertEqual(train.checksum(), try DataSource.fashionMNIST.load(split: .train, seed: 1).checksum())
    }
}
