import Communication
import Foundation
import Logging
import Training

/// The communicator of a single process, for tests that drive a `Trainer` on the calling
/// thread: the sum over one rank is the rank's own buffer.
final class SingleProcessCommunicator: Communicator {
    var rank: Int { 0 }
    var worldSize: Int { 1 }
    var ranksOnThisNode: Int { 1 }
    var summary: String { "1 process" }
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {}
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {}
    func allreduceMinMax(_ values: [UInt64]) -> (min: [UInt64], max: [UInt64]) { (values, values) }
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) {}
}

/// Trains in this process with a silent logger and returns the run's records.
func train(_ edit: (inout TrainingConfiguration) throws -> Void) throws -> (summary: TrainingSummary, trainer: Trainer) {
    var configuration = TrainingConfiguration()
    try edit(&configuration)
    let trainer = try Trainer(configuration, communicator: SingleProcessCommunicator(),
                              logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    return (try trainer.run(), trainer)
}
