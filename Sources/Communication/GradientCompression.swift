import Support

/// What the step's sum sends (`--grad-compression`). `.none` is the exact sum. The others
/// trade exactness for bytes, each with error feedback — what a rank's compressed contribution
/// leaves out is added to its next one, so over the steps nothing is dropped — and each is
/// itself a sum in the tree's order: N ranks on any machines compute what N local threads do.
public enum GradientCompression: Sendable, Equatable, CustomStringConvertible {
    /// The exact Float32 sum.
    case none
    /// bfloat16 numbers summed (`BFloat16StepReduction`): 2 bytes a value on the wire wherever
    /// the values are bfloat16 numbers.
    case bfloat16
    /// PowerSGD of this rank (`PowerSGDStepReduction`): each large enough weight matrix sent as
    /// two thin factors.
    case powerSGD(rank: Int)

    /// The ranks `powersgd:R` accepts.
    public static let powerSGDRanks = 1...256

    /// `none`, `bf16` or `powersgd:R`; errors name `--grad-compression`.
    public init(parsing text: String) throws {
        func fail(_ problem: String) -> TrainerError { TrainerError(.usage, subject: "--grad-compression \(text)", problem) }
        switch text {
        case "none": self = .none
        case "bf16": self = .bfloat16
        default:
            guard text.hasPrefix("powersgd:") else { throw fail("must be none, bf16 or powersgd:R") }
            guard let rank = Int(text.dropFirst("powersgd:".count)), Self.powerSGDRanks.contains(rank) else {
                throw fail("the rank R of powersgd:R must be a whole number from 1 to \(Self.powerSGDRanks.upperBound)")
            }
            self = .powerSGD(rank: rank)
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .bfloat16: return "bf16"
        case .powerSGD(let rank): return "powersgd:\(rank)"
        }
    }
}

/// A `rows × columns` row-major matrix in the step's buffer, from `offset` — all a compressor
/// knows of a model.
public struct GradientMatrix: Sendable, Equatable {
    public let offset: Int, rows: Int, columns: Int

    public init(offset: Int, rows: Int, columns: Int) {
        self.offset = offset
        self.rows = rows
        self.columns = columns
    }

    public var count: Int { rows * columns }
}

/// What a compressed step reduction carries from one step to the next, and what a checkpoint
/// must hold to resume it bit for bit: this rank's own part (its residuals) and a part every
/// rank holds the same (PowerSGD's warm start). Views of the reduction's memory.
public struct CarriedState {
    public let perRank: UnsafeMutableBufferPointer<Float>
    public let shared: UnsafeMutableBufferPointer<Float>

    public init(perRank: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0),
                shared: UnsafeMutableBufferPointer<Float> = .init(start: nil, count: 0)) {
        self.perRank = perRank
        self.shared = shared
    }

    public var isEmpty: Bool { perRank.isEmpty && shared.isEmpty }
}
