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
    public static func agreeOnSetup<T>(_ outcome: Result<T, Error>, communicator: Communicator) throws {
        var failure: Error?
        if case .failure(let error) = outcome { failure = error }
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

    /// Throws the same `AgreedFailure` on every rank (printed by rank 0) if any setting that
    /// ranks must agree on (`RunSetting.ranksMustAgree`) differs between ranks, naming each and
    /// two of its values. Every rank contributes a 64-bit hash of each value; the values of a
    /// setting that differs are then broadcast from a rank holding each extreme hash.
    public static func verify(_ configuration: TrainingConfiguration, data: PreparedData, communicator: Communicator) throws {
        let settings = RunSettings.all.filter(\.ranksMustAgree)
        let values = settings.map { $0.value(of: configuration, data: data) }
        let hashes = values.map(StableHash.of)
        let (low, high) = communicator.allreduceMinMax(hashes)
        let differing = settings.indices.filter { low[$0] != high[$0] }
        guard !differing.isEmpty else { return }
        let described = differing.map { i -> String in
            let seen = [low[i], high[i]].map { hash in
                text(values[i], from: lowestRank(holding: hashes[i] == hash, communicator: communicator), communicator: communicator)
            }.sorted(by: ascending)
            return "\(settings[i].name) is \(seen[0]) on some ranks and \(seen[1]) on others"
        }
        let isData = differing.allSatisfy { settings[$0].source == .data }
        throw AgreedFailure(error: TrainerError(isData ? .data : .usage, subject: "ranks disagree",
                                                described.joined(separator: "; ") + " (start every rank with the same flags and data)"),
                            printsHere: communicator.isRoot)
    }

    /// The lowest rank for which `holds` is true (on some rank it is). Collective.
    static func lowestRank(holding holds: Bool, communicator: Communicator) -> Int {
        let world = UInt64(communicator.worldSize)
        return Int(communicator.allreduceMinMax([holds ? UInt64(communicator.rank) : world]).min[0])
    }

    /// `root`'s `text` on every rank. Collective.
    static func text(_ text: String, from root: Int, communicator: Communicator) -> String {
        var bytes = Array(text.utf8)
        var length = [UInt64(bytes.count)]
        length.withUnsafeMutableBytes { communicator.broadcast($0, root: root) }
        if communicator.rank != root { bytes = [UInt8](repeating: 0, count: Int(length[0])) }
        bytes.withUnsafeMutableBytes { communicator.broadcast($0, root: root) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Numbers by value, anything else as text.
    static func ascending(_ a: String, _ b: String) -> Bool {
        if let x = Double(a), let y = Double(b) { return x < y }
        return a < b
    }
}
