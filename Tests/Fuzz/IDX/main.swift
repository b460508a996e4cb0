// Fuzz target for the IDX decoders (raw and gzip): IDXFormat.decodeImages / decodeLabels.
// Built with -sanitize=fuzzer -DFUZZING by launch/fuzz; a normal build replays files given
// on the command line: `FuzzIDX Tests/Fuzz/IDX/corpus`.
import Data
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    // The source has no .gz suffix: gzip is recognised by its 1f 8b magic, as for a file.
    if let images = expectingTrainerError("IDXFormat.decodeImages", { try IDXFormat.decodeImages(bytes, source: "fuzz-images") }) {
        guard images.count > 0, images.rows > 0, images.columns > 0, images.count <= Dataset.maximumSampleCount else {
            fuzzFailure("decodeImages accepted \(images)")
        }
    }
    if let labels = expectingTrainerError("IDXFormat.decodeLabels", { try IDXFormat.decodeLabels(bytes, source: "fuzz-labels") }) {
        guard labels > 0 else { fuzzFailure("decodeLabels accepted \(labels) labels") }
    }
    return 0
}

fuzzMain(fuzz)
