import Foundation
import Training

/// A one-line progress bar on stderr, redrawn at most 10 times a second, for a terminal only:
/// `epoch 3/10 [========>          ] 234/469  61,234 samples/s  loss 0.4123  ETA 0:05`.
/// (In a pipe or a file, the epoch lines are the whole story.)
final class ProgressBar {
    static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }
    static let clearLine = "\r\u{1B}[2K"

    private var lastDraw = 0.0
    private var epochStarted = 0.0
    private var epochSamples = 0
    private var currentEpoch = 0
    private let runStarted = ProcessInfo.processInfo.systemUptime
    private var stepsDone = 0

    func update(_ r: StepReport) {
        let now = ProcessInfo.processInfo.systemUptime
        if r.epoch != currentEpoch { currentEpoch = r.epoch; epochStarted = now; epochSamples = 0 }
        epochSamples += r.samples
        stepsDone += 1
        guard now - lastDraw >= 0.1 || r.step == r.stepsPerEpoch else { return }
        lastDraw = now
        let width = 24, filled = width * r.step / max(r.stepsPerEpoch, 1)
        let bar = String(repeating: "=", count: max(filled - 1, 0)) + (filled > 0 ? ">" : "") + String(repeating: " ", count: width - filled)
        let rate = Double(epochSamples) / max(now - epochStarted, 1e-9)
        let stepsLeft = (r.epochs - r.epoch) * r.stepsPerEpoch + (r.stepsPerEpoch - r.step)
        let eta = (now - runStarted) / Double(max(stepsDone, 1)) * Double(stepsLeft)
        let line = "epoch \(r.epoch)/\(r.epochs) [\(bar)] \(r.step)/\(r.stepsPerEpoch)  \(Int(rate)) samples/s  loss \(String(format: "%.4f", r.loss))  ETA \(Self.clock(eta))"
        FileHandle.standardError.write(Data((Self.clearLine + line).utf8))
    }

    /// "m:ss" or "h:mm:ss".
    static func clock(_ seconds: Double) -> String {
        let s = Int(max(seconds, 0).rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
