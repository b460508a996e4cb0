import RealModule

/// A per-sample loss ℓ(s, y) of the output scores s ∈ ℝᴷ and the label y, with its gradient
/// ∂ℓ/∂s. Labels are class indices 0..<K stored exactly as floats, or regression targets.
///
/// Conventions (each formula lives only here):
/// - `squaredError`: ℓ = ½ Σₖ (sₖ − yₖ)², ∂ℓ/∂s = s − y — the ½‖f − y‖² of seed 003 (regression,
///   one output; seed 001's (y − z)² is twice this and differs only by a factor absorbed in the rate).
/// - `perceptron`: binary, one score s, y± = +1 for class 1 and −1 for class 0;
///   ℓ = max(0, −y±·s) (seed 000 eq. 1.8, seed 001), ∂ℓ/∂s = −y± whenever y±·s ≤ 0 — the update
///   "w ← w + y x on a mistake" of seed 001, where a score of exactly 0 counts as a mistake.
/// - `multiclassPerceptron`: ŷ = argmax s (first on ties), ℓ = s_ŷ − s_y ≥ 0, ∂ℓ/∂s = e_ŷ − e_y:
///   gradient descent with rate 1 is seed 001's w_ŷ ← w_ŷ − x, w_y ← w_y + x.
/// - `hinge`: ℓ = Σ_{j≠y} max(0, s_j − s_y + 1) (seed 002, multiclass SVM loss);
///   ∂ℓ/∂s_j = 1 for each violating j, ∂ℓ/∂s_y = −(number of violating j).
/// - `softmaxCrossEntropy`: pₖ = e^{sₖ} / Σⱼ e^{sⱼ}, ℓ = −log p_y = logΣexp(s) − s_y computed with
///   the max subtracted (stable), ∂ℓ/∂s = p − onehot(y) (seed 002; seed 003 "f_k − Y_k").
/// - `logistic`: binary, one score s, y ∈ {0, 1}: ℓ = −[y log σ(s) + (1 − y) log(1 − σ(s))]
///   = max(s, 0) − y·s + log(1 + e^{−|s|}) (stable), ∂ℓ/∂s = σ(s) − y.
public enum Loss: String, Sendable, CaseIterable, Codable {
    case squaredError = "mse"
    case perceptron
    case multiclassPerceptron = "multiperceptron"
    case hinge
    case softmaxCrossEntropy = "softmax"
    case logistic

    /// Whether labels are class indices (accuracy is defined) rather than regression targets.
    public var isClassification: Bool { self != .squaredError }

    /// Whether the model emits one score for two classes (perceptron, logistic) instead of K.
    public var usesSingleScore: Bool { self == .perceptron || self == .logistic }

    /// The number of output units for a task with `classes` classes (nil for regression).
    public func outputCount(classes: Int?) -> Int {
        if !isClassification || usesSingleScore { return 1 }
        return classes ?? 1
    }

    /// Σᵢ ℓ(sᵢ, yᵢ) over `rows` samples of `outputs` scores each. When `gradient` is non-nil it
    /// receives ∂ℓᵢ/∂sᵢ for every row — the per-sample gradient, not divided by `rows`.
    @inlinable
    public func sum<T: Scalar>(
        scores: UnsafePointer<T>, labels: UnsafePointer<T>, rows: Int, outputs k: Int,
        gradient: UnsafeMutablePointer<T>?
    ) -> T {
        var total: T = 0
        for r in 0..<rows {
            let s = scores + r * k, y = labels[r]
            let g = gradient.map { $0 + r * k }
            switch self {
            case .squaredError:
                for c in 0..<k {
                    let diff = s[c] - y
                    total += diff * diff / 2
                    g?[c] = diff
                }
            case .perceptron:
                let sign: T = y > 0 ? 1 : -1
                let margin = sign * s[0]
                total += Swift.max(0, -margin)
                g?[0] = margin <= 0 ? -sign : 0
            case .multiclassPerceptron:
                let label = Int(y), predicted = Loss.argmax(s, count: k)
                total += s[predicted] - s[label]
                if let g {
                    g.update(repeating: 0, count: k)
                    if predicted != label { g[predicted] = 1; g[label] = -1 }
                }
            case .hinge:
                let label = Int(y)
                var violations: T = 0
                for c in 0..<k where c != label {
                    let margin = s[c] - s[label] + 1
                    if margin > 0 { total += margin; violations += 1; g?[c] = 1 } else { g?[c] = 0 }
                }
                g?[label] = -violations
            case .softmaxCrossEntropy:
                let label = Int(y)
                let logPartition = Loss.logSumExp(s, count: k)
                total += logPartition - s[label]
                if let g {
                    for c in 0..<k { g[c] = T.exp(s[c] - logPartition) }
                    g[label] -= 1
                }
            case .logistic:
                let z = s[0]
                total += Swift.max(z, 0) - y * z + T.log(1 + T.exp(-Swift.abs(z)))
                g?[0] = Activation.sigmoid(z) - y
            }
        }
        return total
    }

    /// log Σⱼ e^{sⱼ} over `count` ≥ 1 scores, computed as m + log Σⱼ e^{sⱼ − m} with m = max s so
    /// that no exponential overflows; softmax(s)ₖ = e^{sₖ − logSumExp(s)}.
    @inlinable
    public static func logSumExp<T: Scalar>(_ s: UnsafePointer<T>, count k: Int) -> T {
        var maximum = s[0]
        for c in 1..<max(k, 1) { maximum = Swift.max(maximum, s[c]) }
        var partition: T = 0
        for c in 0..<k { partition += T.exp(s[c] - maximum) }
        return maximum + T.log(partition)
    }

    /// The number of rows whose predicted class equals the label (0 for regression).
    /// Prediction: argmax of the scores, or `s > 0` ⇒ class 1 for single-score models.
    @inlinable
    public func correctCount<T: Scalar>(
        scores: UnsafePointer<T>, labels: UnsafePointer<T>, rows: Int, outputs k: Int
    ) -> Int {
        guard isClassification else { return 0 }
        var correct = 0
        for r in 0..<rows where predictedClass(scores + r * k, outputs: k) == Int(labels[r]) {
            correct += 1
        }
        return correct
    }

    /// The class this loss's model predicts from one row of scores.
    @inlinable
    public func predictedClass<T: Scalar>(_ s: UnsafePointer<T>, outputs k: Int) -> Int {
        usesSingleScore ? (s[0] > 0 ? 1 : 0) : Loss.argmax(s, count: k)
    }

    /// The first index of the largest of `count` values.
    @inlinable
    static func argmax<T: Scalar>(_ s: UnsafePointer<T>, count: Int) -> Int {
        var best = 0
        for c in 1..<max(count, 1) where s[c] > s[best] { best = c }
        return best
    }
}
