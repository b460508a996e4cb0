// step-benchmark: how fast the default job trains, and how close the step comes to the
// single-thread sgemm speed of its own matrix shapes. Run through bench/step.
//
// FLOPs by convention (llm.c, the issue): 6 per weight per sample (2 forward, 4 backward), so an
// epoch of the default MLP (234,752 weights, 60,000 samples) is 84.5 GFLOP. The step executes
// less: the first layer's input gradient is never needed, so 6·W − 2·W₀ = 60.4 GFLOP per epoch;
// the comparison with sgemm uses the executed count.
import Communication
import Foundation
import KernelCore
import Logging
import Models
import Support
import Training

let epochs = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 3
let cores = ProcessInfo.processInfo.activeProcessorCount

/// Median of the per-epoch seconds after one warm-up epoch, in local mode: `workers` threads
/// acting as ranks, one BLAS thread each (what `trainer train` does).
func secondsPerEpoch(workers: Int) throws -> (median: Double, all: [Double], accuracy: Double?, flopsPerEpoch: Double, executedPerEpoch: Double) {
    BLASThreads.set(1)
    var configuration = TrainingConfiguration()
    configuration.epochs = epochs + 1
    let data = try PreparedData(configuration)
    let run = configuration
    let results = ThreadGroup.run(size: workers) { communicator -> Result<TrainingSummary, TrainerError> in
        do {
            let trainer = try Trainer(run, communicator: communicator,
                                      logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }, data: data)
            return .success(try trainer.run())
        } catch {
            return .failure(TrainerError(.environment, subject: "bench", "\(error)"))
        }
    }
    let summary = try results[0].get()
    let times = summary.epochs.dropFirst().map(\.seconds).sorted()
    let architecture = data.architecture
    let weights = Double(architecture.multiplyAddsPerSample), firstLayer = Double(architecture.layers[0].weightCount)
    let samples = Double(data.train.count)
    return (times[times.count / 2], times, summary.final?.testAccuracy, 6 * weights * samples, (6 * weights - 2 * firstLayer) * samples)
}

/// GFLOP/s of one training step's eight GEMMs (forward, weight gradients, input gradients) at
/// batch 128 on the default shapes, with one BLAS thread.
func sgemmReference(batch: Int = 128, widths: [Int] = [784, 256, 128, 10]) -> Double {
    BLASThreads.set(1)
    let largest = widths.max()! * max(batch, widths.max()!)
    let a = [Float](repeating: 0.5, count: largest), b = [Float](repeating: 0.25, count: largest)
    var c = [Float](repeating: 0, count: largest)
    var flops = 0.0
    let started = Date()
    var repetitions = 0
    while Date().timeIntervalSince(started) < 1.0 {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    for l in 0..<(widths.count - 1) {
                        let n = widths[l], m = widths[l + 1]
                        // forward Z = X Wᵀ, weight gradient dW = δᵀ X, input gradient dX = δ W (not for layer 0)
                        Float.gemm(transA: false, transB: true, m: batch, n: m, k: n, alpha: 1, a: a.baseAddress!, lda: n,
                                   b: b.baseAddress!, ldb: n, beta: 0, c: c.baseAddress!, ldc: m)
                        Float.gemm(transA: true, transB: false, m: m, n: n, k: batch, alpha: 1, a: a.baseAddress!, lda: m,
                                   b: b.baseAddress!, ldb: n, beta: 0, c: c.baseAddress!, ldc: n)
                        flops += 4 * Double(batch * n * m)
                        if l > 0 {
                            Float.gemm(transA: false, transB: false, m: batch, n: n, k: m, alpha: 1, a: a.baseAddress!, lda: m,
                                       b: b.baseAddress!, ldb: n, beta: 0, c: c.baseAddress!, ldc: n)
                            flops += 2 * Double(batch * n * m)
                        }
                    }
                }
            }
        }
        repetitions += 1
    }
    return flops / Date().timeIntervalSince(started) / 1e9
}

func format(_ v: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", v) }

do {
    print("step-benchmark: default job (Fashion-MNIST, MLP 784-256-128-10 ReLU, softmax CE, batch 128, lr 0.1)")
    print("machine: \(cores) cores; median of \(epochs) epochs after one warm-up; \(Date())")
    // Training first: OpenBLAS runs slower after its thread count is lowered and raised again.
    var rows: [(threads: Int, result: (median: Double, all: [Double], accuracy: Double?, flopsPerEpoch: Double, executedPerEpoch: Double))] = []
    for threads in Set([cores, 1]).sorted(by: >) { rows.append((threads, try secondsPerEpoch(workers: threads))) }
    let reference = sgemmReference()
    print("")
    print("| run | worker threads | s/epoch median [min–max] | GFLOP/s (6·W convention) | GFLOP/s executed | executed per thread / 1-thread sgemm | test accuracy |")
    print("|---|---|---|---|---|---|---|")
    for (threads, r) in rows {
        let convention = r.flopsPerEpoch / r.median / 1e9, executed = r.executedPerEpoch / r.median / 1e9
        print("| local mode | \(threads) | \(format(r.median)) [\(format(r.all.first!))–\(format(r.all.last!))] | \(format(convention, 1)) | \(format(executed, 1)) | \(format(100 * executed / reference / Double(threads), 0))% | \(r.accuracy.map { format(100 * $0, 2) + "%" } ?? "–") |")
    }
    print("")
    print("single-thread sgemm on the step's shapes (batch 128): \(format(reference, 1)) GFLOP/s")
    print("FLOPs per epoch: 6 × 234,752 weights × 60,000 samples = 84.5 GFLOP by convention; 60.4 GFLOP executed (no input gradient for layer 0)")
} catch {
    FileHandle.standardError.write(Data("step-benchmark: error: \(error)\n".utf8))
    exit(1)
}
