import Foundation

extension Trainer {
    /// "epoch 3/10  train_loss 0.4123  test_loss 0.4410  test_accuracy 84.31%  lr 0.1  2.10 s"
    static func progressLine(_ r: EpochRecord, of epochs: Int) -> String {
        var parts = ["epoch \(r.epoch)/\(epochs)", "train_loss \(format(r.trainLoss, 4))"]
        if let a = r.trainAccuracy { parts.append("train_accuracy \(format(100 * a, 2))%") }
        if let l = r.testLoss { parts.append("test_loss \(format(l, 4))") }
        if let a = r.testAccuracy { parts.append("test_accuracy \(format(100 * a, 2))%") }
        parts.append("lr \(r.lr)")
        parts.append("\(format(r.seconds, 2)) s")
        if let p = r.phases {
            let shares = [("gather", p.gather), ("forward", p.forward), ("backward", p.backward),
                          ("allreduce", p.allreduce), ("update", p.update)]
            parts.append("[" + shares.map { "\($0.0) \(format($0.1, 3)) s" }.joined(separator: ", ") + "]")
        }
        return parts.joined(separator: "  ")
    }

    static func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}
