import KernelCore
import Support

/// A model as the user writes it with `--model`:
///
///     SPEC  := [ "poly" D "+" ] MODEL
///     MODEL := linear | perceptron | multiperceptron | svm | softmax | logistic
///            | "mlp:" WIDTH ("-" WIDTH)* [ ":" ACTIVATION ] [ ":" LOSS ]
///
/// - `linear`: linear regression, squared error; `perceptron`: binary perceptron criterion;
///   `multiperceptron`: multiclass perceptron; `svm`: multiclass hinge; `softmax`: softmax
///   regression; `logistic`: binary logistic regression.
/// - `mlp:256-128:relu:softmax`: hidden widths, activation (relu | sigmoid | tanh | identity,
///   default relu), output loss (softmax | svm | mse | logistic | perceptron | multiperceptron,
///   default softmax).
/// - `poly2+logistic`: the degree-2 polynomial feature map before the model (seed 001).
public struct ModelSpec: Sendable, Equatable, CustomStringConvertible {
    public var polynomialDegree: Int?
    public var hiddenWidths: [Int]
    public var activation: Activation
    public var loss: Loss

    public init(polynomialDegree: Int? = nil, hiddenWidths: [Int] = [], activation: Activation = .relu, loss: Loss) {
        self.polynomialDegree = polynomialDegree
        self.hiddenWidths = hiddenWidths
        self.activation = activation
        self.loss = loss
    }

    /// The named linear models and their losses.
    static let linearModels: [(name: String, loss: Loss)] = [
        ("linear", .squaredError), ("perceptron", .perceptron), ("multiperceptron", .multiclassPerceptron),
        ("svm", .hinge), ("softmax", .softmaxCrossEntropy), ("logistic", .logistic),
    ]
    /// Loss names accepted after an MLP's activation.
    static let lossNames: [String: Loss] = [
        "softmax": .softmaxCrossEntropy, "svm": .hinge, "hinge": .hinge, "mse": .squaredError,
        "logistic": .logistic, "perceptron": .perceptron, "multiperceptron": .multiclassPerceptron,
    ]
    static let maxWidth = 1 << 20, maxDepth = 64, maxDegree = 8

    /// Parses `text`; errors are `.usage` and name `flag`.
    public init(parsing text: String, flag: String = "--model") throws {
        func fail(_ problem: String) -> TrainerError {
            TrainerError(.usage, subject: "\(flag) \(text)", problem)
        }
        var body = Substring(text.lowercased())
        var degree: Int?
        if body.hasPrefix("poly"), let plus = body.firstIndex(of: "+") {
            guard let d = Int(body[body.index(body.startIndex, offsetBy: 4)..<plus]), (1...ModelSpec.maxDegree).contains(d) else {
                throw fail("the feature map must be poly1 … poly\(ModelSpec.maxDegree), as in poly2+logistic")
            }
            degree = d
            body = body[body.index(after: plus)...]
        }
        if let named = ModelSpec.linearModels.first(where: { $0.name == body }) {
            self.init(polynomialDegree: degree, loss: named.loss)
            return
        }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.first == "mlp" else {
            let names = ModelSpec.linearModels.map(\.name).joined(separator: ", ")
            throw fail("unknown model; expected \(names), or mlp:WIDTHS[:ACTIVATION[:LOSS]]")
        }
        guard parts.count >= 2, parts.count <= 4 else {
            throw fail("an MLP is written mlp:WIDTHS[:ACTIVATION[:LOSS]], e.g. mlp:256-128:relu")
        }
        var widths: [Int] = []
        for field in parts[1].split(separator: "-", omittingEmptySubsequences: false) {
            guard let w = Int(field), w >= 1, w <= ModelSpec.maxWidth else {
                throw fail("hidden width \"\(field)\" must be a whole number from 1 to \(ModelSpec.maxWidth)")
            }
            widths.append(w)
        }
        guard widths.count <= ModelSpec.maxDepth else { throw fail("at most \(ModelSpec.maxDepth) hidden layers") }
        var activation = Activation.relu
        if parts.count >= 3 {
            guard let a = Activation(rawValue: String(parts[2])) else {
                throw fail("unknown activation \"\(parts[2])\"; expected relu, sigmoid, tanh or identity")
            }
            activation = a
        }
        var loss = Loss.softmaxCrossEntropy
        if parts.count == 4 {
            guard let l = ModelSpec.lossNames[String(parts[3])] else {
                throw fail("unknown loss \"\(parts[3])\"; expected softmax, svm, mse, logistic, perceptron or multiperceptron")
            }
            loss = l
        }
        self.init(polynomialDegree: degree, hiddenWidths: widths, activation: activation, loss: loss)
    }

    /// The canonical text of this spec (parsing it gives the same spec).
    public var description: String {
        let prefix = polynomialDegree.map { "poly\($0)+" } ?? ""
        if hiddenWidths.isEmpty, let named = ModelSpec.linearModels.first(where: { $0.loss == loss }) {
            return prefix + named.name
        }
        let lossName = ModelSpec.lossNames.filter { $0.value == loss }.map(\.key).sorted().first ?? loss.rawValue
        return prefix + "mlp:" + hiddenWidths.map(String.init).joined(separator: "-") + ":\(activation.rawValue):\(lossName)"
    }

    /// The most features a polynomial map may produce.
    public static let maxFeatures = 1_000_000
    /// The most parameters a model may have (4 GiB of Float32).
    public static let maxParameters = 1 << 30

    /// The architecture for data with `inputCount` features and `classes` classes (nil when the
    /// labels are not class indices). Rejects a loss that does not fit the data.
    public func architecture(inputCount: Int, classes: Int?) throws -> Architecture {
        func fail(_ problem: String) -> TrainerError { TrainerError(.usage, subject: "--model \(description)", problem) }
        var featureMap: PolynomialFeatures?
        if let degree = polynomialDegree {
            guard PolynomialFeatures.featureCount(inputs: inputCount, degree: degree, limit: ModelSpec.maxFeatures) != nil else {
                throw fail("poly\(degree) of \(inputCount) inputs has more than \(ModelSpec.maxFeatures) features")
            }
            featureMap = PolynomialFeatures(inputCount: inputCount, degree: degree)
        }
        if loss.isClassification {
            guard let classes else {
                throw fail("\(loss.rawValue) needs class labels 0, 1, …, but the labels are not whole numbers ≥ 0")
            }
            if loss.usesSingleScore, classes > 2 {
                throw fail("\(loss.rawValue) is a binary classifier but the data has \(classes) classes; use softmax, svm or multiperceptron")
            }
            if !loss.usesSingleScore, classes < 2 {
                throw fail("\(loss.rawValue) needs at least 2 classes, the data has \(classes)")
            }
        }
        let outputs = loss.outputCount(classes: classes)
        let architecture = Architecture(inputCount: inputCount, featureMap: featureMap, hiddenWidths: hiddenWidths,
                                        activation: activation, outputCount: outputs, loss: loss)
        var total = 0
        for layer in architecture.layers {
            let (w, o1) = layer.inputs.multipliedReportingOverflow(by: layer.outputs)
            let (t, o2) = total.addingReportingOverflow(w + layer.outputs)
            guard !o1, !o2, t <= ModelSpec.maxParameters else {
                throw fail("more than \(ModelSpec.maxParameters) parameters")
            }
            total = t
        }
        return architecture
    }
}
