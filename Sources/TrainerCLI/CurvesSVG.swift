import Foundation
import Training

/// Learning curves as a standalone SVG of 800 × 600 (no scripts, no external resources): a
/// loss panel (train, validation and test loss per epoch, the logged step losses faint behind
/// them, with a step axis on top) over an accuracy panel (train, validation and test accuracy
/// per epoch, in %). A split without a value in any epoch has no curve and no legend entry.
///
/// Every series is one `<path>` with a class (`train-loss`, `validation-loss`, `test-loss`,
/// `step-loss`, `train-accuracy`, `validation-accuracy`, `test-accuracy`) and `data-points`, its
/// number of points; a missing or non-finite value breaks the line. Each panel is a
/// `<g class="panel">` with an id.
struct CurvesSVG {
    static let width = 800.0, height = 600.0
    /// Longer series are thinned to about this many points (every k-th, the last kept).
    static let maximumPoints = 4000
    /// Values beyond this magnitude (a diverged run) are left off the chart.
    static let largestPlotted = 1e15

    struct Series {
        let name: String
        let cssClass: String
        let color: String
        let points: [(x: Double, y: Double?)]
        var width = 2.0
        var opacity = 1.0
        var markers = true
    }

    let title: String
    let curves: MetricsCurves

    /// The splits an epoch record scores, in the order of their curves and legend entries.
    struct Split: Sendable {
        let name: String
        let color: String
        let loss: @Sendable (EpochRecord) -> Double?
        let accuracy: @Sendable (EpochRecord) -> Double?
    }

    static let splits = [
        Split(name: "train", color: "#1f77b4", loss: { $0.trainLoss }, accuracy: { $0.trainAccuracy }),
        Split(name: "validation", color: "#ff7f0e", loss: { $0.validationLoss }, accuracy: { $0.validationAccuracy }),
        Split(name: "test", color: "#d62728", loss: { $0.testLoss }, accuracy: { $0.testAccuracy }),
    ]

    func render() -> String {
        let epochs = curves.epochs
        let stepsPerEpoch = curves.stepsPerEpoch
        let classification = epochs.contains { epoch in CurvesSVG.splits.contains { $0.accuracy(epoch) != nil } }
        let markers = epochs.count <= 60
        func plotted(_ value: Double?) -> Double? {
            guard let value, value.isFinite, abs(value) <= CurvesSVG.largestPlotted else { return nil }
            return value
        }
        /// An accuracy (a fraction) in %, or nil outside 0…1.
        func percent(_ value: Double?) -> Double? {
            guard let value, value >= 0, value <= 1 else { return nil }
            return 100 * value
        }
        /// `split`'s `measure` ("loss" or "accuracy") per epoch.
        func perEpoch(_ split: Split, _ measure: String, _ value: (EpochRecord) -> Double?) -> Series {
            Series(name: "\(split.name) \(measure)", cssClass: "\(split.name)-\(measure)", color: split.color,
                   points: CurvesSVG.thinned(epochs.map { (Double($0.epoch), value($0)) }), markers: markers)
        }

        var lossSeries: [Series] = []
        if let stepsPerEpoch, !curves.steps.isEmpty {
            lossSeries.append(Series(name: "step loss (logged steps)", cssClass: "step-loss", color: "#7f7f7f",
                                     points: CurvesSVG.thinned(curves.steps.map { (Double($0.step) / stepsPerEpoch, plotted($0.loss)) }),
                                     width: 1, opacity: 0.55, markers: false))
        }
        var accuracySeries: [Series] = []
        for split in CurvesSVG.splits {
            lossSeries.append(perEpoch(split, "loss") { plotted(split.loss($0)) })
            accuracySeries.append(perEpoch(split, "accuracy") { percent(split.accuracy($0)) })
        }

        // Series without a single plottable point are left out, legend included.
        lossSeries.removeAll { $0.points.allSatisfy { $0.y == nil } }
        accuracySeries.removeAll { $0.points.allSatisfy { $0.y == nil } }

        // The shared epoch axis: from the epoch before the first record (where its steps start).
        let allX = (lossSeries + accuracySeries).flatMap { $0.points.map(\.x) } + epochs.map { Double($0.epoch) }
        let xLow = max(0, ((allX.min() ?? 1) - 1).rounded(.down)), xHigh = max(allX.max() ?? 1, xLow + 1)
        let xTicks = CurvesSVG.ticks(xLow, xHigh, count: 10, integers: true)
        let xDomain = (xLow, max(xHigh, xTicks.last ?? xHigh))

        var svg = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="800" height="600" viewBox="0 0 800 600" \
        font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12" fill="#222">
        <title>\(escape(title))</title>
        <rect x="0" y="0" width="800" height="600" fill="#ffffff"/>
        <text x="400" y="28" text-anchor="middle" font-size="17" font-weight="bold">\(escape(title))</text>

        """
        svg += "<text x=\"400\" y=\"47\" text-anchor=\"middle\" fill=\"#555\">\(escape(subtitle(classification: classification)))</text>\n"

        // Loss panel.
        let lossValues = lossSeries.flatMap { $0.points.compactMap(\.y) }
        let lossLow = min(0, lossValues.min() ?? 0), lossHigh = lossValues.max() ?? 1
        let lossTicks = CurvesSVG.ticks(lossLow, max(lossHigh + 0.04 * (lossHigh - lossLow), lossLow + 1e-9), count: 5, integers: false)
        var loss = Panel(id: "loss-panel", left: 80, right: 770, top: 82, bottom: 272,
                         x: xDomain, y: (lossTicks.first ?? lossLow, lossTicks.last ?? lossHigh))
        loss.axes(xTicks: xTicks, yTicks: lossTicks, yTitle: "loss", xTitle: nil)
        if let stepsPerEpoch {
            let stepTicks = CurvesSVG.ticks(xDomain.0 * stepsPerEpoch, xDomain.1 * stepsPerEpoch, count: 8, integers: true)
                .filter { $0 >= xDomain.0 * stepsPerEpoch && $0 <= xDomain.1 * stepsPerEpoch }
            loss.topAxis(ticks: stepTicks, scale: stepsPerEpoch, title: "step")
        }
        lossSeries.forEach { loss.draw($0) }
        loss.legend(lossSeries)
        svg += loss.finished()

        // Accuracy panel.
        var accuracy: Panel
        if classification && !accuracySeries.isEmpty {
            let values = accuracySeries.flatMap { $0.points.compactMap(\.y) }
            let low = max(0, (((values.min() ?? 0) - 2) / 10).rounded(.down) * 10)
            let high = max(100, values.max() ?? 100)
            let yTicks = CurvesSVG.ticks(low, high, count: 6, integers: false)
            accuracy = Panel(id: "accuracy-panel", left: 80, right: 770, top: 330, bottom: 530,
                             x: xDomain, y: (yTicks.first ?? low, yTicks.last ?? high))
            accuracy.axes(xTicks: xTicks, yTicks: yTicks, yTitle: "accuracy (%)", xTitle: "epoch")
            accuracySeries.forEach { accuracy.draw($0) }
            accuracy.legend(accuracySeries)
        } else {
            accuracy = Panel(id: "accuracy-panel", left: 80, right: 770, top: 330, bottom: 530, x: xDomain, y: (0, 100))
            accuracy.axes(xTicks: xTicks, yTicks: [0, 25, 50, 75, 100], yTitle: "accuracy (%)", xTitle: "epoch")
            accuracy.body += "<text x=\"425\" y=\"435\" text-anchor=\"middle\" fill=\"#777\" font-size=\"14\">\(classification ? "no finite accuracy to plot" : "no accuracy: a regression model")</text>\n"
        }
        svg += accuracy.finished()
        svg += "</svg>\n"
        return svg
    }

    /// A line under the title: epochs, final losses and accuracies.
    func subtitle(classification: Bool) -> String {
        guard let last = curves.epochs.last else { return "" }
        let first = curves.epochs.first?.epoch ?? last.epoch
        var parts = [first == last.epoch ? "epoch \(first)" : "epochs \(first)–\(last.epoch)"]
        parts.append("final train loss \(CurvesSVG.short(last.trainLoss))")
        if let validation = last.validationLoss { parts.append("validation loss \(CurvesSVG.short(validation))") }
        if let test = last.testLoss { parts.append("test loss \(CurvesSVG.short(test))") }
        if let accuracy = last.testAccuracy ?? last.trainAccuracy {
            parts.append("\(last.testAccuracy != nil ? "test" : "train") accuracy \(String(format: "%.2f", 100 * accuracy)) %")
        }
        return parts.joined(separator: " · ")
    }

    static func short(_ value: Double) -> String { value.isFinite ? String(format: "%.4g", value) : "\(value)" }

    /// Every k-th point (and the last) when there are more than `maximumPoints`.
    static func thinned(_ points: [(x: Double, y: Double?)]) -> [(x: Double, y: Double?)] {
        guard points.count > maximumPoints else { return points }
        let stride = (points.count + maximumPoints - 1) / maximumPoints
        var kept = Swift.stride(from: 0, to: points.count, by: stride).map { points[$0] }
        if (points.count - 1) % stride != 0, let last = points.last { kept.append(last) }
        return kept
    }

    /// "Nice" tick values (1, 2 or 5 × 10ⁿ apart) covering low…high, about `count` of them.
    static func ticks(_ low: Double, _ high: Double, count: Int, integers: Bool) -> [Double] {
        guard low.isFinite, high.isFinite, high > low else { return [low.isFinite ? low : 0, (low.isFinite ? low : 0) + 1] }
        let raw = (high - low) / Double(max(count, 1))
        let magnitude = Foundation.pow(10, (Foundation.log10(raw)).rounded(.down))
        let fraction = raw / magnitude
        var step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude
        if integers { step = max(1, step.rounded()) }
        guard step.isFinite, step > 0 else { return [low, high] }
        let first = (low / step).rounded(.down) * step
        var ticks: [Double] = []
        var index = 0.0
        while ticks.count < 4 * count + 4 {
            let value = first + index * step
            ticks.append(abs(value) < step * 1e-9 ? 0 : value)
            if value >= high - step * 1e-9 { break }
            index += 1
        }
        return ticks
    }

    /// A tick label: as few decimals as the tick spacing needs.
    static func label(_ value: Double, step: Double) -> String {
        if value == 0 { return "0" }
        if abs(value) >= 1e6 || abs(value) < 1e-4 { return String(format: "%.3g", value) }
        let decimals = step > 0 && step.isFinite ? max(0, min(6, Int((-Foundation.log10(step)).rounded(.up)))) : 2
        return String(format: "%.\(decimals)f", value)
    }
}

/// One panel: a plot area with its scales; drawing appends SVG to `body`.
struct Panel {
    let id: String
    let left: Double, right: Double, top: Double, bottom: Double
    let x: (Double, Double), y: (Double, Double)
    var body = ""

    init(id: String, left: Double, right: Double, top: Double, bottom: Double, x: (Double, Double), y: (Double, Double)) {
        self.id = id
        self.left = left; self.right = right; self.top = top; self.bottom = bottom
        self.x = x.1 > x.0 ? x : (x.0, x.0 + 1)
        self.y = y.1 > y.0 ? y : (y.0, y.0 + 1)
    }

    func px(_ value: Double) -> Double { left + (value - x.0) / (x.1 - x.0) * (right - left) }
    func py(_ value: Double) -> Double { bottom - (value - y.0) / (y.1 - y.0) * (bottom - top) }

    mutating func axes(xTicks: [Double], yTicks: [Double], yTitle: String, xTitle: String?) {
        body += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\" fill=\"#fbfbfb\" stroke=\"#bbb\"/>\n"
        let xStep = xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1, yStep = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1
        body += "<g class=\"grid\" stroke=\"#e3e3e3\">\n"
        for t in yTicks where t >= y.0 && t <= y.1 { body += "<line x1=\"\(f(left))\" x2=\"\(f(right))\" y1=\"\(f(py(t)))\" y2=\"\(f(py(t)))\"/>\n" }
        for t in xTicks where t >= x.0 && t <= x.1 { body += "<line x1=\"\(f(px(t)))\" x2=\"\(f(px(t)))\" y1=\"\(f(top))\" y2=\"\(f(bottom))\"/>\n" }
        body += "</g>\n<g class=\"axis\" stroke=\"#444\">\n"
        body += "<line x1=\"\(f(left))\" x2=\"\(f(right))\" y1=\"\(f(bottom))\" y2=\"\(f(bottom))\"/>\n"
        body += "<line x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(bottom))\"/>\n"
        for t in xTicks where t >= x.0 && t <= x.1 { body += "<line x1=\"\(f(px(t)))\" x2=\"\(f(px(t)))\" y1=\"\(f(bottom))\" y2=\"\(f(bottom + 5))\"/>\n" }
        for t in yTicks where t >= y.0 && t <= y.1 { body += "<line x1=\"\(f(left - 5))\" x2=\"\(f(left))\" y1=\"\(f(py(t)))\" y2=\"\(f(py(t)))\"/>\n" }
        body += "</g>\n<g class=\"tick-labels\" fill=\"#333\">\n"
        for t in xTicks where t >= x.0 && t <= x.1 {
            body += "<text x=\"\(f(px(t)))\" y=\"\(f(bottom + 18))\" text-anchor=\"middle\">\(CurvesSVG.label(t, step: xStep))</text>\n"
        }
        for t in yTicks where t >= y.0 && t <= y.1 {
            body += "<text x=\"\(f(left - 8))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(CurvesSVG.label(t, step: yStep))</text>\n"
        }
        body += "</g>\n"
        let middle = (top + bottom) / 2
        body += "<text class=\"axis-title\" x=\"22\" y=\"\(f(middle))\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 22 \(f(middle)))\">\(escape(yTitle))</text>\n"
        if let xTitle {
            body += "<text class=\"axis-title\" x=\"\(f((left + right) / 2))\" y=\"\(f(bottom + 38))\" text-anchor=\"middle\" font-size=\"13\">\(escape(xTitle))</text>\n"
        }
    }

    /// A secondary x axis on top, in steps (x = step / `scale`).
    mutating func topAxis(ticks: [Double], scale: Double, title: String) {
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        body += "<g class=\"top-axis\" stroke=\"#888\">\n"
        for t in ticks { body += "<line x1=\"\(f(px(t / scale)))\" x2=\"\(f(px(t / scale)))\" y1=\"\(f(top - 4))\" y2=\"\(f(top))\"/>\n" }
        body += "</g>\n<g class=\"top-tick-labels\" fill=\"#777\" font-size=\"11\">\n"
        for t in ticks { body += "<text x=\"\(f(px(t / scale)))\" y=\"\(f(top - 7))\" text-anchor=\"middle\">\(CurvesSVG.label(t, step: step))</text>\n" }
        body += "</g>\n<text x=\"\(f(left - 16))\" y=\"\(f(top - 7))\" text-anchor=\"end\" fill=\"#777\" font-size=\"11\">\(escape(title))</text>\n"
    }

    mutating func draw(_ series: CurvesSVG.Series) {
        var d = "", count = 0, penDown = false
        var dots = ""
        for point in series.points {
            guard let value = point.y else { penDown = false; continue }
            d += (d.isEmpty ? "" : " ") + (penDown ? "L" : "M") + "\(f(px(point.x))) \(f(py(value)))"
            penDown = true
            count += 1
            if series.markers { dots += "<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(value)))\" r=\"2.8\"/>" }
        }
        let opacity = series.opacity < 1 ? " stroke-opacity=\"\(series.opacity)\"" : ""
        body += "<path class=\"\(series.cssClass)\" data-points=\"\(count)\" fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"\(series.width)\"\(opacity) stroke-linejoin=\"round\" stroke-linecap=\"round\" d=\"\(d)\"/>\n"
        if !dots.isEmpty { body += "<g class=\"\(series.cssClass)-markers\" fill=\"\(series.color)\">\(dots)</g>\n" }
    }

    /// The legend, in the corner of the plot area that hides the fewest points of the curves
    /// (sampled along their segments); top-right on a tie, then bottom-right, top-left, bottom-left.
    mutating func legend(_ series: [CurvesSVG.Series]) {
        guard !series.isEmpty else { return }
        let rowHeight = 17.0
        let width = 54 + 7 * Double(series.map(\.name.count).max() ?? 10)
        let height = Double(series.count) * rowHeight + 10
        let corners = [(right - width - 10, top + 10), (right - width - 10, bottom - height - 10),
                       (left + 10, top + 10), (left + 10, bottom - height - 10)]
        var samples: [(Double, Double)] = []
        for entry in series {
            var previous: (Double, Double)?
            for point in entry.points {
                guard let value = point.y else { previous = nil; continue }
                let here = (px(point.x), py(value))
                if let previous {
                    for k in 1...8 {
                        let t = Double(k) / 8
                        samples.append((previous.0 + t * (here.0 - previous.0), previous.1 + t * (here.1 - previous.1)))
                    }
                } else {
                    samples.append(here)
                }
                previous = here
            }
        }
        func hidden(_ corner: (Double, Double)) -> Int {
            samples.reduce(0) { count, p in
                count + (p.0 >= corner.0 - 6 && p.0 <= corner.0 + width + 6 && p.1 >= corner.1 - 6 && p.1 <= corner.1 + height + 6 ? 1 : 0)
            }
        }
        var best = corners[0], fewest = Int.max
        for corner in corners {
            let count = hidden(corner)
            if count < fewest { best = corner; fewest = count }
        }
        let (x0, y0) = best
        body += "<g class=\"legend\">\n<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(width))\" height=\"\(f(height))\" rx=\"4\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#ccc\"/>\n"
        for (index, entry) in series.enumerated() {
            let y = y0 + 5 + rowHeight * (Double(index) + 0.5)
            let opacity = entry.opacity < 1 ? " stroke-opacity=\"\(entry.opacity)\"" : ""
            body += "<line x1=\"\(f(x0 + 10))\" x2=\"\(f(x0 + 36))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"\(entry.color)\" stroke-width=\"\(max(entry.width, 1.5))\"\(opacity)/>\n"
            body += "<text x=\"\(f(x0 + 44))\" y=\"\(f(y + 4))\">\(escape(entry.name))</text>\n"
        }
        body += "</g>\n"
    }

    func finished() -> String { "<g class=\"panel\" id=\"\(id)\">\n" + body + "</g>\n" }
}

/// A coordinate with two decimals.
private func f(_ value: Double) -> String { String(format: "%.2f", value) }

/// `text` safe inside XML character data and attribute values: the five special characters
/// escaped, characters XML 1.0 forbids (controls other than tab, LF, CR) dropped.
func escape(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        case "\t", "\n", "\r": out += " "
        default:
            if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}
