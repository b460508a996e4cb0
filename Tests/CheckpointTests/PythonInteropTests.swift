import Foundation
import TestSupport
import XCTest
import Checkpoint
import Support

/// Reads our files with Python: numpy alone (struct + json + frombuffer), and the safetensors
/// package when installed. Skipped, never failed, when Python or a package is missing.
final class PythonInteropTests: XCTestCase {
    struct Run {
        let status: Int32
        let output: String
    }

    func run(_ executable: String, _ arguments: [String]) -> Run? {
        guard FileManager.default.isExecutableFile(atPath: executable) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// The first interpreter (of /usr/bin/python3 and `python3` on PATH) that can import `module`.
    func python(importing module: String) -> String? {
        var candidates = ["/usr/bin/python3"]
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(directory)/python3")
        }
        for candidate in candidates where run(candidate, ["-c", "import \(module)"])?.status == 0 {
            return candidate
        }
        return nil
    }

    func checkpoint() -> SafeTensors {
        SafeTensors(
            tensors: [
                f32Entry("dense0.weight", [2, 3], [1, -2.5, 3.25, 1e-7, -0.0, 65504]),
                f64Entry("dense0.bias", [3], [0.1, -1e300, 2.5]),
                TensorEntry(name: "step", shape: [], int64s: [123_456_789_012]),
                TensorEntry(name: "order", shape: [4], int64s: [3, -1, Int64.max, Int64.min]),
                f32Entry("empty", [0, 2], []),
            ],
            metadata: ["format": "trainer", "crc": "12345"])
    }

    static let expectedValues = """
        {"dense0.weight": [[1, -2.5, 3.25, 1e-7, -0.0, 65504], [2, 3], "float32"],
         "dense0.bias": [[0.1, -1e300, 2.5], [3], "float64"],
         "step": [[123456789012], [], "int64"],
         "order": [[3, -1, 9223372036854775807, -9223372036854775808], [4], "int64"],
         "empty": [[], [0, 2], "float32"]}
        """

    func testNumpyReadsOurFile() throws {
        guard let python = python(importing: "numpy") else { throw XCTSkip("no python3 with numpy") }
        let directory = try scratchDirectory()
        let path = directory + "/interop.safetensors"
        try checkpoint().write(to: path)
        let script = """
            import json, struct, sys
            import numpy as np
            raw = open(sys.argv[1], "rb").read()
            (n,) = struct.unpack("<Q", raw[:8])
            assert n % 8 == 0, n
            header = json.loads(raw[8:8 + n].decode("utf-8"))
            assert header.pop("__metadata__") == {"format": "trainer", "crc": "12345"}
            data = raw[8 + n:]
            kinds = {"F32": "<f4", "F64": "<f8", "I64": "<i8"}
            expected = json.loads(sys.argv[2])
            assert sorted(header) == sorted(expected), sorted(header)
            end = 0
            for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"]):
                begin, stop = info["data_offsets"]
                assert begin == end, (name, begin, end)
                end = stop
                array = np.frombuffer(data[begin:stop], dtype=kinds[info["dtype"]]).reshape(info["shape"])
                values, shape, dtype = expected[name]
                assert list(array.shape) == shape, (name, array.shape)
                assert array.dtype == np.dtype(dtype), (name, array.dtype)
                want = np.array(values, dtype=dtype).reshape(shape)
                assert np.array_equal(array, want), (name, array, want)
                assert np.array_equal(np.signbit(array), np.signbit(want)), name
            assert end == len(data), (end, len(data))
            print("ok")
            """
        let result = run(python, ["-c", script, path, Self.expectedValues])
        XCTAssertEqual(result?.status, 0, result?.output ?? "")
        XCTAssertEqual(result?.output.trimmingCharacters(in: .whitespacesAndNewlines), "ok")
    }

    func testSafetensorsPackageReadsOurFile() throws {
        guard let python = python(importing: "safetensors.numpy") else {
            throw XCTSkip("no python3 with the safetensors package")
        }
        let directory = try scratchDirectory()
        let path = directory + "/interop.safetensors"
        try checkpoint().write(to: path)
        let script = """
            import json, sys
            import numpy as np
            from safetensors import safe_open
            from safetensors.numpy import load_file
            tensors = load_file(sys.argv[1])
            expected = json.loads(sys.argv[2])
            assert sorted(tensors) == sorted(expected), sorted(tensors)
            for name, (values, shape, dtype) in expected.items():
                want = np.array(values, dtype=dtype).reshape(shape)
                assert tensors[name].dtype == want.dtype, name
                assert np.array_equal(tensors[name], want), (name, tensors[name], want)
            with safe_open(sys.argv[1], framework="np") as f:
                assert f.metadata() == {"format": "trainer", "crc": "12345"}, f.metadata()
            print("ok")
            """
        let result = run(python, ["-c", script, path, Self.expectedValues])
        XCTAssertEqual(result?.status, 0, result?.output ?? "")
    }

    /// A file written by the reference implementation (the safetensors package) reads back.
    func testWeReadAFileWrittenBySafetensorsPackage() throws {
        guard let python = python(importing: "safetensors.numpy") else {
            throw XCTSkip("no python3 with the safetensors package")
        }
        let directory = try scratchDirectory()
        let path = directory + "/reference.safetensors"
        let script = """
            import sys
            import numpy as np
            from safetensors.numpy import save_file
            save_file({"w": (np.arange(6, dtype=np.float32) - 2).reshape(3, 2),
                       "d": np.array([0.5, -3.0], dtype=np.float64),
                       "n": np.array([7, -8, 9], dtype=np.int64),
                       "z": np.zeros((2, 0), dtype=np.float32),
                       "s": np.array(1.5, dtype=np.float32),
                       "u": np.array([1, 255], dtype=np.uint8)},
                      sys.argv[1], metadata={"format": "np"})
            """
        let result = run(python, ["-c", script, path])
        XCTAssertEqual(result?.status, 0, result?.output ?? "")
        let read = try SafeTensors(contentsOf: path)
        XCTAssertEqual(read["w"]?.shape, [3, 2])
        XCTAssertEqual(read["w"]?.floats(), [-2, -1, 0, 1, 2, 3])
        XCTAssertEqual(read["d"]?.doubles(), [0.5, -3.0])
        XCTAssertEqual(read["n"]?.int64s(), [7, -8, 9])
        XCTAssertEqual(read["z"]?.shape, [2, 0])
        XCTAssertEqual(read["z"]?.elementCount, 0)
        XCTAssertEqual(read["s"]?.shape, [])
        XCTAssertEqual(read["s"]?.floats(), [1.5])
        XCTAssertEqual(read["u"]?.bytes, [1, 255])
        XCTAssertEqual(read.metadata, ["format": "np"])
        // Our encoding of what we read is again a valid file with the same contents.
        XCTAssertEqual(try SafeTensors(decoding: read.encoded(), source: "mem"), read)
    }

    /// A file laid out by a Python writer (its own key order, metadata first, padding) reads back.
    func testWeReadAFileWrittenByPython() throws {
        guard let python = python(importing: "numpy") else { throw XCTSkip("no python3 with numpy") }
        let directory = try scratchDirectory()
        let path = directory + "/from-python.safetensors"
        let script = """
            import json, struct, sys
            import numpy as np
            a = np.arange(6, dtype="<f4").reshape(2, 3) / 4
            b = np.array([-1, 2**40], dtype="<i8")
            header = {"__metadata__": {"who": "python"},
                      "b": {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]},
                      "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [16, 40]}}
            text = json.dumps(header).encode()
            text += b" " * (-len(text) % 8)
            with open(sys.argv[1], "wb") as f:
                f.write(struct.pack("<Q", len(text)) + text + b.tobytes() + a.tobytes())
            """
        let result = run(python, ["-c", script, path])
        XCTAssertEqual(result?.status, 0, result?.output ?? "")
        let read = try SafeTensors(contentsOf: path)
        XCTAssertEqual(read.tensors.map(\.name), ["b", "a"])
        XCTAssertEqual(read["a"]?.floats(), [0, 0.25, 0.5, 0.75, 1, 1.25])
        XCTAssertEqual(read["a"]?.shape, [2, 3])
        XCTAssertEqual(read["b"]?.int64s(), [-1, 1 << 40])
        XCTAssertEqual(read.metadata, ["who": "python"])
    }
}
