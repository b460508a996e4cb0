import Dispatch
import Foundation
import Synchronization

/// SIGINT and SIGTERM ask the run to stop after the current step: the trainer carries the
/// request in the step's allreduce, so every rank stops after the same step, rank 0 writes a
/// checkpoint, and all exit 0. A second signal ends the process at once.
final class StopRequest: @unchecked Sendable {
    private let requested = Atomic<Bool>(false)
    private var sources: [any DispatchSourceSignal] = []

    /// Starts listening for SIGINT and SIGTERM (on a dispatch queue, not in a signal handler).
    init() {
        for signo in [SIGINT, SIGTERM] {
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler { [self] in
                if self.requested.exchange(true, ordering: .sequentiallyConsistent) { _exit(128 + signo) }
            }
            source.resume()
            sources.append(source)
        }
    }

    var isRequested: Bool { requested.load(ordering: .relaxed) }
}
