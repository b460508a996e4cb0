import Support

/// The generator for the samples of `split`: stream `.syntheticTrain` or `.syntheticTest`, index 0.
private func sampleGenerator(seed: UInt64, split: DataSource.Split) -> PortableRandom {
    PortableRandom(seed: seed, stream: split == .train ? .syntheticTrain : .syntheticTest, index: 0)
}

/// The generator for what train and test must share (blob centres, true regression weights):
/// stream `.syntheticTrain`, index 1.
private func sharedGenerator(seed: UInt64) -> PortableRandom {
    PortableRandom(seed: seed, stream: .syntheticTrain, index: 1)
}

/// XOR: `count` points, each one of the corners (±1, ±1) chosen uniformly plus uniform noise in
/// [−0.2, 0.2] per coordinate; the label is 1 if the corner's coordinates differ in sign, else 0.
func makeXor(count: Int, seed: UInt64, split: DataSource.Split, name: String) -> Dataset {
    var random = sampleGenerator(seed: seed, split: split)
    var features: [Float] = [], labels: [Float] = []
    features.reserveCapacity(2 * count)
    labels.reserveCapacity(count)
    for _ in 0..<count {
        let corner = random.next(below: 4)
        let x: Double = corner & 1 == 0 ? -1 : 1, y: Double = corner & 2 == 0 ? -1 : 1
        features.append(Float(x + random.next(in: -0.2, 0.2)))
        features.append(Float(y + random.next(in: -0.2, 0.2)))
        labels.append(x == y ? 0 : 1)
    }
    return Dataset(name: name, count: count, featureCount: 2, storage: .floats(features), labels: labels)
}

/// Blobs: `classes` centres on a circle of radius 5 in the first two dimensions (angle
/// 2πk/K plus one shared random offset), 0 in the others; each sample picks a class uniformly
/// and adds Gaussian noise (σ = 0.5, clipped to [−1.5, 1.5]) to every coordinate of its centre.
func makeBlobs(count: Int, classes: Int, dimensions: Int, seed: UInt64, split: DataSource.Split,
               name: String) -> Dataset {
    let twoPi = 6.283_185_307_179_586_476_925_286_766_559
    var shared = sharedGenerator(seed: seed)
    let offset = shared.next(in: 0, twoPi)
    let centres = (0..<classes).map { k in
        let (cosine, sine) = portableCosineAndSine(twoPi * Double(k) / Double(classes) + offset)
        return (5 * cosine, 5 * sine)
    }
    var random = sampleGenerator(seed: seed, split: split)
    var features: [Float] = [], labels: [Float] = []
    features.reserveCapacity(dimensions * count)
    labels.reserveCapacity(count)
    for _ in 0..<count {
        let label = random.next(below: classes)
        let centre = centres[label]
        for dimension in 0..<dimensions {
            let noise = Swift.min(Swift.max(0.5 * random.nextGaussian(), -1.5), 1.5)
            let base = dimension == 0 ? centre.0 : dimension == 1 ? centre.1 : 0
            features.append(Float(base + noise))
        }
        labels.append(Float(label))
    }
    return Dataset(name: name, count: count, featureCount: dimensions, storage: .floats(features), labels: labels)
}

/// Linear regression: x ~ U(−1, 1)^D, y = w·x + b + 0.1·N(0, 1), with every w_j and b drawn
/// from U(−2, 2) by the shared generator (so train and test share them).
func makeLinear(count: Int, dimensions: Int, seed: UInt64, split: DataSource.Split, name: String) -> Dataset {
    var shared = sharedGenerator(seed: seed)
    let weights = (0..<dimensions).map { _ in shared.next(in: -2, 2) }
    let bias = shared.next(in: -2, 2)
    var random = sampleGenerator(seed: seed, split: split)
    var features: [Float] = [], labels: [Float] = []
    features.reserveCapacity(dimensions * count)
    labels.reserveCapacity(count)
    for _ in 0..<count {
        var target = bias
        for weight in weights {
            let x = random.next(in: -1, 1)
            target += weight * x
            features.append(Float(x))
        }
        labels.append(Float(target + 0.1 * random.nextGaussian()))
    }
    return Dataset(name: name, count: count, featureCount: dimensions, storage: .floats(features), labels: labels)
}
