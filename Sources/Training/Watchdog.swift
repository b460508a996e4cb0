import Foundation
import Synchronization

/// Bounds every wait of this rank for the others (`--timeout`): the start-up agreement, the
/// broadcast of the starting point, each step's reduction and each evaluation's sums. A thread
/// of its own looks twice a second; when one wait has lasted longer than the timeout, it calls
/// `expire` with one line — what was awaited, at which step, for how long — which ends the job
/// (`MPI_Abort`): a rank that stalled (stopped, cut off, hung) never leaves the others waiting.
///
/// Waits are marked with `waiting(_:step:_:)`, two atomic stores around the wait: no
/// allocation, no lock, nothing that would show in a step's time.
public final class Watchdog: @unchecked Sendable {
    /// What a rank waits for.
    public enum Wait: Int, Sendable {
        case idle = 0, setup, startingPoint, reduction, evaluation, checkpointState

        var words: String {
            switch self {
            case .idle: return "nothing"
            case .setup: return "the start-up agreement"
            case .startingPoint: return "the starting point from rank 0"
            case .reduction: return "the step's reduction"
            case .evaluation: return "the evaluation's sums"
            case .checkpointState: return "the ranks' compression state for a checkpoint"
            }
        }
    }

    public let timeout: Double
    /// Who this is, for the message: e.g. "rank 1 on h1".
    let who: String
    private let expire: @Sendable (String) -> Void
    private let what = Atomic<Int>(0)
    private let step = Atomic<Int>(0)
    /// When the current wait began: `monotonicSeconds()` bit pattern.
    private let since = Atomic<UInt64>(0)
    private let stopped = Atomic<Bool>(false)

    /// Starts the watching thread. `extra`: seconds added to the timeout before this rank acts,
    /// so that when several ranks wait for one that stalled, the first says it and ends the job.
    public init(timeout: Double, who: String, extra: Double = 0, expire: @escaping @Sendable (String) -> Void) {
        self.timeout = timeout
        self.who = who
        self.expire = expire
        let limit = timeout + extra
        let thread = Thread { [self] in
            // A process that was itself stopped (SIGSTOP, a frozen VM) must not blame the others
            // for the time it did not run: a tick that came far too late restarts the count.
            var lastTick = monotonicSeconds(), resumed = 0.0
            while !stopped.load(ordering: .relaxed) {
                usleep(500_000)
                let now = monotonicSeconds()
                if now - lastTick > 2 { resumed = now }
                lastTick = now
                let waiting = Wait(rawValue: what.load(ordering: .acquiring)) ?? .idle
                guard waiting != .idle else { continue }
                let waited = now - max(Double(bitPattern: since.load(ordering: .relaxed)), resumed)
                guard waited > limit else { continue }
                let at = waiting == .setup || waiting == .startingPoint ? "before the first step" : "at step \(step.load(ordering: .relaxed))"
                expire("\(who): waited \(String(format: "%.0f", waited)) s for \(waiting.words) \(at), longer than --timeout \(String(format: "%g", timeout)) s: another rank stalled or is unreachable; ending the job")
                return
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Stops watching (the thread ends within half a second).
    public func stop() { stopped.store(true, ordering: .relaxed) }

    /// Runs `body`, a wait of kind `wait` at global step `step`, under the watch.
    @inline(__always)
    public func waiting<T>(_ wait: Wait, step: Int = 0, _ body: () throws -> T) rethrows -> T {
        self.step.store(step, ordering: .relaxed)
        since.store(monotonicSeconds().bitPattern, ordering: .relaxed)
        what.store(wait.rawValue, ordering: .releasing)
        defer { what.store(Wait.idle.rawValue, ordering: .releasing) }
        return try body()
    }
}

extension Optional where Wrapped == Watchdog {
    /// `body` under the watch when there is a watchdog.
    @inline(__always)
    func waiting<T>(_ wait: Watchdog.Wait, step: Int = 0, _ body: () throws -> T) rethrows -> T {
        guard let watchdog = self else { return try body() }
        return try watchdog.waiting(wait, step: step, body)
    }
}
