import Foundation
import Support

/// The learning rate ηₜ as a function of the global step t (steps taken before this one):
///
/// - `constant`:               ηₜ = η₀
/// - `step:E:F`:               ηₜ = η₀ · F^⌊t / (E · stepsPerEpoch)⌋ — multiply by F every E epochs
/// - `invtime:K`:              ηₜ = η₀ / (1 + K·t) — seed 002's "the learning rate has to be
///                             appropriately reduced throughout training"
public enum LearningRateSchedule: Sendable, Equatable, CustomStringConvertible {
    case constant
    case stepDecay(everyEpochs: Int, factor: Double)
    case inverseTime(k: Double)

    /// Parses `constant`, `step:E:F` or `invtime:K`; errors name `flag`.
    public init(parsing text: String, flag: String = "--lr-schedule") throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func fail() -> TrainerError {
            TrainerError(.usage, subject: "\(flag) \(text)",
                         "expected constant, step:EPOCHS:FACTOR (e.g. step:3:0.5) or invtime:K (e.g. invtime:0.001)")
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
        default:
            throw fail()
        }
    }

    public func rate(base: Double, globalStep t: Int, stepsPerEpoch: Int) -> Double {
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
        }
    }

    public var description: String {
        switch self {
        case .constant: return "constant"
        case let .stepDecay(every, factor): return "step:\(every):\(factor)"
        case let .inverseTime(k): return "invtime:\(k)"
        }
    }
}
