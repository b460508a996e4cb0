import Foundation
import Support
import TestSupport
import Training
import XCTest

/// The commands as a user runs them.
final class CommandTests: XCTestCase {
    func testHelpExplainsEveryFlagWithItsDefault() throws {
        let outcome = try TrainerProcess.run(["train", "--help"])
        XCTAssertEqual(outcome.status, 0)
        // "--lr <lr>", not a prefix of another flag such as --lr-schedule.
        for flag in ["--data", "--test-data", "--model", "--epochs", "--batch-size", "--lr", "--seed", "--metrics",
                     "--lr-schedule", "--momentum", "--l1", "--l2", "--mpi", "--mpi-wait", "--mpi-reduce", "--grad-compression"] {
            XCTAssertTrue(outcome.stdout.contains("\(flag) <"), flag)
        }
        // Closed choices list their values (the help wraps lines: compare words).
        let words = outcome.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(words.contains("values: auto, on, off"), outcome.stdout)
        XCTAssertTrue(words.contains("values: block, sleep"), outcome.stdout)
        XCTAssertTrue(words.contains("values: ordered, flat, allreduce"), outcome.stdout)
        XCTAssertTrue(words.contains("default: fashion-mnist"), outcome.stdout)
        XCTAssertTrue(words.contains("default: mlp:256-128:relu"), outcome.stdout)
        XCTAssertTrue(words.contains("default: 128"), outcome.stdout)
    }

    /// `--resume`'s help names every setting a resume must match (`RunSettings.all`), before
    /// "must be those of the checkpoint", and the table's other flags after it, as ones that may change.
    func testResumeHelpNamesEverySettingAResumeMustMatch() throws {
        let outcome = try TrainerProcess.run(["train", "--help"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        // The --resume entry, up to the next flag; the help wraps lines: compare words.
        let lines = outcome.stdout.split(separator: "\n")
        let start = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("  --resume ") }, outcome.stdout)
        let end = lines[(start + 1)...].firstIndex { $0.hasPrefix("  -") } ?? lines.endIndex
        let help = lines[start..<end].joined(separator: " ").split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let parts = help.components(separatedBy: " must be those of the checkpoint; ")
        XCTAssertEqual(parts.count, 2, help)
        let mustMatch = parts[0], mayChange = parts.last ?? ""
        // The whole name: --lr, not the start of --lr-schedule.
        func names(_ text: String, _ name: String) -> Bool {
            text.range(of: "(^| )" + NSRegularExpression.escapedPattern(for: name) + "([ ,;.]|$)", options: .regularExpression) != nil
        }
        let must = RunSettings.all.filter(\.resumeMustMatch)
        XCTAssertGreaterThan(must.count, 10)
        for setting in must {
            XCTAssertTrue(names(mustMatch, setting.name), "--resume's help lacks \(setting.name) among what must match: \(help)")
        }
        for setting in RunSettings.all where setting.isFlag && !setting.resumeMustMatch {
            XCTAssertFalse(names(mustMatch, setting.name), "\(setting.name) need not match: \(help)")
            XCTAssertTrue(names(mayChange, setting.name), "--resume's help lacks \(setting.name) among what may change: \(help)")
        }
    }

    /// gradcheck takes train's own declarations of --model, --l1, --l2 and --seed (its defaults
    /// its own), and no flag of train's it cannot use.
    func testGradcheckSharesTrainsModelFlags() throws {
        let train = try declaredFlags(of: "train"), gradcheck = try declaredFlags(of: "gradcheck")
        XCTAssertEqual(Set(gradcheck.keys), ["model", "l1", "l2", "seed", "inputs", "classes", "rows"])
        for name in ["model", "l1", "l2"] {
            for field in ["abstract", "discussion", "valueName", "parsingStrategy"] {
                XCTAssertEqual(gradcheck[name]?[field] as? String, train[name]?[field] as? String, "--\(name) \(field)")
            }
        }
        XCTAssertEqual(gradcheck["model"]?["defaultValue"] as? String, "mlp:8-4:relu")
        XCTAssertEqual(train["model"]?["defaultValue"] as? String, "mlp:256-128:relu")
        XCTAssertEqual(gradcheck["seed"]?["defaultValue"] as? String, "1")
        XCTAssertEqual(gradcheck["seed"]?["parsingStrategy"] as? String, train["seed"]?["parsingStrategy"] as? String)
    }

    /// On a CPU with AVX2 the trainer never runs OpenBLAS's generic SSE3 kernels (which it picks
    /// for CPUs newer than itself): it starts itself again with OPENBLAS_CORETYPE (`BLASKernels`).
    func testTrainingRunsOpenBLASKernelsForThisCPU() throws {
        let flags = CPUFlags.read()
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_CORETYPE"] = nil
        let outcome = try ProcessRunner.Running(ProcessRunner.trainer, ["train", "--data", "xor", "--model", "logistic", "--epochs", "0"],
                                                environment: environment).finish(timeout: 30)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let kernels = try XCTUnwrap(outcome.stderr.components(separatedBy: "OpenBLAS ").dropFirst().first?.split(separator: " ").first,
                                    outcome.stderr)
        print("trainer runs OpenBLAS's \(kernels) kernels; CPU flags avx2: \(flags.contains("avx2")), avx512f: \(flags.contains("avx512f"))")
        if flags.isSuperset(of: ["avx2", "fma"]) {
            XCTAssertFalse(["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Unknown"].contains(String(kernels)), outcome.stderr)
        }
    }

    func testTrainOnSyntheticDataPrintsEpochLines() throws {
        let outcome = try TrainerProcess.run(["train", "--data", "xor", "--model", "poly2+logistic", "--epochs", "3",
                                              "--batch-size", "16", "--lr", "0.5"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertEqual(outcome.stderrLines.filter { $0.hasPrefix("epoch ") }.count, 3, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("epoch 3/3"))
    }

    func testGradcheckPrintsTheMaxRelativeError() throws {
        for model in ["mlp:5-3:tanh:svm", "poly2+logistic", "softmax", "mlp:4:sigmoid:mse"] {
            let outcome = try TrainerProcess.run(["gradcheck", "--model", model, "--l2", "0.1", "--l1", "0.01"])
            XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
            let error = outcome.stdout.components(separatedBy: "max relative error ").last?
                .split(separator: " ").first.flatMap { Double($0) }
            XCTAssertLessThan(try XCTUnwrap(error, outcome.stdout), 1e-6)
        }
    }

    func testEvaluateReadsTheLatestCheckpoint() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trainer-eval-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trained = try TrainerProcess.run(["train", "--data", "xor", "--model", "poly2+logistic", "--epochs", "20",
                                              "--batch-size", "16", "--lr", "0.5", "--checkpoint-dir", directory, "--quiet"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertEqual(trained.stderr, "")
        let outcome = try TrainerProcess.run(["evaluate", directory])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("accuracy 100.00%"), outcome.stdout)
        let missing = try TrainerProcess.run(["evaluate", directory + "/nothing.safetensors"])
        XCTAssertEqual(missing.status, 66)
        XCTAssertTrue(missing.stderr.hasPrefix("trainer: error: \(directory)/nothing.safetensors"), missing.stderr)
    }
}
