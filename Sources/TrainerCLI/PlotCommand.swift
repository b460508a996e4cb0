import ArgumentParser
import Foundation
import Support

/// `trainer plot METRICS.jsonl -o curves.svg`: learning curves as a standalone SVG.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw the learning curves of a metrics file (train --metrics) as an SVG.",
        discussion: """
        Two panels, 800 × 600: loss per epoch (train, validation with --validation, and test; the \
        logged step losses faint behind them when the steps per epoch can be inferred, with a step \
        axis on top) and accuracy per epoch in % (the same splits). A resumed run's repeated epochs \
        keep their last record. The SVG is standalone: no scripts, fonts or images from elsewhere.
        """)

    @Argument(help: "The JSON Lines metrics file written by `trainer train --metrics`.")
    var metrics: String

    @Option(name: [.short, .customLong("output")], help: "The SVG file to write. (default: the metrics path with .svg for its extension)")
    var output: String?

    func run() throws {
        let curves = try MetricsCurves(path: metrics)
        var title = URL(fileURLWithPath: metrics).lastPathComponent
        if title.count > 80 { title = String(title.prefix(79)) + "…" }
        let svg = CurvesSVG(title: title, curves: curves).render()
        let destination = output ?? PlotCommand.defaultOutput(for: metrics)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory), isDirectory.boolValue {
            throw TrainerError(.cannotWrite, subject: destination, "is a directory, expected an SVG file path")
        }
        do {
            try Data(svg.utf8).write(to: URL(fileURLWithPath: destination), options: .atomic)
        } catch {
            throw TrainerError(.cannotWrite, subject: destination, "cannot write the SVG (does the directory exist and is it writable?)")
        }
    }

    /// `runs/m.jsonl` → `runs/m.svg`; a name without an extension gets `.svg` appended.
    static func defaultOutput(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        guard !url.pathExtension.isEmpty, url.pathExtension.lowercased() != "svg" else { return path + ".svg" }
        let stem = String(path.dropLast(url.pathExtension.count + 1))
        return stem + ".svg"
    }
}
