/// Counts of (true class, predicted class) pairs, printed as an aligned table with per-class
/// recall and the overall accuracy.
struct ConfusionMatrix {
    /// Larger matrices are not printed (nor allocated).
    static let maximumClasses = 100
    static let fashionMNISTNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    let classes: Int
    /// Row-major: `counts[truth * classes + predicted]`.
    private(set) var counts: [Int]

    init(classes: Int) {
        self.classes = max(classes, 1)
        counts = [Int](repeating: 0, count: self.classes * self.classes)
    }

    /// Counts one sample; pairs outside 0..<classes are ignored (callers validate labels).
    mutating func add(truth: Int, predicted: Int) {
        guard (0..<classes).contains(truth), (0..<classes).contains(predicted) else { return }
        counts[truth * classes + predicted] += 1
    }

    func count(truth: Int, predicted: Int) -> Int { counts[truth * classes + predicted] }
    var total: Int { counts.reduce(0, +) }
    var correct: Int { (0..<classes).reduce(0) { $0 + count(truth: $1, predicted: $1) } }

    /// The table: a header of predicted classes, one row per true class ("k name" when `names`
    /// are given) with its counts and recall, a row of column totals, then the accuracy.
    func rendered(names: [String]?) -> String {
        let rowLabels = (0..<classes).map { k in names.map { "\(k) \($0[k])" } ?? String(k) }
        let columnTotals = (0..<classes).map { p in (0..<classes).reduce(0) { $0 + count(truth: $1, predicted: p) } }
        let cellWidth = max(columnTotals.map { String($0).count }.max() ?? 1, String(classes - 1).count, 3)
        let labelWidth = max(rowLabels.map(\.count).max() ?? 1, "true \\ predicted".count, "total".count)
        func left(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        func percent(_ part: Int, _ whole: Int) -> String {
            whole > 0 ? String(format: "%.2f%%", 100 * Double(part) / Double(whole)) : "–"
        }

        var lines = ["confusion matrix (rows: true class, columns: predicted class)"]
        lines.append(left("true \\ predicted", labelWidth) + (0..<classes).map { "  " + right(String($0), cellWidth) }.joined()
                     + "   " + right("recall", 7))
        for t in 0..<classes {
            let row = (0..<classes).map { count(truth: t, predicted: $0) }
            let truthTotal = row.reduce(0, +)
            lines.append(left(rowLabels[t], labelWidth) + row.map { "  " + right(String($0), cellWidth) }.joined()
                         + "   " + right(percent(row[t], truthTotal), 7))
        }
        lines.append(left("total", labelWidth) + columnTotals.map { "  " + right(String($0), cellWidth) }.joined())
        lines.append("accuracy \(percent(correct, total)) (\(correct) of \(total) correct)")
        return lines.map { line in
            var trimmed = Substring(line)
            while trimmed.last == " " { trimmed = trimmed.dropLast() }
            return String(trimmed)
        }.joined(separator: "\n") + "\n"
    }
}
