import Foundation
import Support

/// The learning rate ηₜ as a function of the global step t (steps taken before this one):
///
/// - `constant`:               ηₜ = η₀
/// - `step:E:F`:               ηₜ = η₀ · F^⌊t / (E · stepsPerEpoch)⌋ — multiply by F every E epochs
/// - `invtime:K`:              ηₜ = η₀ / (1 + K·t) — seed 002's "the learning rate has to be
///                             appropriately reduced throughout training"
/// - `cosine[:FLOOR]`:         ηₜ = F + (η₀ − F)·(1 + cos(π·(t − W)/(T − W)))/2 from η₀ after the
///                             warmup's W steps to F (default 0) at the run's last step T (Loshchilov
///                             & Hutter's SGDR without restarts; T = --epochs × steps per epoch)
///
/// and with `--warmup W`, ηₜ is multiplied by (t + 1)/W for t < W: a linear rise to the schedule.
public enum LearningRateSchedule: Sendable, Equatable, CustomStringConvertible {
    case constant
    case stepDecay(everyEpochs: Int, factor: Double)
    case inverseTime(k: Double)
    case cosine(floor: Double)

    /// Parses `constant`, `step:E:F` or `invtime:K`; errors name `flag`.
    public init(parsing text: String, flag: String = "--lr-schedule") throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func fail() -> TrainerError {
            TrainerError(.usage, subject: "\(flag) \(text)",
                         "expected constant, step:EPOCHS:FACTOR (e.g. step:3:0.5), invtime:K (e.g. invtime:0.001) or cosine[:FLOOR] (e.g. cosine:0.001)")
        }
        switch parts.first {
        case "constant" where parts.count == 1:
            self = .constant
        case "step" where parts.count == 3:
            guard let every = Int(parts[1]), every >= 1, let factor = Double(parts[2]), factor > 0, factor <= 1 else { throw fail() }
            self = .stepDecay(everyEpochs: every, factor: factor)
        case "invtime" where parts.count == 2:
            guard let k = Double(parts[1]), k >= 0, k.isFinite else { throw fail() }
            self = .inverseTime(k: k)
        case "cosine" where parts.count <= 2:
            let floor = parts.count == 2 ? Double(parts[1]) : 0
            guard let floor, floor >= 0, floor.isFinite else { throw fail() }
            self = .cosine(floor: floor)
        default:
            throw fail()
        }
    }

    /// ηₜ for t = `globalStep` steps taken, in a run of `totalSteps` steps whose first `warmup`
    /// rise linearly. Never above max(η₀, a cosine's floor).
    public func rate(base: Double, globalStep t: Int, stepsPerEpoch: Int, totalSteps: Int = 0, warmup: Int = 0) -> Double {
        let rise = t < warmup ? Double(t + 1) / Double(warmup) : 1
        return rise * scheduled(base: base, globalStep: t, stepsPerEpoch: stepsPerEpoch, totalSteps: totalSteps, warmup: warmup)
    }

    private func scheduled(base: Double, globalStep t: Int, stepsPerEpoch: Int, totalSteps: Int, warmup: Int) -> Double {
        switch self {
        case .constant:
            return base
        case let .stepDecay(every, factor):
            // E · stepsPerEpoch can overflow for a huge E (any E ≥ 1 parses): then no step ever
            // reaches a decay. F^k in one `pow`, so the cost never grows with the step.
            let (period, overflow) = every.multipliedReportingOverflow(by: stepsPerEpoch)
            let decays = overflow ? 0 : max(0, t) / max(1, period)
            return decays == 0 ? base : base * Foundation.pow(factor, Double(decays))
        case let .inverseTime(k):
            return base / (1 + k * Double(t))
        case let .cosine(floor):
            let span = totalSteps - warmup
            guard span > 0 else { return base }
            let progress = min(1, max(0, Double(t - warmup) / Double(span)))
            return floor + (base - floor) * (1 + Foundation.cos(Double.pi * progress)) / 2
        }
    }

    public var description: String {
        switch self {
        case .constant: return "constant"
        case let .stepDecay(every, factor): return "step:\(every):\(factor)"
        case let .inverseTime(k): return "invtime:\(k)"
        case let .cosine(floor): return floor == 0 ? "cosine" : "cosine:\(floor)"
        }
    }
}
