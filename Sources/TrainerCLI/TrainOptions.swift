import ArgumentParser
import Batching
import Communication
import Data
import KernelCore
import Models
import Support
import Training

/// The flags that define a training run (shared by `train` and the tools that rebuild a run).
/// Numeric options parse the next word unconditionally, so `--lr -0.1` reaches the range check
/// and its message instead of being taken for a flag.
struct TrainOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Training data: fashion-mnist | idx:DIR | csv:FILE | npy:FEATURES.npy,LABELS.npy | npz:FILE.npz | xor[:N] | blobs[:N[:K[:D]]] | linear[:N[:D]].",
                               discussion: "idx:DIR holds train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz] and t10k-… (pixels scaled by 1/255). csv:FILE has the label in the first column; the first line is a header if any field is not a number. npy: and npz: are NumPy arrays (np.save; np.savez with x and y), mapped and never copied: features N × D (or N × d₁ × d₂ …) of float32, float64, int8…int64, or uint8 (scaled by 1/255, as IDX pixels are), labels N."))
    var data = "fashion-mnist"

    @Option(help: "Test data, same forms as --data. (default: the test split of --data; none for csv:, npy: and npz:)")
    var testData: String?

    @Option(help: "CSV data: the label's column, by its name in the header line or its number counting from 0 (the others are the features). (default: 0, the first)")
    var labelColumn = "0"

    @Option(help: ArgumentHelp("The epoch's order of the training samples: global (a uniform permutation) | blocks:R (blocks of R consecutive rows in a random order, the rows of each window of 8 blocks shuffled among themselves: reads in runs, for data larger than memory).",
                               discussion: "Both orders depend on --seed and the epoch alone: N ranks anywhere compute what N threads do."))
    var shuffle = "global"

    @Flag(help: "Standardise every feature by the mean and standard deviation of the training split (Float64, over all ranks), applied as rows are gathered; kept in the checkpoint, and applied by evaluate and predict. A constant feature is only centred.")
    var standardize = false

    @OptionGroup var modelOptions: ModelOptions<TrainOptions>

    @Option(parsing: .unconditional, help: "Epochs to train.")
    var epochs = 10

    @Option(parsing: .unconditional, help: "Global batch size: samples per step over all ranks (the last batch of an epoch may be smaller).")
    var batchSize = 128

    @Option(parsing: .unconditional, help: "Each rank walks its slice of a global batch in pieces of at most this many rows, summing their gradients before the step's one reduction: the same step (up to rounding: the GEMMs see other shapes), with memory for that many rows. (default: 0, the whole slice at once)")
    var microBatch = 0

    @Option(parsing: .unconditional, help: "Learning rate η₀.")
    var lr = 0.1

    @Option(help: "Learning-rate schedule: constant | step:EPOCHS:FACTOR | invtime:K (η₀ / (1 + K·step)) | cosine[:FLOOR] (from η₀ after the warmup to FLOOR, default 0, at the last step of --epochs).")
    var lrSchedule = "constant"

    @Option(help: "Linear warmup over this many first steps W: the learning rate is (t + 1)/W × the schedule's for t < W.")
    var warmup = 0

    @Option(help: ArgumentHelp("The optimizer, in PyTorch's forms: sgd (with --momentum, --nesterov) | adam | adamw (β₁ 0.9, β₂ 0.999, ε 1e-8).",
                               discussion: "Try adamw with --lr 0.001."))
    var optimizer = OptimizerKind.sgd

    @Option(parsing: .unconditional, help: ArgumentHelp("AdamW's decoupled weight decay λ: θ ← θ·(1 − η·λ) before each Adam step, on every parameter. (default: 0.01, PyTorch's)",
                                                          discussion: "Not part of the objective, unlike --l2 (λ₂/2·‖W‖² added to the loss, so its gradient λ₂·W passes through Adam's per-parameter scaling and shrinks weights unevenly); needs --optimizer adamw."))
    var weightDecay: Double?

    @Option(parsing: .unconditional, help: "SGD momentum μ in [0, 1).")
    var momentum = 0.0

    @Flag(help: "Nesterov momentum (PyTorch's SGD nesterov=True): θ ← θ − η·(g + μ·v). Needs --momentum > 0.")
    var nesterov = false

    @Option(help: ArgumentHelp("What the step's sum sends: none (exact Float32) | bf16 (bfloat16 both ways, half the bytes) | powersgd:R (PowerSGD: each large weight gradient as rank-R factors).",
                               discussion: "bf16 and powersgd keep what their compression left out and add it to the next step (error feedback); their state is in the checkpoint, so resume with as many ranks. Not exact: N ranks still compute what N threads do, but not what one does."))
    var gradCompression = "none"

    @Option(parsing: .unconditional, help: ArgumentHelp("Sum over the ranks every H steps (local SGD): between sums each rank takes steps on its own slices of the global batches with --optimizer; a sum averages the ranks' parameter changes and the outer optimizer applies them. H = 1 is synchronous SGD.",
                                                          discussion: "For slow links. The last round of an epoch may be shorter; the ranks agree at every sum, so loss lines, stops and checkpoints come at sums. DiLoCo: --outer-lr 0.7 --outer-momentum 0.9."))
    var syncEvery = 1

    @Option(parsing: .unconditional, help: "With --sync-every H > 1: the outer step's rate η: θ ← θ_round_start − η·(Δ̄ + μ·v), Δ̄ the ranks' mean change; η = 1 with --outer-momentum 0 takes the ranks' mean (local SGD).")
    var outerLr = 1.0

    @Option(parsing: .unconditional, help: "With --sync-every H > 1: the outer step's Nesterov momentum μ in [0, 1): v ← μ·v + Δ̄.")
    var outerMomentum = 0.0

    @Option(parsing: .unconditional, help: "Hold out this many training samples, chosen by --seed, as a validation set: never trained on, its loss and accuracy reported after every epoch (select on validation, report test).")
    var validation = 0

    @Option(parsing: .unconditional, help: "Number of classes. (default: largest training label + 1)")
    var classes: Int?

    /// Every value in its range (`RunSettings`), before anything runs.
    func validate() throws {
        do { _ = try configuration() } catch let error as TrainerError { throw ValidationError(error.message) }
    }

    /// The run these flags describe; errors name the flag.
    func configuration() throws -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.data = try DataSource(parsing: data, flag: "--data")
        c.testData = try testData.map { try DataSource(parsing: $0, flag: "--test-data") }
        c.model = try modelOptions.spec()
        c.epochs = epochs
        c.batchSize = batchSize
        c.microBatch = microBatch
        c.learningRate = lr
        c.schedule = try LearningRateSchedule(parsing: lrSchedule)
        c.momentum = momentum
        c.nesterov = nesterov
        if nesterov, momentum == 0 { throw TrainerError(.usage, subject: "--nesterov", "needs --momentum > 0") }
        c.optimizer = optimizer
        c.weightDecay = weightDecay
        c.warmup = warmup
        if optimizer != .sgd, momentum != 0 {
            throw TrainerError(.usage, subject: "--momentum \(momentum)", "is SGD's; --optimizer \(optimizer) keeps its own moments (β₁ 0.9)")
        }
        if let weightDecay, optimizer != .adamw {
            throw TrainerError(.usage, subject: "--weight-decay \(weightDecay)",
                               "needs --optimizer adamw (with \(optimizer), use --l2, which is part of the objective)")
        }
        c.regularization = modelOptions.regularization
        c.seed = modelOptions.seed
        c.gradCompression = try GradientCompression(parsing: gradCompression)
        c.syncEvery = syncEvery
        c.outerLearningRate = outerLr
        c.outerMomentum = outerMomentum
        if syncEvery == 1, outerLr != 1 || outerMomentum != 0 {
            throw TrainerError(.usage, subject: outerLr != 1 ? "--outer-lr \(outerLr)" : "--outer-momentum \(outerMomentum)",
                               "is the outer step of local SGD; it needs --sync-every H > 1")
        }
        c.classes = classes
        c.validation = validation
        c.labelColumn = try LabelColumn(parsing: labelColumn)
        c.shuffle = try Shuffle(parsing: shuffle)
        c.standardize = standardize
        try RunSettings.validate(c)
        return c
    }
}

extension TrainOptions: ModelDefaults {
    static let model = "mlp:256-128:relu"
    static let seed: UInt64 = 0
    static let seedDraws = "parameter initialisation, epoch order and synthetic data"
}
