import Data
import Support

/// One thing that shapes a run: a flag's value, or a property of the data or model it implies.
///
/// Declared once, in `RunSettings.all`; from that one entry follow the flag's range check
/// (`RunSettings.validate`), its checkpoint metadata (`ModelCheckpoint`), what `trainer inspect`
/// prints, the cross-rank fingerprint (`RankAgreement`) and the resume check
/// (`ModelCheckpoint.Loaded.checkResumable`).
public struct RunSetting: Sendable {
    /// How users name it: the flag (`--lr`), or what it is (`the training data's CRC-32`).
    public let name: String
    /// Where its value comes from: its flag, several flags together, or the data and model.
    public let source: Source
    /// Its key in a checkpoint's metadata; nil when checkpoints do not record it.
    public let key: String?
    /// Every rank must run with the same value (checked before the first step).
    public let ranksMustAgree: Bool
    /// A resumed run must have the checkpoint's value.
    public let resumeMustMatch: Bool
    /// The values the flag and the checkpoint metadata may take; nil: any the parser accepts.
    public let limits: Limits?
    /// Its value in a checkpoint that does not record it — one written before the setting
    /// existed, which ran with the setting's default; nil: such a checkpoint cannot be resumed.
    public let whenMissing: String?
    /// The text of its value when the flag was not given (the test data's `default`), which a
    /// replay of the run (`--print-config`, `inspect --config`) leaves out; nil: none.
    public private(set) var unsetText: String? = nil
    /// The flag and value without which the setting does not apply (`--weight-decay` applies
    /// with `--optimizer adamw` alone), or with which it does not (`equal` false: `--outer-lr`
    /// applies unless `--sync-every 1`); `flag` comes before it in `RunSettings.all`. A replay
    /// leaves it out when it does not apply.
    public private(set) var appliesOnlyWith: (flag: String, value: String, equal: Bool)? = nil
    /// Compared on resume only with a checkpoint that records it (the data's identity changed
    /// form: a checkpoint records one form or the other).
    public private(set) var comparedOnlyIfRecorded = false
    /// Written into checkpoints (false: read from those of earlier versions alone, its value
    /// computed only to resume one).
    public private(set) var written = true
    /// The value as given, before any data is loaded (nil: not given) — what `limits` checks.
    let given: @Sendable (TrainingConfiguration) -> String?
    /// The run's value, canonical text: the metadata value, what ranks compare, what a resume matches.
    let value: @Sendable (TrainingConfiguration, PreparedData) -> String

    /// Where a setting's value comes from.
    public enum Source: Sendable, Equatable {
        /// The flag `name`, whose values are of this kind.
        case flag(ValueKind)
        /// What several flags imply together (`name` says which); no flag of its own.
        case flags
        /// A property of the loaded data or of the model built for it.
        case data
    }

    /// What a flag's value is: a whole number, a real number, on/off (present or not), or text.
    public enum ValueKind: Sendable, Equatable {
        case integer, real, boolean, text
    }

    /// Whether it is a flag (else what flags imply, or a property of the data or model).
    public var isFlag: Bool { flagKind != nil }

    /// The kind of its flag's value; nil when it is not a flag.
    public var flagKind: ValueKind? {
        if case .flag(let kind) = source { return kind }
        return nil
    }

    /// The run's value of this setting, as text.
    public func value(of configuration: TrainingConfiguration, data: PreparedData) -> String {
        value(configuration, data)
    }

    /// The value as given (nil: not given), before any data is loaded.
    public func givenValue(_ configuration: TrainingConfiguration) -> String? { given(configuration) }

    /// Throws `.usage` naming the flag and `text` if `text` is out of its limits.
    public func check(_ text: String) throws {
        guard let limits, !limits.admit(text) else { return }
        throw TrainerError(.usage, subject: "\(name) \(text)", limits.rule)
    }

    /// Its value as a checkpoint's `metadata` records it.
    public func recorded(in metadata: [String: String]) -> String? { key.flatMap { metadata[$0] } ?? whenMissing }

    /// A flag taking values of `kind`, whose value is `text(configuration)`.
    static func flag(_ name: String, _ kind: ValueKind, key: String?, agree: Bool = true, resume: Bool = true,
                     limits: Limits? = nil, whenMissing: String? = nil,
                     _ text: @escaping @Sendable (TrainingConfiguration) -> String) -> RunSetting {
        RunSetting(name: name, source: .flag(kind), key: key, ranksMustAgree: agree, resumeMustMatch: resume, limits: limits,
                   whenMissing: whenMissing, given: text, value: { c, _ in text(c) })
    }

    /// What several flags imply together, `text(configuration)`; `name` says what and which flags.
    static func implied(_ name: String, key: String?, agree: Bool = true, resume: Bool = true,
                        _ text: @escaping @Sendable (TrainingConfiguration) -> String) -> RunSetting {
        RunSetting(name: name, source: .flags, key: key, ranksMustAgree: agree, resumeMustMatch: resume, limits: nil,
                   whenMissing: nil, given: { _ in nil }, value: { c, _ in text(c) })
    }

    /// This setting, whose value reads `text` when its flag was not given.
    func unset(_ text: String) -> RunSetting {
        var setting = self
        setting.unsetText = text
        return setting
    }

    /// This setting, compared on resume only when the checkpoint records it.
    func comparedIfRecorded() -> RunSetting {
        var setting = self
        setting.comparedOnlyIfRecorded = true
        return setting
    }

    /// This setting, which earlier versions wrote into checkpoints and this one only reads.
    func readFromEarlierCheckpoints() -> RunSetting {
        var setting = comparedIfRecorded()
        setting.written = false
        return setting
    }

    /// This setting, which applies only when `flag` has `value`.
    func applies(with flag: String, _ value: String) -> RunSetting {
        var setting = self
        setting.appliesOnlyWith = (flag, value, true)
        return setting
    }

    /// This setting, which applies only when `flag` has another value than `value`.
    func applies(unless flag: String, _ value: String) -> RunSetting {
        var setting = self
        setting.appliesOnlyWith = (flag, value, false)
        return setting
    }

    /// A property of the loaded data or the model built for it.
    static func derived(_ name: String, key: String?, agree: Bool = true, resume: Bool = true, limits: Limits? = nil,
                        _ text: @escaping @Sendable (PreparedData) -> String) -> RunSetting {
        RunSetting(name: name, source: .data, key: key, ranksMustAgree: agree, resumeMustMatch: resume, limits: limits,
                   whenMissing: nil, given: { _ in nil }, value: { _, data in text(data) })
    }

    /// The values a setting may take, checked on its text.
    public enum Limits: Sendable, Equatable {
        /// A whole number in the range.
        case whole(ClosedRange<Int>)
        /// A finite number > 0.
        case positive
        /// A finite number ≥ 0.
        case nonNegative
        /// A number in [0, 1).
        case fraction

        /// Whether `text` is such a value.
        public func admit(_ text: String) -> Bool {
            switch self {
            case .whole(let range): return Int(text).map(range.contains) ?? false
            case .positive: return Double(text).map { $0 > 0 && $0.isFinite } ?? false
            case .nonNegative: return Double(text).map { $0 >= 0 && $0.isFinite } ?? false
            case .fraction: return Double(text).map { $0 >= 0 && $0 < 1 } ?? false
            }
        }

        /// The rule, for messages: "must be a whole number from 1 to 16777216".
        public var rule: String {
            switch self {
            case .whole(let range): return "must be a whole number from \(range.lowerBound) to \(range.upperBound)"
            case .positive: return "must be a positive number"
            case .nonNegative: return "must be a number ≥ 0"
            case .fraction: return "must be in [0, 1)"
            }
        }
    }
}

/// The table of everything that shapes a run.
public enum RunSettings {
    public static let batchSizeLimits = RunSetting.Limits.whole(1...(1 << 24))
    public static let classesLimits = RunSetting.Limits.whole(1...(1 << 20))

    /// Every setting, in the order `inspect` prints them. Anything not here — the checkpoint
    /// policy (but for a compressed sum), metrics, threads, how a rank waits — may differ between
    /// ranks and change on resume.
    public static let all: [RunSetting] = [
        .flag("--model", .text, key: "model") { $0.model.description },
        .flag("--data", .text, key: "data") { $0.data.description },
        .flag("--test-data", .text, key: "test_data") { $0.testData?.description ?? "default" }.unset("default"),
        .flag("--label-column", .text, key: "label_column", whenMissing: "0") { $0.labelColumn.description },
        RunSetting(name: "--classes", source: .flag(.integer), key: "classes", ranksMustAgree: true, resumeMustMatch: true,
                   limits: classesLimits, whenMissing: nil, given: { $0.classes.map(String.init) },
                   value: { _, data in data.classes.map(String.init) ?? "none" })
            .unset("none"),
        .flag("--epochs", .integer, key: "epochs", resume: false, limits: .whole(0...1_000_000)) { String($0.epochs) },
        .flag("--batch-size", .integer, key: "batch_size", limits: batchSizeLimits) { String($0.batchSize) },
        .flag("--micro-batch", .integer, key: "micro_batch", limits: .whole(0...(1 << 24)), whenMissing: "0") { String($0.microBatch) },
        .flag("--lr", .real, key: "lr", limits: .positive) { String($0.learningRate) },
        .flag("--lr-schedule", .text, key: "lr_schedule") { $0.schedule.description },
        .flag("--warmup", .integer, key: "warmup", limits: .whole(0...(1 << 40)), whenMissing: "0") { String($0.warmup) },
        .flag("--optimizer", .text, key: "optimizer", whenMissing: "sgd") { $0.optimizer.rawValue },
        RunSetting(name: "--weight-decay", source: .flag(.real), key: "weight_decay", ranksMustAgree: true, resumeMustMatch: true,
                   limits: .nonNegative, whenMissing: "0.0",
                   given: { $0.optimizer == .adamw ? String($0.effectiveWeightDecay) : $0.weightDecay.map { String($0) } },
                   value: { c, _ in String(c.effectiveWeightDecay) }).applies(with: "--optimizer", "adamw"),
        .flag("--momentum", .real, key: "momentum", limits: .fraction) { String($0.momentum) },
        .flag("--nesterov", .boolean, key: "nesterov", whenMissing: "false") { String($0.nesterov) },
        .flag("--l1", .real, key: "l1", limits: .nonNegative) { String($0.regularization.l1) },
        .flag("--l2", .real, key: "l2", limits: .nonNegative) { String($0.regularization.l2) },
        .flag("--seed", .integer, key: "seed") { String($0.seed) },
        .flag("--validation", .integer, key: "validation", limits: .whole(0...Int(Int32.max)), whenMissing: "0") { String($0.validation) },
        .flag("--shuffle", .text, key: "shuffle", whenMissing: "global") { $0.shuffle.description },
        .flag("--standardize", .boolean, key: "standardize", whenMissing: "false") { String($0.standardize) },
        .flag("--mpi-reduce", .text, key: nil, resume: false) { $0.mpiReduce.rawValue },
        .flag("--grad-compression", .text, key: "grad_compression", whenMissing: "none") { $0.gradCompression.description },
        .flag("--sync-every", .integer, key: "sync_every", limits: .whole(1...(1 << 24)), whenMissing: "1") { String($0.syncEvery) },
        .flag("--outer-lr", .real, key: "outer_lr", limits: .positive, whenMissing: "1.0") { String($0.outerLearningRate) }
            .applies(unless: "--sync-every", "1"),
        .flag("--outer-momentum", .real, key: "outer_momentum", limits: .fraction, whenMissing: "0.0") { String($0.outerMomentum) }
            .applies(unless: "--sync-every", "1"),
        // A compressed sum's state, and local rounds' inner optimizer state, are gathered from every
        // rank when rank 0 writes a checkpoint, so then all ranks must write checkpoints at the same steps.
        .implied("when checkpoints are written (--checkpoint-dir, --checkpoint-every; a compressed sum or --sync-every gathers each rank's state then)",
                 key: nil, resume: false) {
            guard $0.gradCompression != .none || $0.syncEvery > 1 else { return "any time" }
            guard $0.checkpointDirectory != nil else { return "never" }
            return $0.checkpointEvery == 0 ? "at epoch ends" : "at epoch ends and every \($0.checkpointEvery) steps"
        },
        .derived("the training data's sample count", key: "train_samples", limits: .whole(1...Int(Int32.max))) {
            String($0.train.count)
        },
        // What identifies the data without a pass over it: their shape, element type and a CRC-32 of
        // a fixed sample of rows (`Dataset.sampleChecksum`). Checkpoints of earlier versions
        // recorded a CRC-32 of all the data instead, computed only to resume one of them.
        .derived("the training data's sample CRC-32", key: "data_sample_crc32") { String($0.trainIdentity) }.comparedIfRecorded(),
        .derived("the training data's CRC-32 (checkpoints of earlier versions)", key: "data_crc32", agree: false) {
            String($0.sourceChecksum())
        }.readFromEarlierCheckpoints(),
        .derived("the test data's sample count", key: nil, resume: false) { String($0.test?.count ?? 0) },
        .derived("the test data's sample CRC-32", key: nil, resume: false) { String($0.testIdentity ?? 0) },
        .derived("the model's input count", key: "input_count", resume: false, limits: .whole(1...(1 << 24))) {
            String($0.architecture.inputCount)
        },
        .derived("the parameter count", key: nil, resume: false) { String($0.architecture.parameterCount) },
    ]

    /// The settings a resumed run must share with its checkpoint (`checkResumable` compares them).
    public static let resumeMustMatch = all.filter { $0.resumeMustMatch && $0.key != nil }

    /// What a resumed run may change: the table's flags that need not match, and what is not in it.
    public static let resumeMayChange = all.filter { $0.isFlag && !$0.resumeMustMatch }.map(\.name)
        + ["the checkpoint policy", "metrics", "threads"]

    /// `names` as a list in a sentence: "a, b and c".
    public static func listed(_ names: [String]) -> String {
        names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }

    /// The setting recorded under metadata `key`.
    public static func recorded(_ key: String) -> RunSetting? { all.first { $0.key == key } }

    /// The setting of flag `name` (`--l1`), which the table declares.
    public static func flag(_ name: String) -> RunSetting {
        guard let setting = all.first(where: { $0.isFlag && $0.name == name }) else { preconditionFailure("\(name): not a flag of RunSettings.all") }
        return setting
    }

    /// Throws `.usage` naming the flag and its value if a given value is out of its limits.
    public static func validate(_ configuration: TrainingConfiguration) throws {
        for setting in all {
            if let text = setting.given(configuration) { try setting.check(text) }
        }
    }

    /// The run's settings that checkpoints record, as metadata.
    static func metadata(_ configuration: TrainingConfiguration, data: PreparedData) -> [String: String] {
        var metadata: [String: String] = [:]
        for setting in all where setting.written { if let key = setting.key { metadata[key] = setting.value(configuration, data) } }
        return metadata
    }
}
