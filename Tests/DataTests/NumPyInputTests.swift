import Data
import Foundation
import Support
import TestSupport
import XCTest

/// `npy:` and `npz:` data sets (NumPyInput) on files numpy wrote: the features of every element
/// type as a batch gathers them, the shapes of features and labels, and the labels refused.
final class NumPyInputTests: XCTestCase {
    /// Into sys.argv[1]: the 4 × 6 values −12…11 as every feature type (x-i1 … x-f8), as 4 × 2 × 3
    /// (x-3d), and 0, 10, …, 230 as uint8 pixels; labels of each shape and kind.
    static let script = #"""
        import sys
        import numpy as np
        out = sys.argv[1]
        values = np.arange(24).reshape(4, 6) - 12
        for t in ["i1", "i2", "i4", "i8", "f4", "f8"]:
            np.save(f"{out}/x-{t}.npy", values.astype("<" + t))
        np.save(f"{out}/x-3d.npy", values.reshape(4, 2, 3).astype("<f4"))
        np.save(f"{out}/pixels.npy", (np.arange(24) * 10).reshape(4, 6).astype(np.uint8))
        np.save(f"{out}/scalar.npy", np.float32(3))
        np.save(f"{out}/no-features.npy", np.zeros((4, 0), "<f4"))
        np.save(f"{out}/y.npy", np.array([0, 1, 2, 1], "<i8"))
        np.save(f"{out}/y-column.npy", np.array([[0], [1], [2], [1]], "<i8"))
        np.save(f"{out}/y-wide.npy", np.zeros((4, 2), "<i8"))
        np.save(f"{out}/y-real.npy", np.array([0.5, -1.25, 3, 1e-3], "<f8"))
        np.save(f"{out}/y-huge.npy", np.array([0, 1, 2**24 + 1, 0], "<i8"))
        np.save(f"{out}/y-inf.npy", np.array([0, np.inf, 0, 0], "<f8"))
        np.save(f"{out}/y-beyond-float.npy", np.array([0, 0, 0, 1e39], "<f8"))
        np.savez(f"{out}/upper.npz", X=values.astype("<f4"), y=np.array([0, 1, 2, 1], "<i8"))
        """#

    var directory = ""

    override func setUpWithError() throws {
        directory = try scratchDirectory()
        try SystemPython.run(Self.script, [directory])
    }

    func npy(_ x: String, _ y: String = "y") throws -> Dataset {
        try DataSource.npy(features: "\(directory)/\(x).npy", labels: "\(directory)/\(y).npy").load(split: .train, seed: 0)
    }

    let values = (0..<24).map { Float($0 - 12) }

    func testEveryFeatureTypeGathersTheSameValues() throws {
        for type in ["i1", "i2", "i4", "i8", "f4", "f8", "3d"] {
            let data = try npy("x-\(type)")
            XCTAssertEqual(data.count, 4, type)
            XCTAssertEqual(data.featureCount, 6, "\(type): the dimensions after the first, multiplied")
            XCTAssertEqual(data.featureValues(), values, type)
            XCTAssertEqual(data.labels, [0, 1, 2, 1], type)
            XCTAssertEqual(data.name, "\(directory)/x-\(type).npy")
            XCTAssertEqual(data.labelSource, "\(directory)/y.npy", "\(type): messages about labels name the labels file")
        }
        let pixels = try npy("pixels")
        XCTAssertEqual(pixels.featureValues(), (0..<24).map { Float($0 * 10) * (1 / 255 as Float) }, "uint8 scaled by 1/255, as IDX pixels are")
        XCTAssertEqual(pixels.storedFeatures().element, .uint8)
        XCTAssertEqual(pixels.storedFeatures().bytes, (0..<24).map { UInt8($0 * 10) }, "mapped as stored")
    }

    func testLabelShapesAndValues() throws {
        XCTAssertEqual(try npy("x-f4", "y-column").labels, [0, 1, 2, 1], "N × 1 labels")
        XCTAssertEqual(try npy("x-f4", "y-real").labels, [0.5, -1.25, 3, 1e-3], "real targets, as Float")
        let upper = try DataSource.npz(path: directory + "/upper.npz").load(split: .train, seed: 0)
        XCTAssertEqual(upper.featureValues(), values, "an .npz's features may be X")
        XCTAssertEqual(upper.labels, [0, 1, 2, 1])
        XCTAssertEqual(upper.name, directory + "/upper.npz (X)")
    }

    func testRefusedShapesAndLabels() throws {
        let d = directory
        assertTrainerError(.data, subject: "\(d)/y-wide.npy", ["labels must be a vector of N values (or N × 1), but the shape is (4, 2)"]) {
            try npy("x-f4", "y-wide")
        }
        assertTrainerError(.data, subject: "\(d)/scalar.npy", ["has no samples (shape ())"]) { try npy("scalar") }
        assertTrainerError(.data, subject: "\(d)/no-features.npy", ["has no features (shape (4, 0))"]) { try npy("no-features") }
        assertTrainerError(.data, subject: "\(d)/y-huge.npy", ["label 16777217 of sample 2 is beyond 2^24"]) { try npy("x-f4", "y-huge") }
        assertTrainerError(.data, subject: "\(d)/y-inf.npy", ["label inf of sample 1 is not a number (NaN or infinite)"]) {
            try npy("x-f4", "y-inf")
        }
        assertTrainerError(.data, subject: "\(d)/y-beyond-float.npy", ["of sample 3 is beyond Float's range"]) { try npy("x-f4", "y-beyond-float") }
        assertTrainerError(.noInput, subject: "\(d)/absent.npy", ["no such file"]) { try npy("x-f4", "absent") }
    }
}
