import TestSupport
import XCTest
import Data
import Support

final class DatasetTests: XCTestCase {
    private func set(labels: [Float]) -> Dataset {
        Dataset(name: "toy", count: labels.count, featureCount: 1, storage: .floats(labels.map { $0 * 2 }),
                labels: labels)
    }

    func testInferredClassCount() {
        XCTAssertEqual(set(labels: [0, 3, 1]).inferredClassCount, 4)
        XCTAssertEqual(set(labels: [0]).inferredClassCount, 1)
        XCTAssertNil(set(labels: [0, 1.5]).inferredClassCount)
        XCTAssertNil(set(labels: [0, -1]).inferredClassCount)
        XCTAssertNil(set(labels: [0, .nan]).inferredClassCount)
        XCTAssertNil(set(labels: [0, .infinity]).inferredClassCount)
        XCTAssertNil(set(labels: [1e30]).inferredClassCount)
        XCTAssertNil(set(labels: []).inferredClassCount)
    }

    /// What the message of a classifier's training labels that are not classes points at.
    func testFirstNonClassLabel() {
        XCTAssertNil(set(labels: [0, 3, 1]).firstNonClassLabel)
        XCTAssertEqual(set(labels: [0, 1.5, -1]).firstNonClassLabel, "label 1.5 of sample 1")
        XCTAssertEqual(set(labels: [2, -1]).firstNonClassLabel, "label -1 of sample 1")
        XCTAssertEqual(set(labels: [1, 16_777_216]).firstNonClassLabel, "label 16777216 of sample 1")
        XCTAssertEqual(set(labels: [.infinity]).firstNonClassLabel, "label inf of sample 0")
    }

    func testValidateClassLabels() throws {
        try set(labels: [0, 1, 2]).validateClassLabels(classes: 3)
        assertTrainerError(.data, ["toy: label 3 of sample 2 is out of range: classes are 0…2"]) {
            try set(labels: [0, 1, 3]).validateClassLabels(classes: 3)
        }
        assertTrainerError(.data, ["toy: label 0.5 of sample 1 is not a whole number"]) {
            try set(labels: [0, 0.5]).validateClassLabels(classes: 3)
        }
        assertTrainerError(.data, ["toy: label -1 of sample 0 is out of range"]) {
            try set(labels: [-1]).validateClassLabels(classes: 3)
        }
        assertTrainerError(.data, ["toy: label nan of sample 0 is not a whole number"]) {
            try set(labels: [.nan]).validateClassLabels(classes: 3)
        }
        assertTrainerError(.data, ["toy: label 1e+30 of sample 0 is out of range"]) {
            try set(labels: [1e30]).validateClassLabels(classes: 3)
        }
    }

    func testChecksumMatchesReferenceCRC() {
        let bytes = Dataset(name: "b", count: 2, featureCount: 2, storage: .bytes([1, 2, 3, 4], scale: 0.5),
                            labels: [1, 0])
        let labelBytes: [UInt8] = [0x00, 0x00, 0x80, 0x3F, 0, 0, 0, 0]  // 1.0 and 0.0, little-endian
        XCTAssertEqual(bytes.checksum(), crc32Reference([1, 2, 3, 4] + labelBytes))

        let floats = Dataset(name: "f", count: 1, featureCount: 1, storage: .floats([-2]), labels: [1])
        XCTAssertEqual(floats.checksum(), crc32Reference([0, 0, 0, 0xC0] + [0x00, 0x00, 0x80, 0x3F]))
        XCTAssertNotEqual(floats.checksum(),
                          Dataset(name: "f", count: 1, featureCount: 1, storage: .floats([-2]), labels: [0]).checksum())
    }
}
