// swift-tools-version:6.0
import Foundation
import PackageDescription

// One target per box of the data path (see README.md), in the order below:
//   Data → Batching (shard + batch) → KernelCore (+ Models) → Communication → Training → TrainerCLI
// on a bottom layer of Support (errors, file I/O, CRC-32, the portable PRNG) and Checkpoint (the
// safetensors format). A target may import only targets declared before it.
let package = Package(
    name: "trainer",
    products: [
        .executable(name: "trainer", targets: ["TrainerCLI"]),
        .executable(name: "step-benchmark", targets: ["StepBenchmark"]),
        .executable(name: "sum-benchmark", targets: ["SumBenchmark"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // C libraries, through pkg-config.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The CPU's prefetch instruction, which Swift cannot spell (used by Batching).
        .target(name: "CPrefetch"),
        // The process's CPU affinity (sched_getaffinity needs _GNU_SOURCE; used by Support).
        .target(name: "CAffinity"),

        // Bottom layer: the user-facing error type, file reading, CRC-32 and the portable PRNG.
        .target(name: "Support", dependencies: ["CZlib", "CAffinity"]),
        // Checkpoints: the safetensors file format (validated reading, atomic writing).
        .target(name: "Checkpoint", dependencies: ["Support"]),
        // Data: NumPy arrays and raw IDX mapped, CSV and gzip decoded once per machine into a cache, synthetic sets.
        .target(name: "Data", dependencies: ["Support", "Checkpoint", "CZlib"]),
        // Shard + batch: the epoch permutation, global batches, rank slices, gathering into buffers.
        .target(name: "Batching", dependencies: ["Support", "Data", "CPrefetch"]),
        // Kernel core: GEMM, dense layers, activations, losses, regularisers, the parameter arena.
        .target(name: "KernelCore", dependencies: [
            "COpenBLAS", .product(name: "Numerics", package: "swift-numerics"),
        ]),
        // Models: the model-spec language and building a network from it.
        .target(name: "Models", dependencies: ["Support", "KernelCore"]),
        // Communicator: the step's sum (exact or compressed); local and MPI implementations.
        // Knows no models (GEMM from KernelCore for PowerSGD's factors).
        .target(name: "Communication", dependencies: ["Support", "KernelCore", "CMPI"]),
        // Training: optimizer, learning-rate schedules, the step, the loop, metrics.
        .target(name: "Training", dependencies: [
            "Support", "Data", "Batching", "KernelCore", "Models", "Communication", "Checkpoint",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The command line: `trainer train | evaluate | inspect | gradcheck | predict | plot`.
        .executableTarget(name: "TrainerCLI", dependencies: [
            "Support", "Data", "Batching", "KernelCore", "Models", "Communication", "Training", "Checkpoint",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),

        // bench/: seconds per epoch and GFLOP/s of the default job, against single-thread sgemm.
        .executableTarget(name: "StepBenchmark", dependencies: [
            "Support", "KernelCore", "Models", "Data", "Communication", "Training",
            .product(name: "Logging", package: "swift-log"),
        ], path: "bench/StepBenchmark"),
        // bench/alphabeta: the time of one sum over MPI ranks, for each way of summing.
        .executableTarget(name: "SumBenchmark", dependencies: ["Support", "Communication"], path: "bench/SumBenchmark"),

        // One test target per box; they share scratch directories, the process runner for the
        // tests that run `trainer` and `mpirun` as a user would, what a run left (RunResult),
        // the TrainerError assertion and the IDX file writers.
        .target(name: "TestSupport", dependencies: ["Support", "Training"], path: "Tests/TestSupport"),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "Support", "TestSupport"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "Support", "TestSupport"]),
        .testTarget(name: "BatchingTests", dependencies: ["Batching", "Data", "Support"]),
        .testTarget(name: "KernelCoreTests", dependencies: ["KernelCore", "Models", "Support"]),
        .testTarget(name: "CommunicationTests", dependencies: ["Communication", "Support"]),
        .testTarget(name: "TrainingTests", dependencies: [
            "Training", "Models", "KernelCore", "Data", "Batching", "Communication", "Support", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "CLITests", dependencies: ["TrainerCLI", "Training", "Checkpoint", "Support", "TestSupport"]),
        // Real mpirun, real ranks: distributed runs equal single-process runs.
        .testTarget(name: "DistributedTests", dependencies: [
            "TrainerCLI", "Training", "Communication", "Checkpoint", "Support", "TestSupport",
        ]),

        // Fuzz targets (launch/fuzz): one libFuzzer target per parser, built there with
        // -sanitize=fuzzer -DFUZZING; a normal build makes them replay files given as arguments.
        .systemLibrary(name: "CLibFuzzer", path: "Tests/Fuzz/CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["Support", "CLibFuzzer"], path: "Tests/Fuzz/Support"),
        .executableTarget(name: "FuzzIDX", dependencies: ["Data", "FuzzSupport"], path: "Tests/Fuzz/IDX",
                          exclude: ["corpus"]),
        .executableTarget(name: "FuzzCSV", dependencies: ["Data", "FuzzSupport"], path: "Tests/Fuzz/CSV",
                          exclude: ["corpus"]),
        .executableTarget(name: "FuzzSafeTensors", dependencies: ["Checkpoint", "Training", "FuzzSupport"],
                          path: "Tests/Fuzz/SafeTensors", exclude: ["corpus"]),
        .executableTarget(name: "FuzzNumPy", dependencies: ["Data", "FuzzSupport"], path: "Tests/Fuzz/NumPy",
                          exclude: ["corpus"]),
        .executableTarget(name: "FuzzModelSpec", dependencies: ["Models", "Data", "Training", "FuzzSupport"],
                          path: "Tests/Fuzz/ModelSpec", exclude: ["corpus"]),
    ]
)

// On x86-64, our Swift code is compiled for AVX2 (Haswell, 2013, and every x86-64 server CPU
// since): the elementwise loops around GEMM (activations, the gather, the gradient scaling and the
// SGD update) then run 8 floats wide instead of SSE2's 4, which halved the gather and update
// phases (README, Performance). Results are bit-identical to an SSE2 build: Swift never fuses
// a·b + c into one FMA. `TRAINER_PORTABLE=1 swift build …` builds for any x86-64 instead.
#if arch(x86_64)
if ProcessInfo.processInfo.environment["TRAINER_PORTABLE"] != "1" {
    for target in package.targets where target.type != .system {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-target-cpu", "haswell"])]
    }
}
#endif
