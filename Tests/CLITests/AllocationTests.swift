import Foundation
import TestSupport
import XCTest

/// "A step allocates nothing": counted, not assumed. A malloc counter is preloaded into two
/// runs that differ only in their number of steps; they must make the same number of calls.
final class AllocationTests: XCTestCase {
    static let counter = """
    #define _GNU_SOURCE
    #include <dlfcn.h>
    #include <stdio.h>
    #include <stdatomic.h>
    static atomic_long calls;
    static void *(*real_malloc)(size_t);
    void *malloc(size_t n) {
        if (!real_malloc) real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
        atomic_fetch_add(&calls, 1);
        return real_malloc(n);
    }
    __attribute__((destructor)) static void report(void) { fprintf(stderr, "malloc calls: %ld\\n", (long)calls); }
    """

    func testTrainingStepsAndEvaluationAllocateNothing() throws {
        let cc = "/usr/bin/cc"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: cc), "no C compiler to build the malloc counter")
        let directory = try makeScratchDirectory("malloc")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.counter.write(toFile: directory + "/count.c", atomically: true, encoding: .utf8)
        let build = try ProcessRunner.run(cc, ["-O2", "-shared", "-fPIC", "-o", directory + "/count.so", directory + "/count.c", "-ldl"], timeout: 60)
        try XCTSkipUnless(build.status == 0, "the malloc counter did not build: \(build.stderr)")

        func mallocCalls(samples: Int, threads: Int, model: String) throws -> Int {
            var environment = ProcessInfo.processInfo.environment
            environment["LD_PRELOAD"] = directory + "/count.so"
            let running = try ProcessRunner.Running(ProcessRunner.trainer, [
                "train", "--data", "blobs:\(samples):3:20", "--model", model, "--epochs", "1", "--batch-size", "10",
                "--threads", String(threads), "--log-every", "0", "--quiet", "--momentum", "0.5", "--l2", "0.001"],
                environment: environment)
            let outcome = try running.finish(timeout: 60)
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            let line = outcome.stderr.split(separator: "\n").last { $0.hasPrefix("malloc calls: ") }
            return try XCTUnwrap(line.flatMap { Int($0.dropFirst("malloc calls: ".count)) }, outcome.stderr)
        }
        // mlp:1024-1024 (4.3 MB of parameters) on 2 threads takes the sharded update.
        for (threads, model) in [(1, "mlp:32-16:relu"), (2, "mlp:32-16:relu"), (2, "mlp:1024-1024:relu")] {
            // 100 vs 900 training steps (and 1,000 vs 9,000 test samples evaluated).
            let few = try mallocCalls(samples: 1_000, threads: threads, model: model)
            let many = try mallocCalls(samples: 9_000, threads: threads, model: model)
            // Within one malloc call: the same command makes, say, 5591 calls in one run and 5592 in
            // another (seen under load, ~1 run in 5, all on the training thread, also under
            // `setarch -R`) — a call made once or not at all, whatever the number of steps. A step
            // that allocated would add 800 calls, a buffer that grew with the steps several.
            XCTAssertLessThanOrEqual(abs(many - few), 1, "\(model), \(threads) thread(s): 800 more steps made \(many - few) more malloc calls")
        }
    }
}
