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

    @Option(help: ArgumentHelp("Read settings from this TOML file: one key per flag of trainer train, without its dashes (batch-size = 256, nesterov = true); flags on the command line override it.",
                               discussion: "Print a run's settings with --print-config, a checkpoint's with trainer inspect --config CKPT.", valueName: "file"))
    var config: String?

    @Flag(help: "Print the effective configuration (the --config file and the flags) as TOML, and exit; train --config with it runs the same run.")
    var printConfig = false

    @OptionGroup var options: TrainOptions

    @Option(help: "Write JSON Lines metrics here (rank 0): one object per epoch and one every --log-every steps.")
    var metrics: String?

    @Option(help: ArgumentHelp("Rank 0 writes TensorBoard event files here (tensorboard --logdir DIR): the --metrics values, epoch/… once per epoch and step/… every --log-every steps.", valueName: "dir"))
    var tensorboard: String?

    @Option(help: "Write a step record to --metrics (and --tensorboard) every N steps (0: none).")
    var logEvery = 100

    @Option(help: "Rank 0 writes checkpoints (safetensors) here — at every epoch end, every --checkpoint-every steps, and when stopped by SIGINT/SIGTERM — and a `latest` file naming the newest.")
    var checkpointDir: String?

    @Option(parsing: .unconditional, help: "Also write a checkpoint every N global steps (0: only at epoch ends and when stopped).")
    var checkpointEvery = 0

    @Option(parsing: .unconditional, help: "Keep only the K newest checkpoints (0: keep all).")
    var keep = 0

    @Flag(help: "With --validation and --checkpoint-dir: a `best` file in --checkpoint-dir names the epoch-end checkpoint of the lowest validation loss so far; --keep never deletes it (evaluate or resume it as DIR/best).")
    var keepBest = false

    @Option(help: resumeHelp)
    var resume: String?

    /// `--resume`'s help: what must match the checkpoint and what may change, as `RunSettings` says.
    static var resumeHelp: ArgumentHelp {
        ArgumentHelp("Resume from `latest` (in --checkpoint-dir), `auto` (latest if there is one, else start afresh), a checkpoint file, or a checkpoint directory. "
                     + "\(RunSettings.listed(RunSettings.resumeMustMatch.map(\.name))) must be those of the checkpoint; "
                     + "\(RunSettings.listed(RunSettings.resumeMayChange)) may change.")
    }

    @Option(help: "Local mode: worker threads, each training its share of every batch like a rank, with one BLAS thread. Under mpirun: BLAS threads per rank. (default: the cores this process may run on — its CPU affinity, as taskset, cgroups or Slurm's --cpus-per-task leave it — in local mode; under mpirun, those cores / the ranks on the node that share them, at least 1)")
    var threads: Int?

    @Option(parsing: .unconditional, help: "MPI ranks: the longest any rank waits for the others (the start-up agreement, the starting point, a step's reduction, an evaluation) before it says so and ends the job, in seconds.")
    var timeout = 300.0

    @Option(help: "auto: MPI when started by mpirun, else local mode (MPI not initialised) | on | off.")
    var mpi = MPIMode.auto

    @Option(help: "How a rank waits for the others: block (MPI_Barrier in a shared window's sum, MPI_Waitall for the messages between machines, MPI_Allreduce and MPI_Allgather in the collectives) | sleep (their nonblocking forms, tested with short sleeps between tests; may help on a machine loaded by other processes).")
    var mpiWait = MPICommunicator.Wait.block

    @Option(help: "How MPI ranks sum: ordered (in the tree's order, so N ranks on any machines sum bit for bit like N threads: in one MPI-3 shared-memory window when all run on one machine; across machines, in a window per block of a machine's ranks and by point-to-point messages between the blocks — the first line names the plan) | flat (the same order by point-to-point messages alone, whatever the layout; for comparison) | allreduce (MPI_Allreduce, in the order Open MPI picks; for comparison).")
    var mpiReduce = MPIReduction.ordered

    @Flag(help: "Time each phase of the step (gather, forward, backward, allreduce, update) and report it per epoch.")
    var profile = false

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    func validate() throws {
        func require(_ ok: Bool, _ subject: String, _ rule: String) throws {
            if !ok { throw ValidationError("\(subject): \(rule)") }
        }
        try require(logEvery >= 0, "--log-every \(logEvery)", "must be ≥ 0")
        try require(timeout > 0 && timeout.isFinite, "--timeout \(timeout)", "must be a positive number of seconds")
        try require(threads.map { (1...4096).contains($0) } ?? true, "--threads \(threads ?? 0)", "must be a whole number from 1 to 4096")
        try require(checkpointEvery >= 0, "--checkpoint-every \(checkpointEvery)", "must be ≥ 0")
        try require(keep >= 0, "--keep \(keep)", "must be ≥ 0")
        try require(checkpointDir != nil || checkpointEvery == 0, "--checkpoint-every", "needs --checkpoint-dir")
        try require(checkpointDir != nil || keep == 0, "--keep", "needs --checkpoint-dir")
        try require(checkpointDir != nil || !keepBest, "--keep-best", "needs --checkpoint-dir")
        try require(options.validation > 0 || !keepBest, "--keep-best", "needs --validation N (the best checkpoint is the one of the lowest validation loss)")
    }

    func run() throws {
        if printConfig {
            print(try effectiveConfiguration(), terminator: "")
            return
        }
        var configuration = try options.configuration()
        configuration.metricsPath = metrics
        configuration.tensorboardDirectory = tensorboard
        configuration.logEvery = logEvery
        configuration.checkpointDirectory = checkpointDir
        configuration.checkpointEvery = checkpointEvery
        configuration.keepCheckpoints = keep
        configuration.keepBest = keepBest
        configuration.resume = resume
        configuration.profile = profile
        configuration.mpiReduce = mpiReduce
        let stop = StopRequest()
        let environment = ProcessInfo.processInfo.environment
        guard mpi.isOn(environment) else {
            try Launch.checkAlone(worldSize: 1, environment)
            try trainLocally(configuration, workers: threads ?? Cores.available, stop: stop)
            return
        }
        let communicator = try MPICommunicator(wait: mpiWait)
        do {
            try Launch.checkAlone(worldSize: communicator.worldSize, environment)
            BLASThreads.set(threads ?? max(1, Cores.available / communicator.ranksSharingCores))
            // When several ranks wait for one that stalled, the lowest says so first and ends the job.
            let watchdog = Watchdog(timeout: timeout, who: "rank \(communicator.rank) on \(Launch.hostName)",
                                    extra: Double(min(communicator.rank, 8))) { message in
                TrainerCommand.report(message)
                MPICommunicator.abortJob(code: TrainerError.Kind.environment.exitCode)
            }
            try train(configuration, on: communicator, stop: stop, data: nil, watchdog: watchdog)
            watchdog.stop()
            communicator.finalize()
        } catch let failure as AgreedFailure {
            // Print before MPI_Finalize: once one rank has exited non-zero, mpirun kills the
            // others, and the printing rank may be among them.
            if failure.printsHere { TrainerCommand.report(failure.error.message) }
            communicator.finalize()
            throw AgreedFailure(error: failure.error, printsHere: false)  // said; main exits with its code
        } catch {
            // Only this rank knows: say it, then end every rank rather than leave them waiting.
            let message = (error as? TrainerError)?.message ?? "\(error)"
            TrainerCommand.report("rank \(communicator.rank): \(message)")
            communicator.abort(code: (error as? TrainerError)?.kind.exitCode ?? 1)
        }
    }

    /// The run's settings and the other flags given, as a `--config` file.
    func effectiveConfiguration() throws -> String {
        let configuration = try options.configuration()
        let settings = ConfigFile.runSettings { $0.givenValue(configuration) }
            + Self.otherFlags.compactMap { flag in flag.value(self).map { (flag.name, $0) } }
        return ConfigFile.render(settings, comment: ["trainer train --print-config: run it again with trainer train --config FILE"])
    }

    /// The flags declared above that are not run settings (`RunSettings.all` declares those, and
    /// `--config` and `--print-config`, which are not settings): each with the kind of its value
    /// and its value as `--print-config` writes it (nil: not given) — what a config file knows of them.
    static let otherFlags: [(name: String, kind: RunSetting.ValueKind, value: @Sendable (TrainCommand) -> String?)] = [
        ("metrics", .text, { $0.metrics }),
        ("tensorboard", .text, { $0.tensorboard }),
        ("log-every", .integer, { String($0.logEvery) }),
        ("checkpoint-dir", .text, { $0.checkpointDir }),
        ("checkpoint-every", .integer, { String($0.checkpointEvery) }),
        ("keep", .integer, { String($0.keep) }),
        ("keep-best", .boolean, { String($0.keepBest) }),
        ("resume", .text, { $0.resume }),
        ("threads", .integer, { $0.threads.map(String.init) }),
        ("timeout", .real, { String($0.timeout) }),
        ("mpi", .text, { $0.mpi.rawValue }),
        ("mpi-wait", .text, { $0.mpiWait.rawValue }),
        ("profile", .boolean, { String($0.profile) }),
        ("quiet", .boolean, { String($0.quiet) }),
    ]

    /// Local mode: `workers` threads act as ranks of one process (see `ThreadGroup`), sharing
    /// one copy of the data. An error only one thread meets ends the process, as MPI_Abort would.
    func trainLocally(_ configuration: TrainingConfiguration, workers: Int, stop: StopRequest) throws {
        BLASThreads.set(1)
        let data = try PreparedData(configuration)
        let outcomes = ThreadGroup.run(size: workers) { [self] communicator -> Result<Void, AgreedFailure> in
            do {
                try train(configuration, on: communicator, stop: stop, data: data)
                return .success(())
            } catch let failure as AgreedFailure {
                return .failure(failure)
            } catch {
                let message = (error as? TrainerError)?.message ?? "\(error)"
                TrainerCommand.fail(message, code: (error as? TrainerError)?.kind.exitCode ?? 1)
            }
        }
        if case .failure(let failure)? = outcomes.first { throw failure }
    }

    /// One rank's (or worker thread's) run: rank 0 logs, and draws a progress bar on a terminal.
    func train(_ configuration: TrainingConfiguration, on communicator: Communicator, stop: StopRequest,
               data: PreparedData?, watchdog: Watchdog? = nil) throws {
        let logger = PlainLogHandler.logger("trainer", quiet: quiet || !communicator.isRoot)
        let trainer = try Trainer(configuration, communicator: communicator, logger: logger,
                                  stopRequested: { stop.isRequested }, data: data, watchdog: watchdog)
        if communicator.isRoot, !quiet, ProgressBar.isTerminal { trainer.stepObserver = ProgressBar().update }
        _ = try trainer.run()
    }
}

/// `--mpi`: whether to run as an MPI rank.
enum MPIMode: String, ExpressibleByArgument, CaseIterable {
    case auto, on, off

    /// Whether to initialise MPI in a process started with `environment`.
    func isOn(_ environment: [String: String]) -> Bool {
        switch self {
        case .auto: return MPICommunicator.launchedByMPI(environment)
        case .on: return true
        case .off: return false
        }
    }
}

extension MPICommunicator.Wait: ExpressibleByArgument {}
extension MPIReduction: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
