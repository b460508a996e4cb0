import Foundation

/// Seconds spent in each phase of the training step, summed over an epoch on this rank:
/// gathering the batch, forward, backward (loss and gradients), the allreduce (including
/// waiting for slower ranks), and the update (scaling, regulariser, SGD).
public struct PhaseTimes: Encodable, Sendable, Equatable {
    public var gather = 0.0, forward = 0.0, backward = 0.0, allreduce = 0.0, update = 0.0

    public var total: Double { gather + forward + backward + allreduce + update }

    public init() {}
}

/// A monotonic clock in seconds, cheap enough to read a few times per step.
@usableFromInline
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}
