import Checkpoint
import Communication
import Foundation
import TestSupport
import Training
import XCTest

/// Runs across hosts: network-namespace hosts made by `launch/cluster` on this machine, each
/// with its own address and hostname (so Open MPI sees distinct nodes and sums through
/// MPI_Allreduce over TCP), and its own node-local directory. Needs root, as CI has.
final class ClusterTests: XCTestCase {
    /// The repository, and its launch/cluster.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let cluster = repository + "/launch/cluster"
    /// Where each host keeps its own files (launch/cluster), and where h0's are seen from outside.
    static let nodeLocal = "/var/tmp/trainer-cluster/local"
    static func nodeLocal(of host: String) -> String { "/var/tmp/trainer-cluster/hosts.d/\(host)/local" }

    /// A small job: 16 steps of 64 per epoch, the last of 41.
    static func job(epochs: Int = 3) -> [String] {
        ["--data", "blobs:1001:3:10", "--batch-size", "64", "--epochs", String(epochs), "--lr", "0.1", "--seed", "11",
         "--model", "mlp:16-8:tanh"]
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(getuid() == 0, "network namespaces need root")
        try XCTSkipIf(Launcher.mpirun == nil, "mpirun is not installed")
    }

    override func tearDown() { _ = try? cluster(["down"]) }

    @discardableResult
    func cluster(_ arguments: [String], timeout: Double = 120) throws -> Launcher.Outcome {
        let outcome = try ProcessRunner.runInTime(Self.cluster, arguments, timeout: timeout)
        XCTAssertEqual(outcome.status, 0, "launch/cluster \(arguments.joined(separator: " ")): \(outcome.stderr)")
        return outcome
    }

    /// `hosts` hosts up, and a hostfile giving each `slots` ranks.
    func up(_ hosts: Int, slots: Int) throws -> String {
        try cluster(["up", String(hosts)])
        let hostfile = try scratchDirectory() + "/hostfile"
        try cluster(["hostfile", String(slots)]).stdout.write(toFile: hostfile, atomically: true, encoding: .utf8)
        return hostfile
    }

    /// `trainer train arguments…` on `ranks` ranks over the cluster's hosts.
    func acrossHosts(_ ranks: Int, hostfile: String, _ arguments: [String]) throws -> Launcher.Outcome {
        try cluster(["mpirun", "-n", String(ranks), "--hostfile", hostfile, Launcher.trainer, "train"] + arguments)
    }

    /// `hosts` × `slots` ranks, one BLAS thread each, against local mode on as many threads: bit
    /// for bit — the parameters and every number of the metrics file but its timings — since
    /// both add in the tree's order (`--mpi-reduce ordered`, the default, and flat); through
    /// `MPI_Allreduce` (Open MPI's order) within rounding.
    /// `both`: flags of both runs; `extra`: of the distributed one.
    /// `ranks`: fewer than `hosts × slots` leaves the last host short.
    func assertMatchesLocalThreads(hosts: Int, slots: Int, ranks: Int? = nil, reduce: String = "ordered", extra: [String] = [],
                                   both: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        let ranks = ranks ?? hosts * slots
        let hostfile = try up(hosts, slots: slots)
        let distributed = try RunResult.train(label: "\(hosts) hosts × \(slots)",
                                              Self.job() + both + ["--log-every", "1", "--threads", "1", "--mpi-reduce", reduce] + extra) {
            try self.acrossHosts(ranks, hostfile: hostfile, $0)
        }
        let local = try RunResult.train(ranks: nil, Self.job() + both + ["--log-every", "1", "--threads", String(ranks)])
        XCTAssertEqual(distributed.losses.map(\.0), local.losses.map(\.0), file: file, line: line)
        if reduce != "allreduce" {
            XCTAssertEqual(distributed.parameterBytes, local.parameterBytes, "\(hosts) hosts × \(slots): bit for bit", file: file, line: line)
            XCTAssertEqual(distributed.losses.map(\.1), local.losses.map(\.1), "every logged loss", file: file, line: line)
            XCTAssertEqual(distributed.metrics, local.metrics, "every metric but timings", file: file, line: line)
        } else {
            let distance = relativeDistance(distributed.parameters, from: local.parameters)
            XCTAssertLessThanOrEqual(distance, 1e-5, "\(hosts) hosts × \(slots): ‖Δθ‖ / ‖θ‖", file: file, line: line)
            print("\(hosts) hosts × \(slots) ranks by MPI_Allreduce against \(ranks) threads: ‖Δθ‖ / ‖θ‖ = \(distance)")
        }
    }

    func testTwoHostsOfOneRankAreBitIdenticalToTwoThreads() throws {
        try assertMatchesLocalThreads(hosts: 2, slots: 1)
    }

    func testTwoHostsOfTwoRanksAreBitIdenticalToFourThreads() throws {
        try assertMatchesLocalThreads(hosts: 2, slots: 2)
    }

    /// Three ranks: batches of 64 (and the last of 41) split unevenly.
    func testThreeHostsOfOneRankAreBitIdenticalToThreeThreads() throws {
        try assertMatchesLocalThreads(hosts: 3, slots: 1)
    }

    func testFourHostsOfOneRankAreBitIdenticalToFourThreads() throws {
        try assertMatchesLocalThreads(hosts: 4, slots: 1)
    }

    /// A model larger than a core's own cache: local mode's threads keep one copy of the
    /// parameters and of the momentum, each thread updating its chunk (the first line says
    /// "sharded update"), while ranks on several hosts each update all of theirs — the same bits.
    func testTheShardedUpdateIsBitIdenticalToRanksOnHosts() throws {
        let large = ["--model", "mlp:1024-1024:tanh"]
        let first = try Launcher.train(ranks: nil, Self.job(epochs: 1) + large + ["--threads", "2"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("2 threads, sum: threads' shared memory, tree order, float32, sharded update"), first.stderr)
        try assertMatchesLocalThreads(hosts: 2, slots: 1, both: large + ["--momentum", "0.9"])
        try assertMatchesLocalThreads(hosts: 3, slots: 1, both: large + ["--momentum", "0.9"])
        try assertMatchesLocalThreads(hosts: 2, slots: 2, both: large + ["--optimizer", "adamw", "--lr", "0.001"])
    }

    /// Data larger than memory's order and standardisation (issue 21): NumPy features on scales
    /// from 0.01 to 1000, mapped, read in blocks of 100 rows (windows of 8 blocks shuffled
    /// together) and standardised by statistics summed over the ranks in the tree's order — on
    /// 2 hosts × 2 ranks, the bits of 4 threads.
    func testBlockShuffleAndStandardizationAcrossHostsAreBitIdenticalToThreads() throws {
        let directory = try scratchDirectory()
        let made = try ProcessRunner.runInTime("/usr/bin/python3", ["-c", """
            import numpy as np
            r = np.random.default_rng(5); z = r.standard_normal((1001, 6)); y = (z[:, 0] + z[:, 1] > 0).astype(np.int64) + (z[:, 2] > 1)
            np.save('\(directory)/x.npy', (z * np.logspace(-2, 3, 6) + 3 * np.logspace(-2, 3, 6)).astype(np.float32)); np.save('\(directory)/y.npy', y)
            """], timeout: 60)
        XCTAssertEqual(made.status, 0, made.stderr)
        try assertMatchesLocalThreads(hosts: 2, slots: 2, both: ["--data", "npy:\(directory)/x.npy,\(directory)/y.npy", "--standardize",
                                                                 "--shuffle", "blocks:100", "--model", "mlp:16:relu", "--optimizer", "adamw",
                                                                 "--lr", "0.01"])
    }

    /// Compressed sums add in rank order too: their bytes on the wire across hosts (bfloat16
    /// both ways; PowerSGD's factors) change nothing of what N threads compute.
    func testCompressedSumsAcrossHostsAreBitIdenticalToThreads() throws {
        try assertMatchesLocalThreads(hosts: 2, slots: 1, both: ["--grad-compression", "bf16"])
        try assertMatchesLocalThreads(hosts: 3, slots: 1, both: ["--grad-compression", "bf16"])
        try assertMatchesLocalThreads(hosts: 2, slots: 2, both: ["--grad-compression", "powersgd:2"])
    }

    /// Local rounds (`--sync-every`, issue 22): each rank steps alone between sums, keeping its
    /// own θ and AdamW moments, and the ranks' changes meet in the tree's order, exact or as
    /// bfloat16; DiLoCo's outer Nesterov step on the mean — on 2 × 1 and 2 × 2 ranks, the bits
    /// of 2 and 4 threads. Rounds of 5 steps: 16 steps an epoch end with a round of 1.
    func testLocalRoundsAcrossHostsAreBitIdenticalToThreads() throws {
        let rounds = ["--sync-every", "5", "--optimizer", "adamw", "--lr", "0.01", "--outer-lr", "0.7", "--outer-momentum", "0.9"]
        try assertMatchesLocalThreads(hosts: 2, slots: 1, both: rounds)
        try assertMatchesLocalThreads(hosts: 2, slots: 2, both: rounds)
        try assertMatchesLocalThreads(hosts: 2, slots: 1, both: rounds + ["--grad-compression", "bf16"])
        try assertMatchesLocalThreads(hosts: 2, slots: 2, both: rounds + ["--grad-compression", "bf16"])
    }

    /// Hosts of several ranks sum their blocks in shared windows and the blocks' sums meet by
    /// messages (`ReductionPlan.Transport.hierarchical`): 3 blocks (N not a power of two), hosts of
    /// 2 and 1 ranks, blocks of 4, a buffer large enough for recursive halving (mlp:512-256, 137k
    /// floats) and small ones for doubling, sleeping waits, bf16 — N threads' bits.
    func testHierarchicalSumsAreBitIdenticalToThreads() throws {
        try assertMatchesLocalThreads(hosts: 3, slots: 2, both: ["--model", "mlp:512-256:tanh"])
        try assertMatchesLocalThreads(hosts: 2, slots: 2, ranks: 3, both: ["--model", "mlp:512-256:tanh"])
        try assertMatchesLocalThreads(hosts: 2, slots: 4, both: ["--model", "mlp:512-256:tanh"])
        try assertMatchesLocalThreads(hosts: 3, slots: 2, both: ["--grad-compression", "bf16", "--model", "mlp:512-256:tanh"])
        try assertMatchesLocalThreads(hosts: 2, slots: 2, extra: ["--mpi-wait", "sleep"], both: ["--model", "mlp:512-256:tanh"])
        try assertMatchesLocalThreads(hosts: 2, slots: 2, both: ["--grad-compression", "bf16"])
        try assertMatchesLocalThreads(hosts: 2, slots: 2, reduce: "flat", both: ["--model", "mlp:512-256:tanh"])
    }

    /// N = 5…8 and 16 ranks: one rank a host up to 8 hosts (point-to-point; 5–7 not a power of two),
    /// 2 hosts × 3 (no aligned block of 2 on one host: point-to-point) and × 8, and 8 hosts × 2
    /// (hierarchical across 8 blocks) with a buffer for recursive halving and one for doubling —
    /// N threads' bits, every metric included.
    func testManyRanksAcrossHostsAreBitIdenticalToThreads() throws {
        for hosts in 5...8 { try assertMatchesLocalThreads(hosts: hosts, slots: 1) }
        try assertMatchesLocalThreads(hosts: 2, slots: 3)
        try assertMatchesLocalThreads(hosts: 2, slots: 8)
        try assertMatchesLocalThreads(hosts: 5, slots: 1, both: ["--model", "mlp:512-256:tanh", "--epochs", "1"])
        try assertMatchesLocalThreads(hosts: 8, slots: 2)
        try assertMatchesLocalThreads(hosts: 8, slots: 2, both: ["--model", "mlp:512-256:tanh", "--epochs", "1"])
    }

    /// `--mpi-wait sleep` tests the same requests instead of blocking: the same sums.
    func testSleepingWaitsSumTheSame() throws {
        try assertMatchesLocalThreads(hosts: 3, slots: 1, extra: ["--mpi-wait", "sleep"])
    }

    /// MPI_Allreduce stays for comparison: equal within rounding.
    func testTwoHostsOfTwoRanksThroughMPIAllreduceMatchFourThreads() throws {
        try assertMatchesLocalThreads(hosts: 2, slots: 2, reduce: "allreduce")
    }

    /// The run says how its ranks sum, and each host's processes run under its own hostname.
    func testTheFirstLineSaysHowRanksSumAcrossHosts() throws {
        let hostfile = try up(3, slots: 1)
        let outcome = try acrossHosts(3, hostfile: hostfile, ["--data", "xor", "--model", "logistic", "--epochs", "1"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.split(separator: "\n").first?.hasSuffix("3 MPI ranks, sum: point-to-point, tree order, float32") ?? false, outcome.stderr)
        let names = try cluster(["mpirun", "-n", "3", "--hostfile", hostfile, "hostname"]).stdout
        XCTAssertEqual(names.split(separator: "\n").sorted(), ["h0", "h1", "h2"])
    }

    /// A host whose ranks outnumber its cores without Open MPI knowing (a hostfile's slots above
    /// the cores of a pinned host) makes its waits yield, and the first line says so; where the
    /// ranks have their cores, or where Open MPI knows (`--oversubscribe`), waits are as before.
    func testRanksThatOutnumberTheirCoresUnbeknownToOpenMPIYield() throws {
        try cluster(["up", "2", "--pin"])
        let cores = Int(try cluster(["exec", "h0", "nproc"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        XCTAssertGreaterThan(cores, 0)
        let job = ["--data", "xor", "--model", "logistic", "--epochs", "1", "--threads", "1"]
        func firstLine(slots: Int, _ extra: [String] = []) throws -> String {
            let hostfile = try scratchDirectory() + "/hostfile"
            try cluster(["hostfile", String(slots)]).stdout.write(toFile: hostfile, atomically: true, encoding: .utf8)
            let outcome = try cluster(["mpirun", "-n", String(2 * slots), "--hostfile", hostfile] + extra + [Launcher.trainer, "train"] + job)
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            return String(outcome.stderr.split(separator: "\n").first ?? "")
        }
        let ranks = 2 * (cores + 1)
        let plan = ReductionPlan(placement: .mpi(machines: (0..<ranks).map { $0 / (cores + 1) }))
        XCTAssertTrue(try firstLine(slots: cores + 1).hasSuffix("\(ranks) MPI ranks, waits yield (\(cores + 1) ranks on \(cores) core(s)), \(plan)"))
        XCTAssertFalse(try firstLine(slots: cores).contains("waits yield"))
        let known = try cluster(["mpirun", "-n", String(cores + 1), "--host", "h0", "--oversubscribe", Launcher.trainer, "train"] + job)
        XCTAssertEqual(known.status, 0, known.stderr)
        XCTAssertFalse(known.stderr.contains("waits yield"), known.stderr)
    }

    /// Rank 0 alone writes checkpoints, into a directory only its host has; a resumed run reads
    /// it there and broadcasts it, and ends with the bytes of the uninterrupted run.
    func testCheckpointsOnTheFirstHostOnlyAndResumeAcrossHosts() throws {
        let hostfile = try up(2, slots: 1)
        let directory = Self.nodeLocal + "/ckpt"
        let job = ["--threads", "1", "--checkpoint-dir", directory, "--quiet"]
        let first = try acrossHosts(2, hostfile: hostfile, Self.job(epochs: 2) + job)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.nodeLocal(of: "h0") + "/ckpt/latest"), "on h0")
        XCTAssertFalse(FileManager.default.fileExists(atPath: Self.nodeLocal(of: "h1") + "/ckpt"), "nothing on h1")
        let resumed = try acrossHosts(2, hostfile: hostfile, Self.job(epochs: 4) + job + ["--resume", "latest"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let resumedFile = try SafeTensors(contentsOf: try CheckpointDirectory.resolve(Self.nodeLocal(of: "h0") + "/ckpt", checkpointDirectory: nil))
        try FileManager.default.removeItem(atPath: Self.nodeLocal(of: "h0") + "/ckpt")
        let whole = try acrossHosts(2, hostfile: hostfile, Self.job(epochs: 4) + job)
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let wholeFile = try SafeTensors(contentsOf: try CheckpointDirectory.resolve(Self.nodeLocal(of: "h0") + "/ckpt", checkpointDirectory: nil))
        XCTAssertEqual(resumedFile.metadata["global_step"], "64")
        XCTAssertEqual(resumedFile.tensors.map(\.bytes), wholeFile.tensors.map(\.bytes), "resumed across hosts = uninterrupted")
    }

    /// README's hostfile command, as written, on the two hosts the example names.
    func testTheHostfileExampleRunsAsWritten() throws {
        try cluster(["up", "2"])
        let outcome = try cluster(["exec", "h0", "env", "TRAINER=" + Launcher.trainer, Self.repository + "/launch/train", "-n", "4", "--hostfile",
                                   Self.repository + "/launch/hostfile.example", "--data", "xor", "--epochs", "1"])
        XCTAssertTrue(outcome.stderr.contains("4 MPI ranks, sum: shared windows of 2 ranks, point-to-point across 2 of them"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("epoch 1/1"), outcome.stderr)
    }

    /// launch/slurm.sbatch on a faked allocation of 2 nodes × 2 tasks: the variables Open MPI
    /// reads from Slurm, with the cluster's rsh agent standing in for srun.
    func testTheSlurmBatchScriptRunsOnAFakedAllocation() throws {
        try cluster(["up", "2"])
        let directory = try scratchDirectory()
        let outcome = try cluster(["exec", "h0", "env", "SLURM_JOBID=7", "SLURM_JOB_ID=7", "SLURM_NODELIST=h[0-1]",
                                   "SLURM_JOB_NODELIST=h[0-1]", "SLURM_TASKS_PER_NODE=2(x2)", "SLURM_NNODES=2",
                                   "SLURM_JOB_NUM_NODES=2", "SLURM_CPUS_PER_TASK=1", "SLURM_SUBMIT_DIR=" + Self.repository,
                                   "OMPI_MCA_plm=rsh", "bash", Self.repository + "/launch/slurm.sbatch",
                                   "--data", "xor", "--epochs", "1", "--checkpoint-dir", directory + "/ckpt"])
        try? FileManager.default.removeItem(atPath: Self.repository + "/metrics-7.jsonl")
        XCTAssertTrue(outcome.stderr.contains("4 MPI ranks, sum: shared windows of 2 ranks, point-to-point across 2 of them"), outcome.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/ckpt/latest"), outcome.stderr)
    }

    /// Elastic restart: a supervised job on 3 hosts loses one without a word (its link cut, then
    /// its processes killed: nothing reaches mpirun, as when a machine loses its power); mpirun
    /// notices within seconds (launch/train's TCP keepalives) and ends the job; launch/supervise
    /// probes the hosts, drops the one that does not answer, and resumes on the other two from
    /// rank 0's latest checkpoint to the end.
    func testASupervisedJobFinishesOnTheHostsThatAnswer() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "no Fashion-MNIST")
        let hostfile = try up(3, slots: 1)
        let checkpoints = Self.nodeLocal(of: "h0") + "/ckpt"
        let running = try ProcessRunner.Running(Self.cluster, [
            "exec", "h0", "env", "TRAINER=" + Launcher.trainer, Self.repository + "/launch/supervise", "--hostfile", hostfile,
            Self.repository + "/launch/train", "--epochs", "3", "--checkpoint-dir", Self.nodeLocal + "/ckpt",
            "--checkpoint-every", "100", "--timeout", "10", "--quiet"])
        let started = Date()
        while running.isRunning, !FileManager.default.fileExists(atPath: checkpoints + "/latest"), Date().timeIntervalSince(started) < 60 {
            usleep(10_000)
        }
        let pids = try ProcessRunner.runInTime("/usr/sbin/ip", ["netns", "pids", "trainer-h2"], timeout: 10).stdout
            .split(separator: "\n").compactMap { Int32($0) }
        XCTAssertFalse(pids.isEmpty, "h2 runs a rank")
        try cluster(["cut", "h2"])
        for pid in pids { kill(pid, SIGKILL) }
        let outcome = try running.finish(timeout: 120)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("launch/supervise: host h2 does not answer"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("launch/supervise: running on h0 h1 with 2 rank(s)"), outcome.stderr)
        let final = try ModelCheckpoint.load(try CheckpointDirectory.resolve(checkpoints, checkpointDirectory: nil))
        XCTAssertEqual(final.progress.globalStep, 3 * 469)
        XCTAssertEqual(final.metadata["world_size"], "2")
    }

    /// `up --rate` shapes each host's link: 100 MiB from h0 to h1 take at least the time the
    /// rate allows (tbf delivers up to the rate, a little over it in bursts), and far longer
    /// than over an unshaped link.
    func testRateShapesTheLinks() throws {
        func seconds(rate: String?) throws -> Double {
            try cluster(["up", "2"] + (rate.map { ["--rate", $0] } ?? []))
            let measured = try cluster(["link-speed", "h0", "h1", "100"]).stdout
            let fields = measured.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
            XCTAssertEqual(fields.count, 2, measured)
            return fields.last ?? 0
        }
        let shaped = try seconds(rate: "1gbit"), free = try seconds(rate: nil)
        print("100 MiB h0 → h1: \(shaped) s at --rate 1gbit (\(Double(100 << 23) / shaped / 1e9) Gbit/s), \(free) s unshaped")
        XCTAssertGreaterThan(shaped, Double(100 << 23) / 1.3e9, "no faster than 1.3 Gbit/s")
        XCTAssertGreaterThan(shaped, 1.5 * free, "slower than the unshaped link")
    }
}
