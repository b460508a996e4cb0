import Communication
import Foundation
import Logging
import Training

/// Trains in this process with a silent logger and returns the run's records.
func train(_ edit: (inout TrainingConfiguration) throws -> Void) throws -> (summary: TrainingSummary, trainer: Trainer) {
    var configuration = TrainingConfiguration()
    try edit(&configuration)
    let trainer = try Trainer(configuration, communicator: LocalCommunicator(),
                              logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    return (try trainer.run(), trainer)
}

/// A fresh empty directory for one test's files.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("trainer-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
