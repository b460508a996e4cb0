import ArgumentParser
import Foundation
import KernelCore
import Support
import Training

/// `trainer`: data-parallel neural-network training on Open MPI, with the models of an intro
/// deep-learning course. `trainer` alone runs `trainer train`, the default job.
@main
struct TrainerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trainer",
        abstract: "Train the models of an intro deep-learning course, in one process or on many MPI ranks.",
        discussion: """
        Run it alone (local mode, all cores) or under mpirun (one rank per process):
          trainer train --data fashion-mnist --model mlp:256-128:relu --epochs 10
          mpirun -n 4 trainer train …
        Errors are one line, `trainer: error: WHAT: what is wrong`, with exit codes
        64 (bad flag), 65 (bad data file), 66 (missing file), 73 (cannot write), 3 (diverged), 69 (MPI).
        """,
        subcommands: [TrainCommand.self, EvaluateCommand.self, InspectCommand.self, GradientCheckCommand.self, PredictCommand.self, PlotCommand.self,
                      ConvertCommand.self],
        defaultSubcommand: TrainCommand.self)

    /// Runs the command; every error leaves as one line on stderr and a documented exit code.
    static func main() {
        Launch.useFastBLASKernels()
        var arguments = Array(CommandLine.arguments.dropFirst())
        var config: ConfigFile?
        do {
            config = try ConfigFile.expand(&arguments)
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch let error as TrainerError {
            fail(config?.attribute(error.message) ?? error.message, code: error.kind.exitCode)
        } catch let failure as AgreedFailure {
            if failure.printsHere { report(failure.error.message) }
            Foundation.exit(failure.error.kind.exitCode)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            let code = exitCode(for: error)
            guard code != .success else { exit(withError: error) }  // --help, --version
            let line = message(for: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            let said = line.hasPrefix("Error: ") ? String(line.dropFirst(7)) : line
            fail(config?.attribute(said) ?? said, code: code.rawValue)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        report(message)
        Foundation.exit(code)
    }

    /// Prints `trainer: error: MESSAGE` on stderr.
    static func report(_ message: String) {
        FileHandle.standardError.write(Data("trainer: error: \(message)\n".utf8))
    }
}
