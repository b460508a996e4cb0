import TestSupport
import XCTest
import Data
import Support

final class CSVLoadingTests: XCTestCase {
    private func load(_ text: String) throws -> Dataset {
        let path = try write(text, to: "set.csv", in: try scratchDirectory())
        return try DataSource.csv(path: path).load(split: .train, seed: 1)
    }

    /// The features, which a CSV file stores as float32 (mapped from the data cache).
    private func floats(_ set: Dataset, file: StaticString = #filePath, line: UInt = #line) -> [Float] {
        XCTAssertEqual(set.storedFeatures().element, .float32, file: file, line: line)
        return set.featureValues()
    }

    func testWithHeader() throws {
        let set = try load("label,x1,x2\n1,0.5,2\n0,1e-3,-4\n")
        XCTAssertEqual(set.count, 2)
        XCTAssertEqual(set.featureCount, 2)
        XCTAssertEqual(set.labels, [1, 0])
        XCTAssertEqual(floats(set), [0.5, 2, 0.001, -4])
        XCTAssertTrue(set.name.hasSuffix("/set.csv"))
    }

    func testWithoutHeaderAndNoFinalNewline() throws {
        let set = try load("3,1.5\n-2.25,+7")
        XCTAssertEqual(set.labels, [3, -2.25])
        XCTAssertEqual(floats(set), [1.5, 7])
        XCTAssertNil(set.inferredClassCount)
    }

    func testCRLFBlankLinesSpacesAndTabs() throws {
        let set = try load("\r\n \t\r\ny , a , b\r\n\r\n 1 ,\t2\t, 3 \r\n   \r\n0,4,5\r\n")
        XCTAssertEqual(set.labels, [1, 0])
        XCTAssertEqual(floats(set), [2, 3, 4, 5])
        XCTAssertEqual(set.inferredClassCount, 2)
    }

    func testByteOrderMarkIsIgnored() throws {
        let set = try load("\u{FEFF}1,2\n")
        XCTAssertEqual(set.labels, [1])
    }

    func testNonNumberNamesLineAndColumn() throws {
        let directory = try scratchDirectory()
        let path = try write("label,x\n\n1,2\n3, abc \n", to: "bad.csv", in: directory)
        assertTrainerError(.data, ["\(path):4: column 2: \"abc\" is not a number"]) {
            try DataSource.csv(path: path).load(split: .train, seed: 1)
        }
        let quoted = try write("1,2\n\"3\",4\n", to: "quoted.csv", in: directory)
        assertTrainerError(.data, ["\(quoted):2: column 1: \"\"3\"\" is not a number"]) {
            try DataSource.csv(path: quoted).load(split: .train, seed: 1)
        }
        let empty = try write("1,2,3\n4,,6\n", to: "empty-field.csv", in: directory)
        assertTrainerError(.data, ["\(empty):2: column 2: \"\" is not a number"]) {
            try DataSource.csv(path: empty).load(split: .train, seed: 1)
        }
        let partial = try write("1,2\n4,5x\n", to: "partial.csv", in: directory)
        assertTrainerError(.data, ["\(partial):2: column 2: \"5x\" is not a number"]) {
            try DataSource.csv(path: partial).load(split: .train, seed: 1)
        }
    }

    func testNaNAndInfinityAreErrors() throws {
        let directory = try scratchDirectory()
        let nan = try write("y,x\n1,2\n0,nan\n", to: "nan.csv", in: directory)
        assertTrainerError(.data, ["\(nan):3: column 2: \"nan\" is not a number"]) {
            try DataSource.csv(path: nan).load(split: .train, seed: 1)
        }
        // NaN on the first line is a number, so that line is data, not a header.
        let firstLine = try write("1,NaN\n", to: "first.csv", in: directory)
        assertTrainerError(.data, ["\(firstLine):1: column 2: \"NaN\" is not a number"]) {
            try DataSource.csv(path: firstLine).load(split: .train, seed: 1)
        }
        let huge = try write("1e50,2\n", to: "huge.csv", in: directory)
        assertTrainerError(.data, ["\(huge):1: column 1: \"1e50\" is not a number"]) {
            try DataSource.csv(path: huge).load(split: .train, seed: 1)
        }
        let infinity = try write("1,-inf\n", to: "inf.csv", in: directory)
        assertTrainerError(.data, ["\(infinity):1: column 2: \"-inf\" is not a number"]) {
            try DataSource.csv(path: infinity).load(split: .train, seed: 1)
        }
    }

    func testRaggedRow() throws {
        let directory = try scratchDirectory()
        let path = try write("1,2,3\n4,5\n", to: "ragged.csv", in: directory)
        assertTrainerError(.data, ["\(path):2: has 2 fields, expected 3"]) {
            try DataSource.csv(path: path).load(split: .train, seed: 1)
        }
        let long = try write("a,b\n1,2\n1,2,3\n", to: "long.csv", in: directory)
        assertTrainerError(.data, ["\(long):3: has 3 fields, expected 2"]) {
            try DataSource.csv(path: long).load(split: .train, seed: 1)
        }
    }

    func testEmptyFilesAndHeaderOnly() throws {
        let directory = try scratchDirectory()
        for (name, text) in [("empty.csv", ""), ("blank.csv", "\n \r\n\t\n")] {
            let path = try write(text, to: name, in: directory)
            assertTrainerError(.data, ["\(path): no data rows"]) {
                try DataSource.csv(path: path).load(split: .test, seed: 1)
            }
        }
        let header = try write("label,x\n", to: "header.csv", in: directory)
        assertTrainerError(.data, ["\(header): no data rows after the header"]) {
            try DataSource.csv(path: header).load(split: .train, seed: 1)
        }
    }

    func testSingleColumnIsRejected() throws {
        let directory = try scratchDirectory()
        let path = try write("1\n2\n", to: "one.csv", in: directory)
        assertTrainerError(.data, ["\(path):1: has 1 field; need a label and at least one feature"]) {
            try DataSource.csv(path: path).load(split: .train, seed: 1)
        }
    }

    func testMissingFileAndDirectory() throws {
        let directory = try scratchDirectory()
        assertTrainerError(.noInput, ["\(directory)/missing.csv: cannot open", "No such file"]) {
            try DataSource.csv(path: directory + "/missing.csv").load(split: .train, seed: 1)
        }
        assertTrainerError(.noInput, ["\(directory): is a directory"]) {
            try DataSource.csv(path: directory).load(split: .train, seed: 1)
        }
    }

    func testGzippedCSV() throws {
        let directory = try scratchDirectory()
        let path = try write(gzipStored(Array("y,x\n1,2\n".utf8)), to: "set.csv.gz", in: directory)
        let set = try DataSource.csv(path: path).load(split: .train, seed: 1)
        XCTAssertEqual(set.labels, [1])
        XCTAssertEqual(floats(set), [2])
    }

    /// A 10 MB file, timed, so regressions in the parser's speed show.
    func testLargeFileParsesQuickly() throws {
        var text = "label," + (1...20).map { "f\($0)" }.joined(separator: ",") + "\n"
        let row = (1...20).map { "0.\($0 * 37 % 1000)" }.joined(separator: ",")
        for index in 0..<80_000 { text += "\(index % 10),\(row)\n" }
        let clock = ContinuousClock()
        let start = clock.now
        let set = try load(text)
        print("CSV: \(text.utf8.count) bytes, \(set.count) rows in \(clock.now - start)")
        XCTAssertEqual(set.count, 80_000)
        XCTAssertEqual(set.featureCount, 20)
        XCTAssertEqual(set.inferredClassCount, 10)
    }
}
