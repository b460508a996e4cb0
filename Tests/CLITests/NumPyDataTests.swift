import Foundation
import TestSupport
import XCTest

/// Issue 21's NumPy inputs as a user meets them: the `trainer` binary on files that numpy
/// (/usr/bin/python3's) wrote with np.save and np.savez, and what `trainer convert` and the data
/// cache write, read back by numpy.
final class NumPyDataTests: XCTestCase {
    /// A scratch directory holding the files `script` writes into sys.argv[1].
    func files(_ script: String) throws -> String {
        let directory = try scratchDirectory()
        try SystemPython.run(script, [directory])
        return directory
    }

    // MARK: Fashion-MNIST

    /// Python: `idx(split)`, Fashion-MNIST's IDX files of `split` (train, t10k) as numpy reads
    /// them: images uint8 (N, 28, 28) and labels uint8 (N,).
    static let readIDX = #"""
        import gzip, json, sys
        import numpy as np

        def idx(split):
            source = "/usr/share/datasets/fashion-mnist"
            with gzip.open(f"{source}/{split}-images-idx3-ubyte.gz") as f:
                images = f.read()
            with gzip.open(f"{source}/{split}-labels-idx1-ubyte.gz") as f:
                labels = f.read()
            assert images[:4] == bytes([0, 0, 8, 3]) and labels[:4] == bytes([0, 0, 8, 1])
            x = np.frombuffer(images, np.uint8, offset=16).reshape(-1, 28, 28)
            y = np.frombuffer(labels, np.uint8, offset=8)
            assert x.shape == (len(y), 28, 28)
            return x, y

        """#

    /// Into sys.argv[1]: the default job's arrays, x.npy and y.npy (train), xt.npy and yt.npy
    /// (t10k) by np.save, train.npz and test.npz by np.savez, and the test labels as text, yt.txt.
    static let fashionArrays = readIDX + #"""
        out = sys.argv[1]
        for split, suffix, archive in [("train", "", "train"), ("t10k", "t", "test")]:
            x, y = idx(split)
            np.save(f"{out}/x{suffix}.npy", x)
            np.save(f"{out}/y{suffix}.npy", y)
            np.savez(f"{out}/{archive}.npz", x=x, y=y)
        open(f"{out}/yt.txt", "w").write("\n".join(map(str, y)))
        """#

    /// Python: what the .npz files of sys.argv[1:] hold against the IDX arrays of their split
    /// (train, then t10k): each file's arrays (dtype, shape) and whether x and y equal the IDX
    /// images (flattened per sample) and labels.
    static let compareWithIDX = readIDX + #"""
        report = []
        for path, split in zip(sys.argv[1:], ["train", "t10k"]):
            f, (x, y) = np.load(path), idx(split)
            report.append(dict(arrays={k: [str(f[k].dtype), list(f[k].shape)] for k in f.files},
                               x=bool(np.array_equal(f["x"], x.reshape(len(x), -1))), y=bool(np.array_equal(f["y"], y))))
        print(json.dumps(report))
        """#

    static let fashionJob = ["--epochs", "1"]

    /// The default job, 1 epoch, on the IDX files (`--data fashion-mnist`): trained once for the tests that compare with it.
    nonisolated(unsafe) static var fashionRun: RunResult?

    func fashionMNISTRun() throws -> RunResult {
        if let run = Self.fashionRun { return run }
        let run = try RunResult.train(Self.fashionJob + ["--data", "fashion-mnist"])
        Self.fashionRun = run
        return run
    }

    /// np.save and np.savez of the IDX arrays train the bits of the IDX files, with the same
    /// metrics; evaluate on either test file reports the run's test loss and accuracy, and
    /// predict prints a class per test sample, as many right as evaluate says.
    func testFashionMNISTAsNumPyTrainsTheBitsOfItsIDXFiles() throws {
        let d = try files(Self.fashionArrays)
        let idx = try fashionMNISTRun()
        let testAccuracy = try XCTUnwrap(idx.finalTestAccuracy)
        let testLoss = try XCTUnwrap(idx.losses.last { $0.0.hasPrefix("test_loss") }?.1)
        XCTAssertGreaterThan(testAccuracy, 0.7, "one epoch of the default job")
        let npy = try RunResult.train(Self.fashionJob + ["--data", "npy:\(d)/x.npy,\(d)/y.npy", "--test-data", "npy:\(d)/xt.npy,\(d)/yt.npy"])
        let npz = try RunResult.train(Self.fashionJob + ["--data", "npz:\(d)/train.npz", "--test-data", "npz:\(d)/test.npz"],
                                      checkpoints: d + "/ckpt")
        for (name, run) in [("npy", npy), ("npz", npz)] {
            XCTAssertEqual(run.parameterBytes, idx.parameterBytes, "\(name): the parameters of the IDX run")
            XCTAssertEqual(run.metrics, idx.metrics, "\(name): the metrics of the IDX run")
        }
        XCTAssertEqual(idx.metrics.count, 5, "a line per 100 steps and the epoch's: \(idx.metrics)")

        var evaluated: [String] = []
        for data in ["npz:\(d)/test.npz", "npy:\(d)/xt.npy,\(d)/yt.npy"] {
            let outcome = try TrainerProcess.run(["evaluate", d + "/ckpt", "--data", data, "--no-matrix"])
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            let match = try XCTUnwrap(outcome.stdout.firstMatch(of: try Regex(#"(\d+) samples, loss ([0-9.]+), accuracy ([0-9.]+)%"#)),
                                      outcome.stdout)
            XCTAssertEqual(match.output[1].substring, "10000", outcome.stdout)
            XCTAssertEqual(try XCTUnwrap(Double(String(try XCTUnwrap(match.output[2].substring)))), testLoss, accuracy: 0.00005 + 1e-9,
                           "\(data): the run's test loss")
            let accuracy = String(try XCTUnwrap(match.output[3].substring))
            XCTAssertEqual(accuracy, String(format: "%.2f", 100 * testAccuracy), "\(data): the run's test accuracy")
            evaluated.append(accuracy)
        }

        let predictions = try ["npy:\(d)/xt.npy", "npz:\(d)/test.npz"].map { input in
            let outcome = try TrainerProcess.run(["predict", d + "/ckpt", input], timeout: 60)
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            return outcome.stdout
        }
        XCTAssertEqual(predictions[0], predictions[1], "the same samples, from np.save and from np.savez")
        let lines = predictions[0].split(separator: "\n")
        XCTAssertEqual(lines.first, "index,predicted," + (0..<10).map { "p_\($0)" }.joined(separator: ","))
        XCTAssertEqual(lines.count, 1 + 10_000, "a line per test sample")
        let truth = try String(contentsOfFile: d + "/yt.txt", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(truth.count, 10_000)
        var correct = 0
        for (index, line) in zip(truth.indices, lines.dropFirst()) {
            let fields = line.split(separator: ",")
            XCTAssertEqual(fields.first, Substring(String(index)))
            if fields.count > 1, fields[1] == truth[index] { correct += 1 }
        }
        XCTAssertEqual(correct, Int((testAccuracy * 10_000).rounded()), "predict's classes are right as often as the run's test accuracy says")
        XCTAssertEqual(evaluated.first, String(format: "%.2f", Double(correct) / 100), "evaluate's accuracy")
    }

    /// `trainer convert` of Fashion-MNIST: numpy reads x uint8 (N, 784) and y int64, the IDX
    /// arrays, and training on them gives the bits of the IDX files.
    func testConvertedFashionMNISTIsWhatNumPyReadsAndTrainsTheSameBits() throws {
        let d = try scratchDirectory()
        for (split, file) in [("train", "train.npz"), ("test", "test.npz")] {
            let outcome = try TrainerProcess.run(["convert", "fashion-mnist", "\(d)/\(file)", "--split", split], timeout: 60)
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            XCTAssertTrue(outcome.stdout.hasSuffix("samples of 784 features → \(d)/\(file)\n"), outcome.stdout)
        }
        let report = try JSONSerialization.jsonObject(with: Data(try SystemPython.run(Self.compareWithIDX, ["\(d)/train.npz", "\(d)/test.npz"]).utf8))
        let files = try XCTUnwrap(report as? [[String: Any]])
        XCTAssertEqual(files.count, 2)
        for (file, count) in zip(files, [60_000, 10_000]) {
            XCTAssertEqual(file["arrays"] as? NSDictionary, ["x": ["uint8", [count, 784]], "y": ["int64", [count]]] as NSDictionary)
            XCTAssertEqual(file["x"] as? Bool, true, "x holds the IDX images")
            XCTAssertEqual(file["y"] as? Bool, true, "y holds the IDX labels")
        }
        let converted = try RunResult.train(Self.fashionJob + ["--data", "npz:\(d)/train.npz", "--test-data", "npz:\(d)/test.npz"])
        let idx = try fashionMNISTRun()
        XCTAssertEqual(converted.parameterBytes, idx.parameterBytes)
        XCTAssertEqual(converted.metrics, idx.metrics)
    }

    // MARK: Element types

    /// Into sys.argv[1]: 600 samples of 5 whole-number features in −9…9 and 3 classes (the
    /// largest of three sums), as features x-f4, x-f8, x-i2, x-i4 (.npy) and labels y-i8, y-u1,
    /// y-f4; as CSV with the label first (first.csv) and with a header and the label in
    /// column 2 (named.csv: a,b,label,c,d,e).
    static let classificationSet = #"""
        import sys
        import numpy as np
        out = sys.argv[1]
        x = np.random.default_rng(21).integers(-9, 10, size=(600, 5))
        y = np.argmax(x[:, :3] + 0.5 * x[:, 3:4], axis=1)
        for t in ["f4", "f8", "i2", "i4"]:
            np.save(f"{out}/x-{t}.npy", x.astype("<" + t))
        for t in ["i8", "u1", "f4"]:
            np.save(f"{out}/y-{t}.npy", y.astype("<" + t))
        np.savetxt(f"{out}/first.csv", np.column_stack([y, x]), fmt="%d", delimiter=",")
        np.savetxt(f"{out}/named.csv", np.column_stack([x[:, :2], y, x[:, 2:]]), fmt="%d", delimiter=",",
                   header="a,b,label,c,d,e", comments="")
        """#

    static let classificationJob = ["--model", "softmax", "--epochs", "3", "--batch-size", "32"]

    /// The same values as float32, float64, int16 or int32 features and int64, uint8 or float32
    /// labels train the bits of the CSV file, label first or in another column named by
    /// --label-column (by name and by number), with the same metrics.
    func testEveryElementTypeTrainsTheBitsOfTheCSV() throws {
        let d = try files(Self.classificationSet)
        let csv = try RunResult.train(Self.classificationJob + ["--data", "csv:\(d)/first.csv"])
        let trainLoss = try XCTUnwrap(csv.losses.last { $0.0.hasPrefix("train_loss") }?.1)
        XCTAssertLessThan(trainLoss, 0.3, "it learns: ln 3 ≈ 1.1 before the first step")
        let variants: [(String, [String])] = [
            ("float32 features", ["--data", "npy:\(d)/x-f4.npy,\(d)/y-i8.npy"]),
            ("float64 features", ["--data", "npy:\(d)/x-f8.npy,\(d)/y-i8.npy"]),
            ("int16 features", ["--data", "npy:\(d)/x-i2.npy,\(d)/y-i8.npy"]),
            ("int32 features", ["--data", "npy:\(d)/x-i4.npy,\(d)/y-i8.npy"]),
            ("uint8 labels", ["--data", "npy:\(d)/x-f4.npy,\(d)/y-u1.npy"]),
            ("float32 labels", ["--data", "npy:\(d)/x-f4.npy,\(d)/y-f4.npy"]),
            ("--label-column by name", ["--data", "csv:\(d)/named.csv", "--label-column", "label"]),
            ("--label-column by number", ["--data", "csv:\(d)/named.csv", "--label-column", "2"]),
        ]
        for (name, flags) in variants {
            let run = try RunResult.train(Self.classificationJob + flags)
            XCTAssertEqual(run.parameterBytes, csv.parameterBytes, name)
            XCTAssertEqual(run.metrics, csv.metrics, name)
        }
    }

    /// `trainer convert` of a CSV file (label first, or named by --label-column): numpy reads
    /// x float32 (600, 5) and y int64, the file's values, and training on it gives the CSV's bits.
    func testConvertedCSVIsWhatNumPyReadsAndTrainsTheSameBits() throws {
        let d = try files(Self.classificationSet)
        for (source, flags) in [("first", [String]()), ("named", ["--label-column", "label"])] {
            let outcome = try TrainerProcess.run(["convert", "csv:\(d)/\(source).csv", "\(d)/\(source).npz"] + flags)
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            XCTAssertEqual(outcome.stdout, "\(d)/\(source).csv: 600 samples of 5 features → \(d)/\(source).npz\n")
        }
        let script = #"""
            import json, sys
            import numpy as np
            values = np.loadtxt(sys.argv[1] + "/first.csv", delimiter=",")
            report = {}
            for name in ["first", "named"]:
                f = np.load(f"{sys.argv[1]}/{name}.npz")
                report[name] = dict(arrays={k: [str(f[k].dtype), list(f[k].shape)] for k in f.files},
                                    x=bool(np.array_equal(f["x"], values[:, 1:])), y=bool(np.array_equal(f["y"], values[:, 0])))
            print(json.dumps(report))
            """#
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try SystemPython.run(script, [d]).utf8)) as? [String: [String: Any]])
        XCTAssertEqual(report.keys.sorted(), ["first", "named"])
        for (name, file) in report {
            XCTAssertEqual(file["arrays"] as? NSDictionary, ["x": ["float32", [600, 5]], "y": ["int64", [600]]] as NSDictionary, name)
            XCTAssertEqual(file["x"] as? Bool, true, "\(name): x holds the features")
            XCTAssertEqual(file["y"] as? Bool, true, "\(name): y holds the labels")
        }
        let csv = try RunResult.train(Self.classificationJob + ["--data", "csv:\(d)/first.csv"])
        let converted = try RunResult.train(Self.classificationJob + ["--data", "npz:\(d)/named.npz"])
        XCTAssertEqual(converted.parameterBytes, csv.parameterBytes)
        XCTAssertEqual(converted.metrics, csv.metrics)
    }

    // MARK: Bad input

    /// Into sys.argv[1]: x.npy (12 × 3 float32) and y.npy (int64 classes 0…2), and files each
    /// wrong in one way, named for it.
    static let badFiles = #"""
        import os, struct, sys
        import numpy as np
        from numpy.lib import format as fmt
        out = sys.argv[1]

        def path(name):
            return os.path.join(out, name)

        def write(name, data):
            with open(path(name), "wb") as f:
                f.write(data)

        def crafted(header, data):
            # A version 1.0 .npy file with `header` (padded as numpy pads), whatever it says, then `data`.
            text = header.encode() + b" "
            text += b" " * (-(len(fmt.MAGIC_PREFIX) + 4 + len(text) + 1) % 64) + b"\n"
            return fmt.MAGIC_PREFIX + b"\x01\x00" + struct.pack("<H", len(text)) + text + data

        x = (np.arange(36, dtype="<f4") % 7).reshape(12, 3)
        y = np.arange(12, dtype="<i8") % 3
        np.save(path("x.npy"), x)
        np.save(path("y.npy"), y)
        good = open(path("x.npy"), "rb").read()
        write("cut.npy", good[:-7])
        write("magic.npy", b"\x93NUMPX" + good[6:])
        write("version.npy", good[:6] + b"\x04\x00" + good[8:])
        write("list-header.npy", crafted("[12, 3]", x.tobytes()))
        write("short.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': (13, 3), }", x.tobytes()))
        np.save(path("fortran.npy"), np.asfortranarray(x))
        np.save(path("big-endian.npy"), x.astype(">f4"))
        np.save(path("object.npy"), np.array([{}] * 12, dtype=object), allow_pickle=True)
        np.save(path("unicode.npy"), np.array(["cat"] * 12))
        np.save(path("zero-rows.npy"), np.zeros((0, 3), "<f4"))
        np.save(path("y-short.npy"), y[:11])
        np.save(path("y-negative.npy"), y - 1)
        np.save(path("y-fraction.npy"), y + np.where(np.arange(12) == 4, 0.5, 0))
        y_nan = y.astype("<f4")
        y_nan[5] = np.nan
        np.save(path("y-nan.npy"), y_nan)
        os.mkdir(path("directory.npy"))
        write("text.npz", b"x,y\n1,2\n")
        np.savez(path("no-y.npz"), x=x)
        np.savez_compressed(path("compressed.npz"), x=x, y=y)
        with open(path("named.csv"), "w") as f:
            f.write("a,b,label,c\n" + "".join(f"{r[0]},{r[1]},{l},{r[2]}\n" for r, l in zip(x, y)))
        """#

    /// A file or flag wrong in one way: `arguments` of `train` given the directory of `badFiles`.
    struct BadInput: Sendable {
        let name: String
        let code: Int32
        let arguments: @Sendable (String) -> [String]
        let mentions: [String]
    }

    static let badInputs: [BadInput] = {
        @Sendable func npy(_ x: String, _ y: String = "y") -> @Sendable (String) -> [String] { { ["--data", "npy:\($0)/\(x).npy,\($0)/\(y).npy"] } }
        func npz(_ name: String) -> @Sendable (String) -> [String] { { ["--data", "npz:\($0)/\(name).npz"] } }
        return [
            BadInput(name: "truncated .npy", code: 65, arguments: npy("cut"), mentions: ["cut.npy: truncated", "promises 144 bytes"]),
            BadInput(name: "bad magic", code: 65, arguments: npy("magic"), mentions: ["magic.npy: not a NumPy .npy file"]),
            BadInput(name: "version 4.0", code: 65, arguments: npy("version"), mentions: ["version.npy: unsupported .npy format version 4.0"]),
            BadInput(name: "header not a dict", code: 65, arguments: npy("list-header"), mentions: ["list-header.npy: header is not a Python dict"]),
            BadInput(name: "header promising more data", code: 65, arguments: npy("short"), mentions: ["short.npy: truncated: shape (13, 3)"]),
            BadInput(name: "Fortran order", code: 65, arguments: npy("fortran"), mentions: ["fortran.npy: Fortran order is not supported"]),
            BadInput(name: "big-endian float32", code: 65, arguments: npy("big-endian"), mentions: ["big-endian.npy: dtype '>f4' is big-endian"]),
            BadInput(name: "object dtype", code: 65, arguments: npy("object"), mentions: ["object.npy: dtype '|O' (object"]),
            BadInput(name: "unicode dtype", code: 65, arguments: npy("unicode"), mentions: ["unicode.npy: dtype '<U3' (unicode strings)"]),
            BadInput(name: "zero rows", code: 65, arguments: npy("zero-rows"), mentions: ["zero-rows.npy: has no samples"]),
            BadInput(name: "fewer labels than samples", code: 65, arguments: npy("x", "y-short"),
                     mentions: ["y-short.npy: has 11 labels but", "x.npy has 12 samples"]),
            BadInput(name: "negative class label", code: 65, arguments: npy("x", "y-negative"),
                     mentions: ["y-negative.npy: label -1 of sample 0 is not a class"]),
            BadInput(name: "negative class label in the test data", code: 65,
                     arguments: { npy("x")($0) + ["--test-data", "npy:\($0)/x.npy,\($0)/y-negative.npy"] },
                     mentions: ["y-negative.npy: label -1 of sample 0 is out of range"]),
            BadInput(name: "fractional class label", code: 65, arguments: npy("x", "y-fraction"),
                     mentions: ["y-fraction.npy: label 1.5 of sample 4 is not a class"]),
            BadInput(name: "fractional class label, --classes given", code: 65, arguments: { npy("x", "y-fraction")($0) + ["--classes", "3"] },
                     mentions: ["y-fraction.npy: label 1.5 of sample 4 is not a whole number"]),
            BadInput(name: "NaN label", code: 65, arguments: npy("x", "y-nan"), mentions: ["y-nan.npy: label nan of sample 5 is not a number"]),
            BadInput(name: "a directory as the .npy", code: 66, arguments: npy("directory"), mentions: ["directory.npy: is a directory"]),
            BadInput(name: "missing labels file", code: 66, arguments: npy("x", "absent"), mentions: ["absent.npy: no such file"]),
            BadInput(name: "missing .npz", code: 66, arguments: npz("absent"), mentions: ["absent.npz: no such file"]),
            BadInput(name: "a text file as npz:", code: 65, arguments: npz("text"), mentions: ["text.npz: is not a zip file"]),
            BadInput(name: "npz without y", code: 65, arguments: npz("no-y"), mentions: ["no-y.npz: holds no array y"]),
            BadInput(name: "np.savez_compressed", code: 65, arguments: npz("compressed"),
                     mentions: ["compressed.npz (x): is compressed (np.savez_compressed)", "save with np.savez", "convert once with trainer convert ", "compressed.npz OUT.npz"]),
            BadInput(name: "--label-column naming no column", code: 64,
                     arguments: { ["--data", "csv:\($0)/named.csv", "--label-column", "nope"] },
                     mentions: ["--label-column nope: ", "named.csv's header line has no such column (it has a, b, label, c)"]),
            BadInput(name: "--label-column numbering no column", code: 64,
                     arguments: { ["--data", "csv:\($0)/named.csv", "--label-column", "4"] },
                     mentions: ["--label-column 4: ", "named.csv has 4 columns, numbered from 0 to 3"]),
        ]
    }()

    /// Each bad input: one line naming the file (or flag) and what is wrong, its documented exit
    /// code, nothing on stdout, and no checkpoint or metrics file.
    func testEveryBadInputIsOneLineAndWritesNothing() throws {
        let d = try files(Self.badFiles)
        for (index, bad) in Self.badInputs.enumerated() {
            let checkpoints = "\(d)/ckpt-\(index)", metrics = "\(d)/metrics-\(index).jsonl"
            try assertFails(["train", "--epochs", "1", "--model", "softmax", "--checkpoint-dir", checkpoints, "--metrics", metrics] + bad.arguments(d),
                            code: bad.code, mentions: bad.mentions)
            XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? [], [], "\(bad.name): nothing in --checkpoint-dir")
            XCTAssertFalse(FileManager.default.fileExists(atPath: metrics), "\(bad.name): no --metrics file")
        }
    }

    // MARK: The data cache

    /// `rows` lines `label,a,b` of two classes (1 where a > b), a and b whole numbers drawn by `offset`.
    static func csv(rows: Int, offset: Int) -> [String] {
        (0..<rows).map { r in
            let a = (r * 7 + offset) % 11 - 5, b = (r * 3 + 2 * offset) % 13 - 6
            return "\(a > b ? 1 : 0),\(a),\(b)\n"
        }
    }

    /// A CSV job twice: one .npz entry in TRAINER_CACHE, made by the first run, which numpy reads
    /// (x float32, y float32, names) as the file's values, and the second run maps it unchanged;
    /// the file rewritten with other values — of another size, then of the same size with
    /// another modification time — trains on the new values, as a run on a fresh cache does.
    func testTheDataCacheKeepsOneEntryThatFollowsTheFile() throws {
        let d = try scratchDirectory(), cache = d + "/cache", data = d + "/data.csv"
        let job = ["--model", "logistic", "--epochs", "2", "--batch-size", "16", "--data", "csv:" + data]
        func run(_ lines: [String], mtime: Date? = nil) throws -> RunResult {
            try lines.joined().write(toFile: data, atomically: false, encoding: .utf8)
            if let mtime { try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: data) }
            return try RunResult.train(job, environment: ["TRAINER_CACHE": cache])
        }
        /// The same lines at another path, trained with a cache of its own.
        func fresh(_ lines: [String]) throws -> RunResult {
            let other = try scratchDirectory()
            try lines.joined().write(toFile: other + "/data.csv", atomically: false, encoding: .utf8)
            return try RunResult.train(["--model", "logistic", "--epochs", "2", "--batch-size", "16", "--data", "csv:\(other)/data.csv"],
                                       environment: ["TRAINER_CACHE": other + "/cache"])
        }
        /// The one entry of the cache, checked against `lines` by numpy; its inode and modification time.
        @discardableResult
        func entry(holding lines: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [FileAttributeKey: Any] {
            let entries = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasSuffix(".npz") }
            XCTAssertEqual(entries.count, 1, "\(entries)", file: file, line: line)
            let path = cache + "/" + (entries.first ?? "")
            let script = #"""
                import json, sys
                import numpy as np
                f = np.load(sys.argv[1])
                print(json.dumps(dict(arrays={k: [str(f[k].dtype), list(f[k].shape)] for k in f.files},
                                      x=f["x"].tolist(), y=f["y"].tolist(), names=bytes(f["names"]).decode())))
                """#
            let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try SystemPython.run(script, [path]).utf8)) as? [String: Any])
            let values = lines.map { $0.dropLast().split(separator: ",").map { Double($0)! } }
            XCTAssertEqual(report["arrays"] as? NSDictionary,
                           ["x": ["float32", [lines.count, 2]], "y": ["float32", [lines.count]], "facts": ["float64", [3]],
                            "names": ["uint8", [2 * data.utf8.count + 1]]] as NSDictionary,
                           file: file, line: line)
            XCTAssertEqual(report["x"] as? [[Double]], values.map { Array($0.dropFirst()) }, "x: the features", file: file, line: line)
            XCTAssertEqual(report["y"] as? [Double], values.map { $0[0] }, "y: the labels", file: file, line: line)
            XCTAssertEqual(report["names"] as? String, data + "\n" + data, "the names messages use", file: file, line: line)
            return try FileManager.default.attributesOfItem(atPath: path)
        }

        let first = Self.csv(rows: 80, offset: 0)
        let once = try run(first)
        let made = try entry(holding: first)
        let twice = try RunResult.train(job, environment: ["TRAINER_CACHE": cache])
        let kept = try entry(holding: first)
        XCTAssertEqual(twice.parameterBytes, once.parameterBytes)
        XCTAssertEqual(kept[.systemFileNumber] as? Int, made[.systemFileNumber] as? Int, "the second run maps the first run's entry")
        XCTAssertEqual(kept[.modificationDate] as? Date, made[.modificationDate] as? Date, "and does not write it again")

        let larger = Self.csv(rows: 90, offset: 1)
        let resized = try run(larger)
        try entry(holding: larger)
        XCTAssertEqual(resized.parameterBytes, try fresh(larger).parameterBytes, "the new values, not the cached ones")
        XCTAssertNotEqual(resized.parameterBytes, once.parameterBytes)

        let reordered = Array(larger.reversed())  // the same size
        let modified = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: data)[.modificationDate] as? Date)
        let touched = try run(reordered, mtime: modified.addingTimeInterval(10))
        try entry(holding: reordered)
        XCTAssertEqual(touched.parameterBytes, try fresh(reordered).parameterBytes, "the new order, not the cached one")
        XCTAssertNotEqual(touched.parameterBytes, resized.parameterBytes)
    }
}
