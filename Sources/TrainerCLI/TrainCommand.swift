import ArgumentParser
import Communication
import Foundation
import KernelCore
import Support
import Training

/// `trainer train`: train a model and report each epoch.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model (the default job: Fashion-MNIST, MLP 784-256-128-10 ReLU, softmax cross-entropy, batch 128, lr 0.1).")

    @OptionGroup var options: TrainOptions

    @Option(help: "Write JSON Lines metrics here (rank 0): one object per epoch and one every --log-every steps.")
    var metrics: String?

    @Option(help: "Write a step record to --metrics every N steps (0: none).")
    var logEvery = 100

    @Option(help: "Rank 0 writes a checkpoint (safetensors) here at the end of every epoch, and a `latest` file naming it.")
    var checkpointDir: String?

    @Option(help: "BLAS threads per process. (default: all cores in local mode)")
    var threads: Int?

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    func run() throws {
        var configuration = try options.configuration()
        guard logEvery >= 0 else { throw TrainerError(.usage, subject: "--log-every \(logEvery)", "must be ≥ 0") }
        if let threads, threads < 1 || threads > 4096 {
            throw TrainerError(.usage, subject: "--threads \(threads)", "must be a whole number from 1 to 4096")
        }
        configuration.metricsPath = metrics
        configuration.logEvery = logEvery
        configuration.checkpointDirectory = checkpointDir
        BLASThreads.set(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let trainer = try Trainer(configuration, communicator: LocalCommunicator(),
                                  logger: PlainLogHandler.logger("trainer", quiet: quiet))
        _ = try trainer.run()
    }
}
