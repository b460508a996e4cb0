import Support

/// Labels below this are integers that `Float` stores exactly (2^24); class counts must stay below it.
private let largestExactLabel: Float = 16_777_216

extension Dataset {
    /// K = largest label + 1, if every label is a non-negative integer below 2^24; else nil
    /// (also nil when there are no labels).
    public var inferredClassCount: Int? {
        guard !labels.isEmpty else { return nil }
        let facts = labels.facts
        guard facts.whole, facts.minimum >= 0, facts.maximum < largestExactLabel else { return nil }
        return Int(facts.maximum) + 1
    }

    /// The first label that is not a class (a whole number from 0 to 2^24 − 1) and its sample,
    /// as a message says it: `label -1 of sample 0`; nil if every label is a class.
    public var firstNonClassLabel: String? {
        labels.firstIndex { !Self.isClassIndex($0) }.map { "label \(Self.shown(labels[$0])) of sample \($0)" }
    }

    private static func isClassIndex(_ label: Float) -> Bool {
        label >= 0 && label < largestExactLabel && label.rounded(.towardZero) == label
    }

    /// A label as messages show it: a whole number without ".0".
    private static func shown(_ label: Float) -> String {
        label.rounded(.towardZero) == label && abs(label) < 1e9 ? String(Int(label)) : String(describing: label)
    }

    /// Throws `.data` naming `labelSource`, the sample index and the value if a label is not a
    /// whole number in 0..<classes.
    public func validateClassLabels(classes: Int) throws {
        if !labels.isEmpty {
            let facts = labels.facts
            if facts.whole, facts.minimum >= 0, facts.maximum < Float(classes) { return }
        }
        // Some label is not a class: find the first, for the message.
        for (index, label) in labels.enumerated() {
            let isWhole = label.isFinite && label.rounded(.towardZero) == label
            if !isWhole {
                throw TrainerError(.data, subject: labelSource,
                    "label \(label) of sample \(index) is not a whole number; class labels are 0, 1, …, \(classes - 1)")
            }
            if label < 0 || label >= Float(classes) {
                throw TrainerError(.data, subject: labelSource,
                    "label \(Self.shown(label)) of sample \(index) is out of range: classes are 0…\(classes - 1)")
            }
        }
    }
}
