/// Per-feature standardisation (`--standardize`), applied to every row a batch gathers:
/// x′ⱼ = (xⱼ − μⱼ) · sⱼ, with μⱼ the mean of feature j over the training split and sⱼ = 1/σⱼ its
/// inverse standard deviation — or 1 for a constant feature (σⱼ = 0), which is then only centred.
/// The statistics are Float64 (as computed and saved); the gather applies their Float roundings,
/// the same on every rank.
public struct Standardization: Sendable, Equatable {
    /// μⱼ and σⱼ as computed (Float64).
    public let means: [Double], deviations: [Double]
    /// Float(μⱼ) and Float(1/σⱼ) (1 where σⱼ = 0): what the gather applies.
    public let mean: [Float], scale: [Float]

    public init(means: [Double], deviations: [Double]) {
        precondition(means.count == deviations.count, "Standardization: \(means.count) means, \(deviations.count) deviations")
        self.means = means
        self.deviations = deviations
        mean = means.map(Float.init)
        scale = deviations.map { $0 > 0 ? Float(1 / $0) : 1 }
    }

    /// The features whose σ is 0 (constant in the training split).
    public var constantFeatures: [Int] { deviations.indices.filter { deviations[$0] == 0 } }
}
