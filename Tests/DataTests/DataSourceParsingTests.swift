import TestSupport
import XCTest
import Data
import Support

final class DataSourceParsingTests: XCTestCase {
    func testGoodForms() throws {
        let cases: [(String, DataSource, String)] = [
            ("fashion-mnist", .fashionMNIST, "fashion-mnist"),
            ("idx:/tmp/x", .idx(directory: "/tmp/x"), "idx:/tmp/x"),
            ("idx:a:b", .idx(directory: "a:b"), "idx:a:b"),
            ("csv:data.csv", .csv(path: "data.csv"), "csv:data.csv"),
            ("xor", .xor(count: 200), "xor"),
            ("xor:50", .xor(count: 50), "xor:50"),
            ("xor:200", .xor(count: 200), "xor"),
            ("blobs", .blobs(count: 300, classes: 2, dimensions: 2), "blobs"),
            ("blobs:10", .blobs(count: 10, classes: 2, dimensions: 2), "blobs:10"),
            ("blobs:10:3", .blobs(count: 10, classes: 3, dimensions: 2), "blobs:10:3"),
            ("blobs:10:3:4", .blobs(count: 10, classes: 3, dimensions: 4), "blobs:10:3:4"),
            ("blobs:300:2:5", .blobs(count: 300, classes: 2, dimensions: 5), "blobs:300:2:5"),
            ("linear", .linear(count: 200, dimensions: 1), "linear"),
            ("linear:5", .linear(count: 5, dimensions: 1), "linear:5"),
            ("linear:5:3", .linear(count: 5, dimensions: 3), "linear:5:3"),
            ("xor:10000000", .xor(count: 10_000_000), "xor:10000000"),
        ]
        for (text, expected, description) in cases {
            let parsed = try DataSource(parsing: text, flag: "--data")
            XCTAssertEqual(parsed, expected, text)
            XCTAssertEqual(parsed.description, description, text)
            XCTAssertEqual(try DataSource(parsing: parsed.description, flag: "--data"), parsed, text)
        }
    }

    func testBadForms() {
        let cases: [(String, String)] = [
            ("", "unknown data source"),
            ("mnist", "unknown data source"),
            ("XOR", "unknown data source"),
            (" xor", "unknown data source"),
            ("idx:", "path after idx: is empty"),
            ("csv:", "path after csv: is empty"),
            ("xor:", "\"\" is not an integer"),
            ("xor:abc", "\"abc\" is not an integer"),
            ("xor:1.5", "\"1.5\" is not an integer"),
            ("xor:99999999999999999999", "is not an integer"),
            ("xor:0", "N must be at least 1"),
            ("xor:-3", "N must be at least 1"),
            ("xor:10000001", "N must be at most 10000000"),
            ("xor:5:2", "xor takes at most 1 number"),
            ("blobs:10:1", "K (classes) must be at least 2"),
            ("blobs:10:10001", "K (classes) must be at most 10000"),
            ("blobs:10:2:0", "D (dimensions) must be at least 1"),
            ("blobs:10:2:2:2", "blobs takes at most 3 numbers"),
            ("linear:10:0", "D (dimensions) must be at least 1"),
            ("linear:10:10001", "D (dimensions) must be at most 10000"),
            ("linear:10000000:100", "N × D must be at most 100000000"),
            ("linear:0:5", "N must be at least 1"),
        ]
        for (text, fragment) in cases {
            assertTrainerError(.usage, ["--test-data: \"\(text)\": ", fragment]) {
                try DataSource(parsing: text, flag: "--test-data")
            }
        }
    }
}
