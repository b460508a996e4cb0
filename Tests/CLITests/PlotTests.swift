import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import XCTest

/// `trainer plot`: the SVG is well-formed XML with both panels and one point per epoch, and
/// (when Chromium is installed) renders to a non-trivial image; bad input is one line.
final class PlotTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = try makeScratchDirectory("plot")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// What the SVG holds: each panel's paths (class → points), the paths' drawing (class → d),
    /// texts, and the root's size.
    final class SVGSummary: NSObject, XMLParserDelegate {
        var root: [String: String] = [:]
        var panels: [String: [String: Int]] = [:]
        var drawings: [String: String] = [:]
        var texts: [String] = []
        var scripts = 0
        private var openGroups: [String?] = []
        private var text: String?

        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            switch element {
            case "svg": root = attributes
            case "g": openGroups.append(attributes["class"] == "panel" ? attributes["id"] : nil)
            case "path":
                let panel = openGroups.compactMap { $0 }.last ?? "none"
                let d = attributes["d"] ?? ""
                let points = d.filter { $0 == "M" || $0 == "L" }.count
                XCTAssertEqual(attributes["data-points"].flatMap(Int.init), points, "data-points of \(attributes["class"] ?? "?")")
                panels[panel, default: [:]][attributes["class"] ?? "?"] = points
                drawings[attributes["class"] ?? "?"] = d
            case "text", "title": text = ""
            case "script", "image", "foreignObject", "use": scripts += 1
            default: break
            }
            if attributes.keys.contains(where: { $0.lowercased().hasPrefix("on") || $0.contains("href") }) { scripts += 1 }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

        func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
            if element == "g" { _ = openGroups.popLast() }
            if element == "text" || element == "title", let text { texts.append(text) }
            if element == "text" || element == "title" { text = nil }
        }
    }

    func parse(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> SVGSummary {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let parser = XMLParser(data: data)
        let summary = SVGSummary()
        parser.delegate = summary
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")", file: file, line: line)
        XCTAssertEqual(summary.root["width"], "800", file: file, line: line)
        XCTAssertEqual(summary.root["height"], "600", file: file, line: line)
        XCTAssertEqual(summary.root["xmlns"], "http://www.w3.org/2000/svg", file: file, line: line)
        XCTAssertEqual(summary.scripts, 0, "no scripts, links or external resources", file: file, line: line)
        return summary
    }

    /// Trains mlp:8:relu on xor (13 steps per epoch) with a step record every 2 steps (and
    /// `--validation N` when given).
    func trainedMetrics(epochs: Int, name: String = "metrics.jsonl", model: String = "mlp:8:relu", data: String = "xor",
                        validation: Int? = nil) throws -> String {
        let metrics = directory + "/" + name
        let outcome = try TrainerProcess.run(["train", "--data", data, "--model", model, "--epochs", String(epochs),
                                              "--batch-size", "16", "--lr", "0.5", "--metrics", metrics, "--log-every", "2", "--quiet"]
                                             + (validation.map { ["--validation", String($0)] } ?? []))
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return metrics
    }

    func testPlotOfATrainingRun() throws {
        let metrics = try trainedMetrics(epochs: 5, name: "run & <xor>.jsonl")
        let svg = directory + "/curves.svg"
        let outcome = try TrainerProcess.run(["plot", metrics, "-o", svg])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout + outcome.stderr, "")
        let summary = try parse(svg)
        XCTAssertEqual(Set(summary.panels.keys), ["loss-panel", "accuracy-panel"])
        XCTAssertEqual(summary.panels["loss-panel"]?["train-loss"], 5)
        XCTAssertEqual(summary.panels["loss-panel"]?["test-loss"], 5)
        XCTAssertEqual(summary.panels["loss-panel"]?["step-loss"], 65 / 2, "a point per step record")
        XCTAssertEqual(summary.panels["accuracy-panel"]?["train-accuracy"], 5)
        XCTAssertEqual(summary.panels["accuracy-panel"]?["test-accuracy"], 5)
        XCTAssertTrue(summary.texts.contains("run & <xor>.jsonl"), "the title, escaped: \(summary.texts)")
        for label in ["loss", "accuracy (%)", "epoch", "step", "train loss", "test loss", "train accuracy", "test accuracy"] {
            XCTAssertTrue(summary.texts.contains(label), "\(label) in \(summary.texts)")
        }
        XCTAssertTrue(summary.texts.contains("100"), "accuracy ticks in %")
        XCTAssertNil(summary.panels["loss-panel"]?["validation-loss"], "no --validation, no validation curve")
        XCTAssertNil(summary.panels["accuracy-panel"]?["validation-accuracy"])
        XCTAssertFalse(summary.texts.contains { $0.contains("validation") }, "nor a legend entry: \(summary.texts)")
    }

    /// A run with `--validation`: validation loss and accuracy per epoch, in each panel's legend
    /// between train and test; the subtitle has the last validation loss of the metrics.
    func testPlotOfARunWithValidation() throws {
        let metrics = try trainedMetrics(epochs: 4, name: "validation.jsonl", validation: 40)
        let svg = directory + "/validation.svg"
        let outcome = try TrainerProcess.run(["plot", metrics, "-o", svg])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let summary = try parse(svg)
        for split in ["train", "validation", "test"] {
            XCTAssertEqual(summary.panels["loss-panel"]?["\(split)-loss"], 4, split)
            XCTAssertEqual(summary.panels["accuracy-panel"]?["\(split)-accuracy"], 4, split)
        }
        XCTAssertNotEqual(summary.drawings["validation-loss"], summary.drawings["test-loss"])
        XCTAssertNotEqual(summary.drawings["validation-loss"], summary.drawings["train-loss"])
        for measure in ["loss", "accuracy"] {
            let legend = try XCTUnwrap(summary.texts.firstIndex(of: "train \(measure)"), "\(summary.texts)")
            XCTAssertEqual(Array(summary.texts[legend...].prefix(3)), ["train \(measure)", "validation \(measure)", "test \(measure)"])
        }
        let lines = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n")
        let last = try XCTUnwrap(lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .last { $0["validation_loss"] != nil })
        let validationLoss = try XCTUnwrap(last["validation_loss"] as? Double)
        XCTAssertTrue(summary.texts.contains { $0.contains("validation loss \(String(format: "%.4g", validationLoss))") },
                      "\(validationLoss) in \(summary.texts)")
    }

    func testResumedRunKeepsTheLastRecordOfAnEpoch() throws {
        // Epoch 2 written twice (a resumed run), lines of other shapes, a null test set.
        let metrics = directory + "/resumed.jsonl"
        let text = """
        {"epoch":1,"train_loss":0.9,"train_accuracy":0.5,"test_loss":null,"test_accuracy":null,"lr":0.1,"seconds":1}
        {"epoch":2,"train_loss":0.8,"train_accuracy":0.6,"test_loss":null,"test_accuracy":null,"lr":0.1,"seconds":1}
        {"note":"something else"}
        [1, 2]
        {"epoch":2,"train_loss":0.7,"train_accuracy":0.65,"test_loss":null,"test_accuracy":null,"lr":0.1,"seconds":1}
        {"epoch":3,"train_loss":"NaN","train_accuracy":0.7,"test_loss":null,"test_accuracy":null,"lr":0.1,"seconds":1}
        {"epoch":4,"train_loss":0.5,"train_accuracy":0.8,"test_loss":null,"test_accuracy":null,"lr":0.1,"seconds":1}

        """
        try Data(text.utf8).write(to: URL(fileURLWithPath: metrics))
        let outcome = try TrainerProcess.run(["plot", metrics])  // default output: resumed.svg
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let summary = try parse(directory + "/resumed.svg")
        XCTAssertEqual(summary.panels["loss-panel"]?["train-loss"], 3, "epochs 1, 2, 4: epoch 3's NaN is a gap")
        XCTAssertNil(summary.panels["loss-panel"]?["test-loss"])
        XCTAssertNil(summary.panels["loss-panel"]?["step-loss"])
        XCTAssertEqual(summary.panels["accuracy-panel"]?["train-accuracy"], 4)
        XCTAssertNil(summary.panels["loss-panel"]?["validation-loss"])
    }

    func testRegressionHasNoAccuracyCurve() throws {
        let metrics = try trainedMetrics(epochs: 3, model: "linear", data: "linear")
        let svg = directory + "/linear.svg"
        let outcome = try TrainerProcess.run(["plot", metrics, "--output", svg])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let summary = try parse(svg)
        XCTAssertEqual(summary.panels["loss-panel"]?["train-loss"], 3)
        XCTAssertNil(summary.panels["accuracy-panel"])
        XCTAssertTrue(summary.texts.contains { $0.contains("regression") }, "\(summary.texts)")
    }

    /// The SVG renders: Chromium's headless screenshot is a real picture, not a blank page.
    func testRendersInChromium() throws {
        let chromium = "/usr/bin/chromium"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: chromium), "no \(chromium) (apt-get install chromium)")
        let metrics = try trainedMetrics(epochs: 4, validation: 40)
        let svg = directory + "/render.svg", png = directory + "/render.png"
        XCTAssertEqual(try TrainerProcess.run(["plot", metrics, "-o", svg]).status, 0)
        let outcome = try ProcessRunner.run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(directory)/profile",
                                                       "--screenshot=\(png)", "--window-size=900,700", "file://\(svg)"], timeout: 60)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let size = (try FileManager.default.attributesOfItem(atPath: png)[.size] as? NSNumber)?.intValue ?? 0
        XCTAssertGreaterThan(size, 5_000, "the screenshot is \(size) bytes")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)).prefix(8))
        XCTAssertEqual(bytes, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
    }


    func testPlotErrors() throws {
        let out = directory + "/out.svg"
        try assertFails(["plot", directory + "/absent.jsonl", "-o", out], code: 66, mentions: ["absent.jsonl"])
        try assertFails(["plot", directory, "-o", out], code: 66, mentions: [directory, "directory"])
        let csv = directory + "/data.csv"
        try Data("label,x\n0,1\n1,2\n".utf8).write(to: URL(fileURLWithPath: csv))
        try assertFails(["plot", csv, "-o", out], code: 65, mentions: ["data.csv:1", "not JSON"])
        let steps = directory + "/steps.jsonl"
        try Data("{\"step\":1,\"epoch\":1,\"loss\":0.5,\"lr\":0.1}\n{\"a\":1}\n".utf8).write(to: URL(fileURLWithPath: steps))
        try assertFails(["plot", steps, "-o", out], code: 65, mentions: ["steps.jsonl", "no epoch records"])
        let empty = directory + "/empty.jsonl"
        try Data().write(to: URL(fileURLWithPath: empty))
        try assertFails(["plot", empty, "-o", out], code: 65, mentions: ["empty.jsonl", "no epoch records"])
        let metrics = try trainedMetrics(epochs: 1)
        try assertFails(["plot", metrics, "-o", directory + "/no/such/dir/c.svg"], code: 73, mentions: ["c.svg"])
        try assertFails(["plot", metrics, "-o", directory], code: 73, mentions: [directory, "directory"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written on error")
    }
}
