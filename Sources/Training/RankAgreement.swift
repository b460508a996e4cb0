import Communication
import Data
import Support

/// An error every rank knows about and agreed on, so every rank can stop cleanly with it; only
/// one rank prints it (`printsHere`), so the user reads it once.
public struct AgreedFailure: Error, Sendable {
    public let error: TrainerError
    public let printsHere: Bool

    public init(error: TrainerError, printsHere: Bool) {
        self.error = error
        self.printsHere = printsHere
    }
}

/// Collective checks that keep ranks from diverging or hanging: before the first step every
/// rank reports whether its setup failed, and then a fingerprint of what it is about to do.
public enum RankAgreement {
    /// All ranks call this with their setup's outcome. If any rank failed, every rank throws an
    /// `AgreedFailure`: the lowest failing rank prints its own message; the exit code is the
    /// largest of the failing ranks' codes.
    public static func agreeOnSetup(_ failure: Error?, communicator: Communicator) throws {
        if communicator.worldSize == 1, let failure { throw failure }
        let world = UInt64(communicator.worldSize)
        let mine = failure.map { error -> TrainerError in
            (error as? TrainerError) ?? TrainerError(.environment, subject: "rank \(communicator.rank)", "\(error)")
        }
        let code = UInt64(mine.map { UInt32(bitPattern: $0.kind.exitCode) } ?? 0)
        let (low, high) = communicator.allreduceMinMax([mine == nil ? world : UInt64(communicator.rank), code])
        guard low[0] < world else { return }
        let first = Int(low[0])
        if let mine {
            throw AgreedFailure(error: mine, printsHere: first == communicator.rank)
        }
        let kind = TrainerError.Kind.allCases.first { UInt64($0.exitCode) == high[1] } ?? .environment
        throw AgreedFailure(error: TrainerError(kind, subject: "rank \(first)", "failed during setup"), printsHere: false)
    }

    /// One thing all ranks must agree on: a flag's value or a property of the data.
    public struct Field: Sendable {
        public let name: String
        public let value: UInt64
        /// How to show a value to the user; nil when it is only a hash.
        public let show: (@Sendable (UInt64) -> String)?

        public static func integer(_ name: String, _ value: Int) -> Field {
            Field(name: name, value: UInt64(bitPattern: Int64(value))) { String(Int64(bitPattern: $0)) }
        }
        public static func real(_ name: String, _ value: Double) -> Field {
            Field(name: name, value: value.bitPattern) { String(Double(bitPattern: $0)) }
        }
        public static func text(_ name: String, _ value: String) -> Field {
            Field(name: name, value: StableHash.of(value), show: nil)
        }
    }

    /// What every rank must agree on before training: the flags that shape the run, the data
    /// (sample count and CRC-32) and the model size.
    public static func fingerprint(_ c: TrainingConfiguration, data: PreparedData, communicator: Communicator) -> [Field] {
        [
            Field(name: "--mpi-reduce", value: communicator.reducesInSharedMemory ? 1 : 0) { $0 == 1 ? "shared" : "allreduce" },
            .text("--data", c.data.description), .text("--test-data", c.testData?.description ?? "default"),
            .text("--model", c.model.description), .integer("--epochs", c.epochs),
            .integer("--batch-size", c.batchSize), .real("--lr", c.learningRate),
            .text("--lr-schedule", c.schedule.description), .real("--momentum", c.momentum),
            .real("--l1", c.regularization.l1), .real("--l2", c.regularization.l2),
            .integer("--seed", Int(truncatingIfNeeded: c.seed)), .integer("--classes", data.classes ?? -1),
            .integer("training samples", data.train.count), .integer("training data CRC-32", Int(data.train.checksum())),
            .integer("test samples", data.test?.count ?? 0), .integer("test data CRC-32", Int(data.test?.checksum() ?? 0)),
            .integer("parameter count", data.architecture.parameterCount),
        ]
    }

    /// Throws the same `AgreedFailure` on every rank (printed by rank 0) if any field differs
    /// between ranks, naming the fields and, where they are numbers, the values.
    public static func verify(_ fields: [Field], communicator: Communicator) throws {
        let (low, high) = communicator.allreduceMinMax(fields.map(\.value))
        let differing = fields.indices.filter { low[$0] != high[$0] }
        guard !differing.isEmpty else { return }
        let described = differing.map { i -> String in
            let field = fields[i]
            guard let show = field.show else { return "\(field.name) differs" }
            return "\(field.name) is \(show(low[i])) on some ranks and \(show(high[i])) on others"
        }
        let isData = differing.allSatisfy { !fields[$0].name.hasPrefix("--") }
        throw AgreedFailure(error: TrainerError(isData ? .data : .usage, subject: "ranks disagree",
                                                described.joined(separator: "; ") + " (start every rank with the same flags and data)"),
                            printsHere: communicator.isRoot)
    }
}
