import Support

/// Labels below this are integers that `Float` stores exactly (2^24); class counts must stay below it.
private let largestExactLabel: Float = 16_777_216

extension Dataset {
    /// K = largest label + 1, if every label is a non-negative integer below 2^24; else nil
    /// (also nil when there are no labels).
    public var inferredClassCount: Int? {
        var largest: Float = -1
        for label in labels {
            guard label >= 0, label < largestExactLabel, label.rounded(.towardZero) == label else { return nil }
            largest = Swift.max(largest, label)
        }
        return largest < 0 ? nil : Int(largest) + 1
    }

    /// Throws `.data` naming `labelSource`, the sample index and the value if a label is not a
    /// whole number in 0..<classes.
    public func validateClassLabels(classes: Int) throws {
        for (index, label) in labels.enumerated() {
            let isWhole = label.isFinite && label.rounded(.towardZero) == label
            if !isWhole {
                throw TrainerError(.data, subject: labelSource,
                    "label \(label) of sample \(index) is not a whole number; class labels are 0, 1, …, \(classes - 1)")
            }
            if label < 0 || label >= Float(classes) {
                throw TrainerError(.data, subject: labelSource,
                    "label \(abs(label) < 1e9 ? String(Int(label)) : String(describing: label)) of sample \(index) is out of range: classes are 0…\(classes - 1)")
            }
        }
    }
}
