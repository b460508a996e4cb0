import CAffinity
#if canImport(Glibc)
import Glibc
#endif

/// The cores this process may run on.
public enum Cores {
    /// How many cores the process's CPU affinity allows (`sched_getaffinity`): what `taskset`,
    /// a cgroup's cpuset, Slurm's `--cpus-per-task` or an MPI launcher's binding leave it —
    /// unlike `ProcessInfo.activeProcessorCount`, which counts every online core. At least 1.
    public static var available: Int {
        let allowed = Int(cores_allowed())
        return allowed > 0 ? allowed : online
    }

    /// The machine's online cores.
    public static var online: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// An identifier of the set of allowed cores: equal for processes allowed the same cores.
    public static var affinityFingerprint: UInt64 { cores_allowed_fingerprint() }
}
