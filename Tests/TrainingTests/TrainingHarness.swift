import Communication
import Foundation
import Logging
import Training

/// Trains in this process with a silent logger and returns the run's records.
func train(_ edit: (inout TrainingConfiguration) throws -> Void) throws -> (summary: TrainingSummary, trainer: Trainer) {
    var configuration = TrainingConfiguration()
    try edit(&configuration)
    let trainer = try Trainer(configuration, communicator: ThreadCommunicator.alone(),
                              logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    return (try trainer.run(), trainer)
}
