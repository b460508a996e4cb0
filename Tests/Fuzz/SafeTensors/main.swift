// Fuzz target for checkpoints: SafeTensors(decoding:source:), then on what decodes the
// checkpoint layer ModelCheckpoint.decode(_:source:) and the path a resume takes (rank 0
// re-encodes the file, every rank decodes those bytes again).
// Built with -sanitize=fuzzer -DFUZZING by launch/fuzz; a normal build replays files given
// on the command line: `FuzzSafeTensors Tests/Fuzz/SafeTensors/corpus`.
import Checkpoint
import FuzzSupport
import Training

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    guard let file = expectingTrainerError("SafeTensors(decoding:)", { try SafeTensors(decoding: bytes, source: "fuzz.safetensors") }) else {
        return 0
    }
    for tensor in file.tensors {
        guard let count = tensor.shape.reduce(Optional(1), { product, dim in
            product.flatMap { dim >= 0 ? $0.multipliedReportingOverflow(by: dim).overflow ? nil : $0 * dim : nil }
        }), count == tensor.elementCount, tensor.bytes.count == count * tensor.dtype.byteSize else {
            fuzzFailure("decoded tensor '\(tensor.name)' is inconsistent: shape \(tensor.shape), \(tensor.bytes.count) bytes")
        }
    }
    // As ModelCheckpoint.broadcast does: encode what was decoded and decode it again.
    if let problem = file.encodingProblem() {
        fuzzFailure("a decoded file cannot be encoded: \(problem)")
    }
    guard let again = expectingTrainerError("SafeTensors round trip", { try SafeTensors(decoding: file.encoded(), source: "fuzz re-encoded") }) else {
        fuzzFailure("a decoded file does not decode after encoding")
    }
    guard again == file else { fuzzFailure("a decoded file changes through encoding and decoding") }

    guard let loaded = expectingTrainerError("ModelCheckpoint.decode", { try ModelCheckpoint.decode(file, source: "fuzz.safetensors") }) else {
        return 0
    }
    guard loaded.parameters.count == loaded.architecture.parameterCount,
          loaded.optimizerState.values.allSatisfy({ $0.count == loaded.parameters.count }) else {
        fuzzFailure("ModelCheckpoint.decode returned \(loaded.parameters.count) parameters, \(loaded.optimizerState.mapValues(\.count)) optimizer state "
                    + "for \(loaded.architecture.parameterCount)")
    }
    return 0
}

fuzzMain(fuzz)
