// sum-benchmark: the time of one sum of a buffer over MPI ranks, alone (no training around it),
// for each way the ranks can sum: the plan of --mpi-reduce ordered (windows per block of a
// machine's ranks, then recursive halving or recursive doubling between blocks), of flat
// (point-to-point between all ranks, halving or doubling) and MPI_Allreduce. Run under mpirun,
// through bench/alphabeta:
//
//   mpirun -n N sum-benchmark FLOATS…
//
// Rank 0 prints one JSON line per (way, size): the median and minimum seconds per sum over 7
// timings of back-to-back sums (as many as take about 50 ms, at least 3).
import Communication
import Foundation
import Support

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

do {
    let sizes = CommandLine.arguments.dropFirst().compactMap { Int($0) }
    let communicator = try MPICommunicator()
    let ways: [(String, ReductionPlan)] = {
        let ordered = ReductionPlan(placement: communicator.placement, reduce: .ordered)
        let flat = ReductionPlan(placement: communicator.placement, reduce: .flat)
        var ways: [(String, ReductionPlan)] = []
        if ordered.transport == .hierarchical || ordered.transport == .pointToPoint {
            ways += [("ordered halving", ordered.pinning(.halving)), ("ordered doubling", ordered.pinning(.doubling))]
        } else {
            ways.append(("ordered", ordered))
        }
        if ordered.transport != .pointToPoint {
            ways += [("flat halving", flat.pinning(.halving)), ("flat doubling", flat.pinning(.doubling))]
        }
        ways.append(("allreduce", ReductionPlan(placement: communicator.placement, reduce: .allreduce)))
        return ways
    }()
    /// All ranks agree on a number (rank 0's), so they time the same number of sums.
    func agreed(_ value: Int) -> Int { Int(communicator.allreduceMinMax([UInt64(value)]).max[0]) }
    for (name, plan) in ways {
        for count in sizes {
            let sum = communicator.makeTreeSum(plan, count: count)
            for i in 0..<count { sum.values[i] = Float(communicator.rank + i % 3) }
            for _ in 0..<3 { sum.sum() }
            var repeats = 1
            while true {
                _ = agreed(0)
                let start = now()
                for _ in 0..<repeats { sum.sum() }
                let took = now() - start
                if agreed(took >= 0.05 || repeats >= 1 << 16 ? 1 : 0) == 1 { break }
                repeats *= 2
            }
            repeats = max(3, repeats)
            var times: [Double] = []
            for _ in 0..<7 {
                _ = agreed(0)
                let start = now()
                for _ in 0..<repeats { sum.sum() }
                times.append((now() - start) / Double(repeats))
            }
            times.sort()
            if communicator.rank == 0 {
                let messages: String = { switch plan.messages(count: count) {
                    case .none: return "none"; case .halving: return "halving"; case .doubling: return "doubling"
                    case .allreduce: return "allreduce" } }()
                print("{\"way\": \"\(name)\", \"ranks\": \(plan.ranks), \"blocks\": \(plan.blocks), \"block_ranks\": \(plan.blockRanks), "
                      + "\"messages\": \"\(messages)\", \"floats\": \(count), \"median\": \(times[3]), \"min\": \(times[0])}")
                fflush(nil)
            }
        }
    }
    communicator.finalize()
} catch {
    FileHandle.standardError.write(Data("sum-benchmark: error: \(error)\n".utf8))
    exit(1)
}
