import CAffinity
#if canImport(Glibc)
import Glibc
#endif

/// This machine's host name (`gethostname`), nil if the system will not say.
public var hostName: String? {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
    return String(cString: buffer)
}

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

    /// Whether the process may run on exactly the cores of its parent process: nothing (e.g. an
    /// MPI launcher's binding) bound it to fewer, so its siblings share the same cores.
    public static var sameAsParent: Bool { cores_allowed_as_parent() == 1 }

    /// The bytes of the largest cache that core 0 does not share with another core (its L2 on
    /// most x86 machines), from /sys/devices/system/cpu/cpu0/cache; 1 MiB where Linux will not say.
    public static let privateCacheBytes: Int = {
        var largest = 0
        for index in 0..<8 {
            let directory = "/sys/devices/system/cpu/cpu0/cache/index\(index)/"
            guard let size = text(directory + "size"), let shared = text(directory + "shared_cpu_list") else { continue }
            let unit = size.hasSuffix("M") ? 20 : size.hasSuffix("K") ? 10 : 0
            guard shared == "0", let count = Int(unit > 0 ? size.dropLast() : Substring(size)) else { continue }
            largest = max(largest, count << unit)
        }
        return largest > 0 ? largest : 1 << 20
    }()

    private static func text(_ path: String) -> String? {
        guard let bytes = try? FileIO.readAll(path) else { return nil }
        return String(validating: bytes, as: UTF8.self)?.split(whereSeparator: \.isWhitespace).first.map(String.init)
    }
}

/// The CPU's feature flags as Linux names them (the `flags` line of /proc/cpuinfo: "avx2",
/// "avx512f", …) — what the kernel lets processes use; empty where there is no such file.
public enum CPUFlags {
    public static func read(from path: String = "/proc/cpuinfo") -> Set<String> {
        guard let bytes = try? FileIO.readAll(path), let text = String(validating: bytes, as: UTF8.self),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }
}

/// This process's anonymous memory — what it holds of its own, not file pages it maps — in
/// bytes, from /proc/self/smaps_rollup; nil where Linux will not say.
public var anonymousMemory: Int? {
    guard let bytes = try? FileIO.readAll("/proc/self/smaps_rollup"), let text = String(validating: bytes, as: UTF8.self),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Anonymous:") }),
          let kilobytes = line.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap({ Int($0) }) else { return nil }
    return kilobytes * 1024
}
