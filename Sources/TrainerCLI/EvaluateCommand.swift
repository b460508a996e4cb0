import ArgumentParser

/// `trainer evaluate CKPT`: loss and accuracy of a saved model.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a checkpoint on a data set.")

    func run() throws {}
}
