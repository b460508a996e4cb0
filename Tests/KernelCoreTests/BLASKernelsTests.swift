import KernelCore
import XCTest

/// OpenBLAS's generic kernels on a CPU it does not know are replaced; its own choices stand.
final class BLASKernelsTests: XCTestCase {
    let sapphireRapids: Set<String> = ["sse2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"]

    func testFallbackKernelsAreReplacedByTheWidestTheCPUHas() {
        XCTAssertEqual(BLASKernels.better(than: "Prescott", cpuFlags: sapphireRapids), "SkylakeX")
        XCTAssertEqual(BLASKernels.better(than: "Prescott", cpuFlags: ["sse2", "avx", "avx2", "fma"]), "Haswell")
        XCTAssertNil(BLASKernels.better(than: "Prescott", cpuFlags: ["sse2", "sse3"]), "an old CPU keeps them")
        XCTAssertNil(BLASKernels.better(than: "Prescott", cpuFlags: []), "no flags known: nothing changes")
    }

    func testOpenBLASsOwnChoiceStands() {
        for own in ["Haswell", "SkylakeX", "Cooperlake", "SapphireRapids", "Zen"] {
            XCTAssertNil(BLASKernels.better(than: own, cpuFlags: sapphireRapids), own)
        }
    }
}
