/// One dense (affine) layer z = W x + b followed by an activation, as offsets into the model's
/// single parameter buffer. W is stored row-major as `outputs × inputs` (PyTorch's layout),
/// b right after it.
public struct DenseLayout: Sendable, Equatable {
    public let inputs: Int
    public let outputs: Int
    public let activation: Activation
    public let weightOffset: Int
    public var weightCount: Int { inputs * outputs }
    public var biasOffset: Int { weightOffset + weightCount }
    public var end: Int { biasOffset + outputs }
}

/// The shape of a model: an optional fixed feature map, dense layers with activations between
/// them, and the loss on the output scores. Everything a `Network` needs to lay out memory.
public struct Architecture: Sendable, Equatable {
    public let inputCount: Int
    public let featureMap: PolynomialFeatures?
    public let layers: [DenseLayout]
    public let loss: Loss

    /// `hiddenWidths` may be empty (a linear model). The output layer has no activation: the loss
    /// sees raw scores.
    public init(inputCount: Int, featureMap: PolynomialFeatures? = nil, hiddenWidths: [Int],
                activation: Activation, outputCount: Int, loss: Loss) {
        self.inputCount = inputCount
        self.featureMap = featureMap
        self.loss = loss
        var layers: [DenseLayout] = []
        var width = featureMap?.outputCount ?? inputCount, offset = 0
        for (index, next) in (hiddenWidths + [outputCount]).enumerated() {
            let isOutput = index == hiddenWidths.count
            let layer = DenseLayout(inputs: width, outputs: next,
                                    activation: isOutput ? .identity : activation, weightOffset: offset)
            layers.append(layer)
            offset = layer.end
            width = next
        }
        self.layers = layers
    }

    /// The length of the parameter buffer (and of the gradient buffer).
    public var parameterCount: Int { layers.last?.end ?? 0 }
    public var outputCount: Int { layers.last?.outputs ?? 0 }
    /// The width the first dense layer sees: the feature map's output, or the raw inputs.
    public var firstLayerInputs: Int { featureMap?.outputCount ?? inputCount }

    /// Multiply-adds of one sample's forward pass through the dense layers.
    public var multiplyAddsPerSample: Int { layers.reduce(0) { $0 + $1.weightCount } }

    /// Readable names of the parameter tensors with their ranges, e.g. `layers.0.weight`.
    public var tensorNames: [(name: String, shape: [Int], range: Range<Int>)] {
        layers.enumerated().flatMap { index, layer in [
            ("layers.\(index).weight", [layer.outputs, layer.inputs], layer.weightOffset..<layer.biasOffset),
            ("layers.\(index).bias", [layer.outputs], layer.biasOffset..<layer.end),
        ] }
    }
}
