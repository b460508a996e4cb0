import Foundation
import KernelCore
import Support

/// What the launcher told this process about the job it belongs to.
enum Launch {
    /// Tasks a launcher says the job has: Slurm's `SLURM_NTASKS` (with `SLURM_PROCID`, so the
    /// process is one of the job's tasks, not the batch script), or an MPI launcher's world size.
    static func declaredTasks(_ environment: [String: String]) -> (count: Int, variable: String)? {
        if environment["SLURM_PROCID"] != nil, let text = environment["SLURM_NTASKS"], let n = Int(text), n > 1 {
            return (n, "SLURM_NTASKS=\(text)")
        }
        for variable in ["OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"] {
            if let text = environment[variable], let n = Int(text), n > 1 { return (n, "\(variable)=\(text)") }
        }
        return nil
    }

    /// Throws `.environment` when a launcher started this process as one of several tasks but
    /// it is alone in its job (`worldSize` 1): `srun` without PMIx starts N independent copies,
    /// which would each train the whole job and write the same checkpoint directory.
    static func checkAlone(worldSize: Int, _ environment: [String: String]) throws {
        guard worldSize == 1, let (count, variable) = declaredTasks(environment) else { return }
        throw TrainerError(.environment, subject: variable,
                           "this process was started as one of \(count) tasks but finds itself alone (\(worldSize) rank): the copies would each train alone and write the same files; start them with srun --mpi=pmix or mpirun")
    }

    /// Starts this program again with `OPENBLAS_CORETYPE` set when OpenBLAS fell back to generic
    /// kernels on a CPU it does not know (`BLASKernels`) — before anything else, so that a rank
    /// under mpirun is the same process (same PID, environment, arguments) with fast GEMMs.
    /// Returns when the kernels are OpenBLAS's own choice or the user's, or if exec fails.
    static func useFastBLASKernels() {
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let better = BLASKernels.better(than: BLASKernels.name, cpuFlags: CPUFlags.read()) else { return }
        // The program's own path, not /proc/self/exe: the kernel names a process after the file
        // it executes, and `pgrep trainer` (or a test) should still find it.
        guard let path = realpath("/proc/self/exe", nil) else { return }
        defer { free(path) }
        setenv("OPENBLAS_CORETYPE", better, 1)
        execv(path, CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")
    }

    /// This machine's host name, for messages.
    static var hostName: String { Support.hostName ?? "?" }
}
