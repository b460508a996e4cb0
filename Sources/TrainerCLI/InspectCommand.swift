import ArgumentParser
import Checkpoint
import Foundation
import Training

/// `trainer inspect CKPT`: what a checkpoint holds.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a checkpoint's configuration, progress and a table of its tensors.")

    @Argument(help: "A checkpoint file, a checkpoint directory (its `latest`), or DIR/best (--keep-best).")
    var checkpoint: String

    @Flag(help: "Print only the checkpoint's run settings, as a TOML file for trainer train --config: the same run again, bit for bit (with as many threads or ranks).")
    var config = false

    func run() throws {
        let path = try CheckpointDirectory.resolve(checkpoint, checkpointDirectory: nil)
        let file = try SafeTensors(contentsOf: path)
        let loaded = try ModelCheckpoint.decode(file, source: path)
        let m = loaded.metadata
        if config {
            let ranks = m["world_size"] ?? "1"
            print(ConfigFile.render(ConfigFile.runSettings { $0.recorded(in: m) }, comment: [
                "the run of \(path), written by \(ranks) rank(s): trainer train --config FILE",
                "replays it bit for bit with --threads \(ranks) (local mode) or mpirun -n \(ranks)",
            ]), terminator: "")
            return
        }
        print("checkpoint \(path)")
        print("format \(m["format"] ?? "?") version \(m["format_version"] ?? "?"), saved by \(m["world_size"] ?? "?") rank(s)")
        if let plan = m["reduction_plan"] { print(plan) }
        print("\nconfiguration")
        for setting in RunSettings.all {
            guard let key = setting.key else { continue }
            print("  \(key.padding(toLength: 14, withPad: " ", startingAt: 0)) \(setting.recorded(in: m) ?? "–")")
        }
        let p = loaded.progress
        print("\nprogress")
        print("  epochs completed \(p.epochsCompleted), steps into the next epoch \(p.stepInEpoch), global step \(p.globalStep), samples seen \(p.samplesSeen)")
        if let standardization = loaded.standardization {
            let constant = standardization.constantFeatures.count
            print("\nstandardize: \(standardization.means.count) features by the training split's mean and standard deviation (\(ModelCheckpoint.meanTensor), \(ModelCheckpoint.deviationTensor))\(constant > 0 ? ", \(constant) constant (centred only)" : "")")
        }
        print("\ntensors (\(file.tensors.count), CRC-32 \(m["tensors_crc32"] ?? "?") verified)")
        print("  name                  dtype  shape          elements        min        max       mean")
        for tensor in file.tensors {
            let values = tensor.floats().map { $0.map(Double.init) } ?? tensor.doubles() ?? []
            let low = values.min() ?? 0, high = values.max() ?? 0
            let mean = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
            let shape = "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]"
            print("  " + [tensor.name.padding(toLength: 21, withPad: " ", startingAt: 0), tensor.dtype.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0),
                          shape.padding(toLength: 14, withPad: " ", startingAt: 0), String(tensor.elementCount).padding(toLength: 9, withPad: " ", startingAt: 0),
                          String(format: "%10.4f %10.4f %10.4f", low, high, mean)].joined(separator: " "))
        }
    }
}
