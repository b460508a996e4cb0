import Batching
import Communication
import Data
import KernelCore
import Models

/// Everything that defines a training run (`RunSettings` says which parts shape it, and how
/// each is checked, recorded and compared). `TrainingConfiguration()` is the default job:
/// Fashion-MNIST, MLP 784-256-128-10 with ReLU, softmax cross-entropy, global batch 128,
/// SGD with learning rate 0.1, 10 epochs.
public struct TrainingConfiguration: Sendable, Equatable {
    public var data: DataSource = .fashionMNIST
    /// nil: the test split of `data` (none for csv:).
    public var testData: DataSource?
    public var model = ModelSpec(hiddenWidths: [256, 128], activation: .relu, loss: .softmaxCrossEntropy)
    public var epochs = 10
    /// The global batch: samples per step summed over all ranks.
    public var batchSize = 128
    /// The most rows a rank computes at once: its slice of a batch is walked in pieces this
    /// large, their gradients summed, one reduction per step (0: the whole slice at once).
    public var microBatch = 0
    public var learningRate = 0.1
    public var schedule = LearningRateSchedule.constant
    public var momentum = 0.0
    /// Nesterov momentum: the step looks ahead along the velocity (needs momentum > 0).
    public var nesterov = false
    public var optimizer = OptimizerKind.sgd
    /// AdamW's decoupled weight decay λ; nil: PyTorch's default, 0.01 (only AdamW has one).
    public var weightDecay: Double?
    /// The learning rate rises linearly over this many first steps.
    public var warmup = 0
    public var regularization = Regularization.none
    public var seed: UInt64 = 0
    /// The number of classes; nil infers it from the training labels (largest + 1).
    public var classes: Int?
    /// Training samples held out for validation (chosen by the seed; 0: none).
    public var validation = 0
    /// The label's column in CSV data (`--data` and `--test-data`).
    public var labelColumn = LabelColumn.first
    /// The epoch's order of the training samples.
    public var shuffle = Shuffle.global
    /// Standardise every feature by the training split's mean and standard deviation.
    public var standardize = false
    /// Point a `best` file in the checkpoint directory at the epoch-end checkpoint of the
    /// lowest validation loss so far (and never prune it).
    public var keepBest = false
    /// How MPI ranks sum the step's buffer: in the tree's order, by the transport the ranks'
    /// placement allows (`ReductionPlan`), by point-to-point messages alone, or by MPI_Allreduce.
    public var mpiReduce = MPIReduction.ordered
    /// What the step's sum sends: exact Float32, bfloat16 or PowerSGD factors (with error feedback).
    public var gradCompression = GradientCompression.none
    /// Ranks sum every this many steps (1: every step, synchronous SGD); between sums each rank
    /// steps on its own slices alone (local SGD), and a sum averages the ranks' parameter changes.
    public var syncEvery = 1
    /// The outer optimizer's rate η and Nesterov momentum μ, applied to the averaged change at
    /// each sum when `syncEvery > 1` (η 1, μ 0: plain parameter averaging; DiLoCo: 0.7, 0.9).
    public var outerLearningRate = 1.0
    public var outerMomentum = 0.0
    /// Rank 0 writes the JSON Lines metrics here.
    public var metricsPath: String?
    /// Rank 0 writes TensorBoard event files here (the metrics' values).
    public var tensorboardDirectory: String?
    /// A step record every this many steps (0: none).
    public var logEvery = 100
    /// Record the time of each phase of the step in the epoch records and progress lines.
    public var profile = false
    /// Rank 0 writes checkpoints here: every `checkpointEvery` steps, at every epoch end, when stopped.
    public var checkpointDirectory: String?
    /// A checkpoint every this many global steps (0: only at epoch ends and when stopped).
    public var checkpointEvery = 0
    /// How many newest checkpoints to keep in the directory (0: all).
    public var keepCheckpoints = 0
    /// Resume from `latest` (the checkpoint directory's), `auto` (latest if any, else start
    /// afresh), a checkpoint file, or a directory.
    public var resume: String?

    public init() {}

    /// λ as AdamW applies it (0 for the other optimizers).
    public var effectiveWeightDecay: Double { optimizer == .adamw ? weightDecay ?? 0.01 : 0 }
    /// How often the ranks sum, for the run's first line: "" for every step; else the rounds and
    /// the outer step, e.g. ", a sum every 128 steps (outer step η 0.7, μ 0.9)".
    public var roundsSummary: String {
        syncEvery > 1 ? ", a sum every \(syncEvery) steps (outer step η \(outerLearningRate), μ \(outerMomentum))" : ""
    }
}
