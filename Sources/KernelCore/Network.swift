import RealModule

/// A model's parameters, gradients and workspaces, in the style of llm.c: one contiguous block
/// owns all parameters, a second block with the same layout all gradients, and every layer is a
/// pair of offsets into them. Workspaces are sized once for `batchCapacity` rows, so a training
/// step allocates nothing.
///
/// A step is `forward` then `backward`, which leaves in `gradients` the SUM over the batch of the
/// per-sample gradients ∇θ ℓ(f(xᵢ; θ), yᵢ) — sums from several ranks can be added by one
/// allreduce — and returns Σᵢ ℓᵢ and the count of correct predictions. `finishGradient` then divides by the global sample count and
/// adds the regulariser's gradient, giving ∇θ J for J(θ) = (1/N) Σᵢ ℓᵢ + R(θ) (seed 003, g(w, b)).
public final class Network<T: Scalar> {
    public let architecture: Architecture
    public let batchCapacity: Int
    /// All parameters, laid out as `architecture.layers` says.
    public let parameters: UnsafeMutableBufferPointer<T>
    /// ∂/∂θ in the same layout, followed by `extraGradientSlots` scalars for the caller (e.g.
    /// step statistics that travel in the same collective as the gradients).
    public let gradientArena: UnsafeMutableBufferPointer<T>
    /// The first `parameterCount` scalars of `gradientArena`.
    public let gradients: UnsafeMutableBufferPointer<T>

    /// `mapped` holds φ(x) when there is a feature map; `outputs[l]` holds layer l's activations;
    /// `deltas` are two ping-pong buffers for dL/dz of the hidden layers; `scoreGradient` ∂ℓ/∂s.
    @usableFromInline let mapped: UnsafeMutablePointer<T>?
    @usableFromInline let outputs: [UnsafeMutablePointer<T>]
    @usableFromInline let deltas: (UnsafeMutablePointer<T>, UnsafeMutablePointer<T>)
    @usableFromInline let scoreGradient: UnsafeMutablePointer<T>

    /// Whether `gradientArena` was allocated here (else its owner gave it and keeps it).
    let ownsGradientArena: Bool
    /// Whether `parameters` were allocated here (else their owner gave them and keeps them).
    let ownsParameters: Bool

    /// A network with zero parameters. `gradientArena`, when given, is memory of at least
    /// `parameterCount + extraGradientSlots` scalars owned by the caller, who keeps it valid for
    /// the network's life (e.g. a communicator's shared-memory reduction buffer); else the
    /// network allocates its own. `parameters`, when given, is such memory of `parameterCount`
    /// scalars, holding the parameters as they are (e.g. one copy shared by the ranks of a
    /// sharded update), not zeroed here.
    public init(_ architecture: Architecture, batchCapacity: Int, extraGradientSlots: Int = 0,
                gradientArena external: UnsafeMutableBufferPointer<T>? = nil,
                parameters externalParameters: UnsafeMutableBufferPointer<T>? = nil) {
        self.architecture = architecture
        self.batchCapacity = max(1, batchCapacity)
        let count = architecture.parameterCount, rows = self.batchCapacity
        if let externalParameters {
            precondition(externalParameters.count == count,
                         "Network: \(externalParameters.count) parameters given, \(count) needed")
            parameters = externalParameters
            ownsParameters = false
        } else {
            parameters = .allocate(capacity: count)
            parameters.initialize(repeating: 0)
            ownsParameters = true
        }
        if let external {
            precondition(external.count >= count + extraGradientSlots,
                         "Network: a gradient arena of \(external.count) scalars is smaller than \(count + extraGradientSlots)")
            gradientArena = UnsafeMutableBufferPointer(rebasing: external[0..<(count + extraGradientSlots)])
            ownsGradientArena = false
        } else {
            gradientArena = .allocate(capacity: count + extraGradientSlots)
            ownsGradientArena = true
        }
        gradientArena.initialize(repeating: 0)
        gradients = UnsafeMutableBufferPointer(rebasing: gradientArena[0..<count])
        func buffer(_ width: Int) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: rows * max(width, 1))
            p.initialize(repeating: 0, count: rows * max(width, 1))
            return p
        }
        mapped = architecture.featureMap.map { buffer($0.outputCount) }
        outputs = architecture.layers.map { buffer($0.outputs) }
        let widest = architecture.layers.dropLast().map(\.outputs).max() ?? 1
        deltas = (buffer(widest), buffer(widest))
        scoreGradient = buffer(architecture.outputCount)
    }

    deinit {
        if ownsParameters { parameters.deallocate() }
        if ownsGradientArena { gradientArena.deallocate() }
        mapped?.deallocate()
        outputs.forEach { $0.deallocate() }
        deltas.0.deallocate()
        deltas.1.deallocate()
        scoreGradient.deallocate()
    }

    public var parameterCount: Int { architecture.parameterCount }

    /// The scores of the last `forward`, `rows × outputCount`.
    public var scores: UnsafePointer<T> { UnsafePointer(outputs[outputs.count - 1]) }

    /// The input the dense layer `index` saw in the last `forward`.
    @inlinable
    func layerInput(_ index: Int, batch: UnsafePointer<T>) -> UnsafePointer<T> {
        if index > 0 { return UnsafePointer(outputs[index - 1]) }
        return mapped.map { UnsafePointer($0) } ?? batch
    }

    /// Forward pass of `rows` ≤ `batchCapacity` samples (`rows × inputCount`, row-major):
    /// for each layer z = x Wᵀ + b by GEMM, then a = g(z) fused with the bias add.
    @inlinable
    public func forward(_ batch: UnsafePointer<T>, rows: Int) {
        precondition(rows <= batchCapacity, "Network.forward: \(rows) rows exceed the capacity \(batchCapacity)")
        guard rows > 0 else { return }
        if let map = architecture.featureMap, let mapped { map.apply(batch, rows: rows, to: mapped) }
        let w = UnsafePointer(parameters.baseAddress!)
        for (index, layer) in architecture.layers.enumerated() {
            let z = outputs[index]
            T.gemm(transA: false, transB: true, m: rows, n: layer.outputs, k: layer.inputs,
                   alpha: 1, a: layerInput(index, batch: batch), lda: layer.inputs,
                   b: w + layer.weightOffset, ldb: layer.inputs,
                   beta: 0, c: z, ldc: layer.outputs)
            layer.activation.forwardAddingBias(z, bias: w + layer.biasOffset, rows: rows, cols: layer.outputs)
        }
    }

    /// Backward pass after `forward` on the same batch: writes Σᵢ ∇θ ℓᵢ into `gradients` (with
    /// `accumulate`, adds it to what they hold: micro-batches of one step) and returns Σᵢ ℓᵢ and
    /// how many of the rows the scores classify right (0 for regression). With `rows == 0` the
    /// gradient's part, the loss and the count are zero.
    ///
    /// Per layer (seed 003, "Backpropagation formula"): ∂/∂W = δᵀ x, ∂/∂b = Σᵢ δᵢ, and the δ of
    /// the layer below is g′(a) ∘ (δ W).
    @inlinable
    @discardableResult
    public func backward(_ batch: UnsafePointer<T>, labels: UnsafePointer<T>, rows: Int,
                         accumulate: Bool = false) -> (lossSum: T, correct: Int) {
        guard rows > 0 else {
            if !accumulate { gradients.update(repeating: 0) }
            return (0, 0)
        }
        let beta: T = accumulate ? 1 : 0
        let layers = architecture.layers, last = layers.count - 1
        let k = architecture.outputCount
        // ℓ and ∂ℓ/∂s from the scores s (rows × k).
        let lossSum = architecture.loss.sum(scores: scores, labels: labels, rows: rows, outputs: k,
                                            gradient: scoreGradient)
        let correct = architecture.loss.correctCount(scores: scores, labels: labels, rows: rows, outputs: k)
        let w = UnsafePointer(parameters.baseAddress!), g = gradients.baseAddress!
        // Output layer: δ = ∂ℓ/∂s, the bias gradient its column sums.
        Activation.identity.backward(scoreGradient, output: scores, rows: rows, cols: k,
                                     biasGradient: g + layers[last].biasOffset, accumulate: accumulate)
        var delta = scoreGradient
        var spare = (deltas.0, deltas.1)
        for index in stride(from: last, through: 0, by: -1) {
            let layer = layers[index]
            // ∂/∂W = δᵀ x: (outputs × rows)(rows × inputs) → outputs × inputs
            T.gemm(transA: true, transB: false, m: layer.outputs, n: layer.inputs, k: rows,
                   alpha: 1, a: delta, lda: layer.outputs,
                   b: layerInput(index, batch: batch), ldb: layer.inputs,
                   beta: beta, c: g + layer.weightOffset, ldc: layer.inputs)
            guard index > 0 else { break }
            let below = layers[index - 1], next = spare.0
            // δ W: (rows × outputs)(outputs × inputs) → rows × inputs, then ∘ g′ of the layer below
            T.gemm(transA: false, transB: false, m: rows, n: layer.inputs, k: layer.outputs,
                   alpha: 1, a: delta, lda: layer.outputs,
                   b: w + layer.weightOffset, ldb: layer.inputs,
                   beta: 0, c: next, ldc: layer.inputs)
            below.activation.backward(next, output: outputs[index - 1], rows: rows, cols: below.outputs,
                                      biasGradient: g + below.biasOffset, accumulate: accumulate)
            delta = next
            spare = (spare.1, spare.0)
        }
        return (lossSum, correct)
    }

    /// Turns the summed gradient into ∇θ J: `gradients ← gradients / sampleCount + ∇R(W)`.
    /// Regularisation is added here, once, after any reduction across ranks. Returns false when
    /// an entry is NaN or ±∞.
    @inlinable
    @discardableResult
    public func finishGradient(sampleCount: T, regularization: Regularization) -> Bool {
        finishGradient(0..<parameterCount, of: gradients.baseAddress!, sampleCount: sampleCount, regularization: regularization)
    }

    /// `finishGradient` of the indices `range` alone, on `gradient`, which holds their gradient
    /// (`gradient[i − range.lowerBound]` for index i; the whole call passes `gradients`): each
    /// entry computed as the whole call computes it (a sharded update finishes each rank's chunk
    /// block by block). False when one of them is NaN or ±∞.
    @inlinable
    public func finishGradient(_ range: Range<Int>, of gradient: UnsafeMutablePointer<T>, sampleCount: T,
                               regularization: Regularization) -> Bool {
        let scale = sampleCount > 0 ? 1 / sampleCount : 0
        let finite = T.scaleCheckingFinite(gradient, count: range.count, by: scale)
        guard regularization.isActive else { return finite }
        let w = UnsafePointer(parameters.baseAddress!)
        for layer in architecture.layers {
            let weights = (layer.weightOffset..<layer.weightOffset + layer.weightCount).clamped(to: range)
            guard !weights.isEmpty else { continue }
            regularization.addGradient(w + weights.lowerBound, count: weights.count,
                                       to: gradient + (weights.lowerBound - range.lowerBound))
        }
        return T.allFinite(UnsafePointer(gradient), count: range.count)
    }

    /// R(W) summed over every layer's weights (never the biases).
    public func penalty(_ regularization: Regularization) -> T {
        guard regularization.isActive else { return 0 }
        let w = UnsafePointer(parameters.baseAddress!)
        return architecture.layers.reduce(0) { $0 + regularization.penalty(w + $1.weightOffset, count: $1.weightCount) }
    }

    /// Loss sum and correct count of `rows` samples, without touching the gradients.
    @inlinable
    public func evaluate(_ batch: UnsafePointer<T>, labels: UnsafePointer<T>, rows: Int) -> (lossSum: T, correct: Int) {
        guard rows > 0 else { return (0, 0) }
        forward(batch, rows: rows)
        let k = architecture.outputCount, loss = architecture.loss
        return (loss.sum(scores: scores, labels: labels, rows: rows, outputs: k, gradient: nil),
                loss.correctCount(scores: scores, labels: labels, rows: rows, outputs: k))
    }

    /// J(θ) = (1/rows) Σᵢ ℓᵢ + R(θ) on one batch: the objective the gradient check differentiates.
    public func objective(_ batch: UnsafePointer<T>, labels: UnsafePointer<T>, rows: Int,
                          regularization: Regularization) -> T {
        evaluate(batch, labels: labels, rows: rows).lossSum / T(max(rows, 1)) + penalty(regularization)
    }
}
