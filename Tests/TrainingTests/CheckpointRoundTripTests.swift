import Checkpoint
import Data
import Foundation
import Models
import Support
import Training
import TestSupport
import XCTest

final class CheckpointRoundTripTests: XCTestCase {
    /// Rank 0 writes a checkpoint per epoch; reading the latest gives back the exact parameters.
    func testEpochCheckpointsHoldTheExactParameters() throws {
        let directory = try scratchDirectory()
        let run = try train {
            $0.data = .blobs(count: 100, classes: 3, dimensions: 4)
            $0.model = try ModelSpec(parsing: "mlp:6:tanh:svm")
            $0.epochs = 2
            $0.batchSize = 32
            $0.momentum = 0.5
            $0.checkpointDirectory = directory
        }
        let latest = try String(contentsOfFile: directory + "/latest", encoding: .utf8)
        XCTAssertEqual(latest, "ckpt-00000008.safetensors\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/ckpt-00000004.safetensors"))
        let loaded = try ModelCheckpoint.load(directory + "/ckpt-00000008.safetensors")
        XCTAssertEqual(loaded.parameters, Array(run.trainer.network.parameters))
        XCTAssertEqual(loaded.model.description, "mlp:6:tanh:hinge")
        XCTAssertEqual(loaded.classes, 3)
        XCTAssertEqual(loaded.metadata["epoch"], "2")
        XCTAssertEqual(loaded.metadata["global_step"], "8")
        XCTAssertEqual(loaded.metadata["momentum"], "0.5")
        let file = try SafeTensors(contentsOf: directory + "/ckpt-00000008.safetensors")
        XCTAssertEqual(file["layers.0.weight"]?.shape, [6, 4])
        XCTAssertEqual(file["optimizer.velocity"]?.elementCount, run.trainer.network.parameterCount)
    }

    /// A flipped bit in the tensor data is caught by the checksum.
    func testCorruptTensorDataIsRejected() throws {
        let directory = try scratchDirectory()
        _ = try train {
            $0.data = .xor(count: 20)
            $0.model = ModelSpec(loss: .logistic)
            $0.epochs = 1
            $0.checkpointDirectory = directory
        }
        let path = directory + "/ckpt-00000001.safetensors"
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ModelCheckpoint.load(path)) { error in
            XCTAssertEqual((error as? TrainerError)?.kind, .data)
            XCTAssertTrue("\(error)".contains("checksum"), "\(error)")
        }
    }
}
