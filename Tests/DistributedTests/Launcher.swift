import Foundation
import TestSupport
import XCTest

/// Runs the `trainer` built next to this test bundle, alone or under a real `mpirun`.
enum Launcher {
    typealias Outcome = ProcessRunner.Outcome

    static var trainer: String { ProcessRunner.trainer }

    static var mpirun: String? {
        ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// mpirun's flags for this machine: root, more ranks than cores, the fast-starting ob1 layer.
    static var mpirunFlags: [String] {
        (getuid() == 0 ? ["--allow-run-as-root"] : []) + ["--oversubscribe", "--mca", "pml", "ob1"]
    }

    /// `trainer train arguments` on `ranks` MPI ranks (nil: local mode, no mpirun).
    static func train(ranks: Int?, _ arguments: [String], timeout: Double = 120) throws -> Outcome {
        guard let ranks else { return try TrainerProcess.run(["train"] + arguments, timeout: timeout) }
        let mpirun = try XCTUnwrap(mpirun, "mpirun is not installed (launch/install installs openmpi-bin)")
        return try ProcessRunner.runInTime(mpirun, mpirunFlags + ["-n", String(ranks), trainer, "train"] + arguments,
                                           timeout: timeout)
    }

    /// A fresh directory for one run's metrics and checkpoints.
    static func directory() throws -> String {
        try makeScratchDirectory("dist")
    }
}

extension RunResult {
    /// Trains with `arguments` on `ranks` MPI ranks (nil: local mode), plus a metrics file and a
    /// checkpoint directory, then reads them.
    static func train(ranks: Int?, _ arguments: [String]) throws -> RunResult {
        try train(label: "ranks \(ranks.map(String.init) ?? "local")", arguments) { try Launcher.train(ranks: ranks, $0) }
    }
}
