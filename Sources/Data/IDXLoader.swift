import Support

/// Loads the IDX pair of `split` from `directory`: `train-images-idx3-ubyte` and
/// `train-labels-idx1-ubyte` (`t10k-…` for the test split), each raw or with `.gz` (the raw
/// file wins if both exist). Raw images are mapped, their pixels never copied; gzip images are
/// decoded once per machine into the data cache (`DataCache`), which every rank maps. Throws
/// `.noInput` for a missing directory or file, `.data` for bad contents or when the two files
/// disagree on the number of samples.
func loadIDX(directory: String, split: DataSource.Split) throws -> Dataset {
    switch FileKind(at: directory) {
    case .directory: break
    case .missing: throw TrainerError(.noInput, subject: directory, "no such directory")
    case .regularFile, .pipe, .other: throw TrainerError(.noInput, subject: directory, "is not a directory")
    }
    let prefix = split == .train ? "train" : "t10k"
    let imagesPath = try locateIDXFile("\(prefix)-images-idx3-ubyte", in: directory)
    let labelsPath = try locateIDXFile("\(prefix)-labels-idx1-ubyte", in: directory)

    // Raw images — a regular file, gzip neither by name nor by its first bytes — are mapped.
    if FileKind(at: imagesPath) == .regularFile, let file = try? MappedFile(imagesPath),
       !isGzip(path: imagesPath, bytes: Array(file.bytes.prefix(2))) {
        let images = try mappedIDXImages(file)
        let labels = try decodeIDXLabels(try readInputFile(at: labelsPath), path: labelsPath)
        try checkSameCount(images.count, imagesPath, labels.count, labelsPath)
        return Dataset(name: imagesPath, count: images.count, featureCount: images.featureCount, storage: .mapped(images),
                       labels: labels, labelSource: labelsPath)
    }
    return try DataCache.dataset(of: [imagesPath, labelsPath], variant: "idx") {
        let images = try decodeIDXImages(try readInputFile(at: imagesPath), path: imagesPath)
        let labels = try decodeIDXLabels(try readInputFile(at: labelsPath), path: labelsPath)
        try checkSameCount(images.count, imagesPath, labels.count, labelsPath)
        return Dataset(name: imagesPath, count: images.count, featureCount: images.rows * images.columns,
                       storage: .bytes(images.pixels, scale: 1 / 255), labels: labels, labelSource: labelsPath)
    }
}

/// Throws `.data` unless the images and the labels are as many.
private func checkSameCount(_ images: Int, _ imagesPath: String, _ labels: Int, _ labelsPath: String) throws {
    guard images == labels else {
        throw TrainerError(.data, subject: imagesPath, "has \(images) images but \(labelsPath) has \(labels) labels")
    }
}

/// The path of `name` in `directory`, raw if it exists, else `name.gz`; throws `.noInput` if neither does.
func locateIDXFile(_ name: String, in directory: String) throws -> String {
    let base = directory.hasSuffix("/") ? directory + name : directory + "/" + name
    if FileKind(at: base) != .missing { return base }
    if FileKind(at: base + ".gz") != .missing { return base + ".gz" }
    throw TrainerError(.noInput, subject: directory, "neither \(name) nor \(name).gz is there")
}
