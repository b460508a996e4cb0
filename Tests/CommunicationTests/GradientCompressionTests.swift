import Communication
import Support
import XCTest

/// `--grad-compression`: bfloat16 rounding, and that both compressed sums keep what they leave
/// out (error feedback) — the conservation law Σ applied + Σ residuals = Σ contributions — and
/// give every rank the same bits.
final class GradientCompressionTests: XCTestCase {
    func testParsingNamesTheFlag() throws {
        XCTAssertEqual(try GradientCompression(parsing: "none"), GradientCompression.none)
        XCTAssertEqual(try GradientCompression(parsing: "bf16"), .bfloat16)
        XCTAssertEqual(try GradientCompression(parsing: "powersgd:4"), .powerSGD(rank: 4))
        XCTAssertEqual(GradientCompression.powerSGD(rank: 4).description, "powersgd:4")
        for bad in ["fp16", "powersgd", "powersgd:0", "powersgd:x", "powersgd:257"] {
            XCTAssertThrowsError(try GradientCompression(parsing: bad)) { error in
                XCTAssertTrue("\(error)".hasPrefix("--grad-compression \(bad): "), "\(error)")
            }
        }
    }

    func testBFloat16RoundsToNearestEven() {
        let ulp: Float = 0x1p-7  // of bfloat16 at 1
        XCTAssertEqual(BFloat16.rounded(1), 1)
        XCTAssertEqual(BFloat16.rounded(1 + ulp / 2), 1, "a tie goes to the even neighbour")
        XCTAssertEqual(BFloat16.rounded(1 + 3 * ulp / 2), 1 + 2 * ulp, "a tie goes to the even neighbour")
        XCTAssertEqual(BFloat16.rounded(1 + ulp / 2 + 0x1p-20), 1 + ulp)
        XCTAssertEqual(BFloat16.rounded(-3.0e-3).bitPattern & 0xFFFF, 0)
        XCTAssertEqual(BFloat16.rounded(.greatestFiniteMagnitude), .infinity)
        XCTAssertTrue(BFloat16.rounded(.nan).isNaN)
        // The wire form is lossless for bfloat16 numbers.
        let numbers: [Float] = [1, -2.5, 0x1p-100, BFloat16.rounded(0.1), 0]
        var wire = [UInt16](repeating: 0, count: numbers.count), back = [Float](repeating: 7, count: numbers.count)
        BFloat16.encode(numbers, count: numbers.count, into: &wire)
        BFloat16.decode(wire, count: numbers.count, into: &back)
        XCTAssertEqual(back.map(\.bitPattern), numbers.map(\.bitPattern))
    }

    /// Rank r's step-t contribution: gradients that no rounding keeps exactly, then 2 slots.
    static func contribution(rank: Int, step: Int, count: Int) -> [Float] {
        var random = PortableRandom(seed: UInt64(1 + rank), stream: .gradientCheck, index: UInt64(step))
        return (0..<count).map { _ in Float(random.nextGaussian()) }
    }

    /// Runs `steps` steps of `compression` on `ranks` threads; per rank and step: what was
    /// contributed, what came back, and the residual after the step.
    static func run(_ compression: GradientCompression, ranks: Int, steps: Int, gradients: Int, slots: Int,
                    matrices: [GradientMatrix]) -> [[(given: [Float], result: [Float], residual: [Float])]] {
        ThreadGroup.run(size: ranks) { communicator in
            let plan = ReductionPlan(placement: communicator.placement, compression: compression)
            let reduction = communicator.makeStepSum(plan, gradientCount: gradients, extraSlots: slots, matrices: matrices, seed: 5).reduction
            return (0..<steps).map { step in
                let given = contribution(rank: communicator.rank, step: step, count: gradients + slots)
                _ = reduction.values.update(fromContentsOf: given)
                reduction.sum()
                return (given, Array(reduction.values), Array(reduction.carried.perRank))
            }
        }
    }

    /// Σ_t applied_t + Σ_r residual_r(T) = Σ_t Σ_r given_r,t, in Float64, relative to the size of
    /// what was given; and the slots are summed exactly, the same on every rank.
    func assertConserves(_ compression: GradientCompression, ranks: Int, gradients: Int, matrices: [GradientMatrix] = [],
                         tolerance: Double, file: StaticString = #filePath, line: UInt = #line) {
        let steps = 6, slots = 2
        let runs = Self.run(compression, ranks: ranks, steps: steps, gradients: gradients, slots: slots, matrices: matrices)
        for step in 0..<steps {
            for rank in 1..<ranks {
                XCTAssertEqual(runs[rank][step].result.map(\.bitPattern), runs[0][step].result.map(\.bitPattern),
                               "\(compression): rank \(rank) applies other bits than rank 0 at step \(step)", file: file, line: line)
            }
            for i in gradients..<(gradients + slots) {
                let exact = ReductionTreeTests.treeSum((0..<ranks).map { runs[$0][step].given[i] })
                XCTAssertEqual(runs[0][step].result[i], exact, "\(compression): slot \(i) is summed exactly", file: file, line: line)
            }
        }
        var worst = 0.0, scale = 0.0
        for i in 0..<gradients {
            let given = runs.reduce(0.0) { total, rank in total + rank.reduce(0.0) { $0 + Double($1.given[i]) } }
            let applied = runs[0].reduce(0.0) { $0 + Double($1.result[i]) }
            let left = runs.reduce(0.0) { $0 + Double($1[steps - 1].residual[i]) }
            worst = max(worst, abs(applied + left - given))
            scale = max(scale, abs(given))
        }
        XCTAssertLessThanOrEqual(worst / scale, tolerance, "\(compression), \(ranks) ranks: the error feedback lost something",
                                 file: file, line: line)
    }

    func testBFloat16SumKeepsWhatItRoundsAway() {
        for ranks in [1, 2, 3] { assertConserves(.bfloat16, ranks: ranks, gradients: 1001, tolerance: 1e-6) }
        // And what it applies are bfloat16 numbers, not the exact sums.
        let runs = Self.run(.bfloat16, ranks: 2, steps: 1, gradients: 100, slots: 2, matrices: [])
        XCTAssertTrue(runs[0][0].result[..<100].allSatisfy { $0.bitPattern & 0xFFFF == 0 })
        XCTAssertTrue(runs[0][0].residual.contains { $0 != 0 })
    }

    /// Two weight matrices (24 × 30 and 12 × 24, compressed at rank 2) and a bias between them.
    static let matrices = [GradientMatrix(offset: 0, rows: 24, columns: 30), GradientMatrix(offset: 24 * 30 + 24, rows: 12, columns: 24)]
    static let gradients = 24 * 30 + 24 + 12 * 24 + 12

    func testPowerSGDKeepsWhatItsFactorsLeaveOut() {
        for ranks in [1, 2, 3] {
            assertConserves(.powerSGD(rank: 2), ranks: ranks, gradients: Self.gradients, matrices: Self.matrices, tolerance: 1e-5)
        }
    }

    func testPowerSGDSendsBiasesExactlyAndLowRankSumsWhole() {
        // Each rank's weight gradient is rank 1 (uᵣ vᵣᵀ): their sum over 2 ranks has rank 2, which
        // one power iteration at R = 2 recovers; the bias and the small matrix travel exactly.
        let (n, m) = (24, 30), count = n * m + n + 3 * 2
        let matrices = [GradientMatrix(offset: 0, rows: n, columns: m), GradientMatrix(offset: n * m + n, rows: 3, columns: 2)]
        let results = ThreadGroup.run(size: 2) { communicator -> ([Float], [Float], [Float]) in
            let plan = ReductionPlan(placement: communicator.placement, compression: .powerSGD(rank: 2))
            let reduction = communicator.makeStepSum(plan, gradientCount: count, extraSlots: 1, matrices: matrices, seed: 1).reduction
            var random = PortableRandom(seed: 9, stream: .gradientCheck, index: UInt64(communicator.rank))
            let u = (0..<n).map { _ in Float(random.nextGaussian()) }, v = (0..<m).map { _ in Float(random.nextGaussian()) }
            var given = (0..<(count + 1)).map { _ in Float(random.nextGaussian()) }
            for i in 0..<n { for j in 0..<m { given[i * m + j] = u[i] * v[j] } }
            _ = reduction.values.update(fromContentsOf: given)
            reduction.sum()
            return (given, Array(reduction.values), Array(reduction.carried.perRank))
        }
        let sum = zip(results[0].0, results[1].0).map { $0 + $1 }
        let result = results[0].1
        var error = 0.0, size = 0.0
        for i in 0..<(n * m) { error += Double(result[i] - sum[i]) * Double(result[i] - sum[i]); size += Double(sum[i] * sum[i]) }
        XCTAssertLessThanOrEqual((error / size).squareRoot(), 1e-5, "a rank-2 sum comes back whole")
        XCTAssertEqual(Array(result[(n * m)...]), Array(sum[(n * m)...]), "biases, the small matrix and the slot: exact")
        XCTAssertLessThanOrEqual(results[0].2.map { abs(Double($0)) }.max() ?? 0, 1e-4, "nothing left behind")
    }

    func testPowerSGDSendsFewerFloatsForTheDefaultModel() {
        // 784-256-128-10: at R = 4, ~7k floats cross instead of 235k.
        let layers = [(784, 256), (256, 128), (128, 10)]
        var offset = 0, matrices: [GradientMatrix] = []
        for (inputs, outputs) in layers {
            matrices.append(GradientMatrix(offset: offset, rows: outputs, columns: inputs))
            offset += inputs * outputs + outputs
        }
        let (count, weights) = (offset, matrices)
        let sent = ThreadGroup.run(size: 1) { communicator -> Int in
            let plan = ReductionPlan(placement: communicator.placement, compression: .powerSGD(rank: 4))
            let reduction = communicator.makeStepSum(plan, gradientCount: count, extraSlots: 4, matrices: weights, seed: 0)
                .reduction as! PowerSGDStepReduction
            return reduction.floatsSummed
        }[0]
        XCTAssertEqual(offset, 235_146)
        XCTAssertEqual(sent, 4 * (256 + 128 + 10) + 4 * (784 + 256 + 128) + (256 + 128 + 10) + 4)
        XCTAssertLessThan(sent, 7_000)
    }
}
