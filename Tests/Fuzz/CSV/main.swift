// Fuzz target for the CSV parser (raw and gzip): CSVFormat.parse, then what training does
// first with a loaded set (class inference, label validation, the CRC-32 ranks compare).
// Built with -sanitize=fuzzer -DFUZZING by launch/fuzz; a normal build replays files given
// on the command line: `FuzzCSV Tests/Fuzz/CSV/corpus`.
import Data
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    guard let set = expectingTrainerError("CSVFormat.parse", { try CSVFormat.parse(bytes, source: "fuzz.csv") }) else {
        return 0
    }
    guard set.count >= 1, set.featureCount >= 1, set.labels.count == set.count,
          set.storage.elementCount == set.count * set.featureCount else {
        fuzzFailure("CSVFormat.parse returned an inconsistent set: \(set.count) samples, \(set.featureCount) features, "
                    + "\(set.labels.count) labels, \(set.storage.elementCount) values")
    }
    if case .floats(let values) = set.storage, !values.allSatisfy(\.isFinite) {
        fuzzFailure("CSVFormat.parse accepted a non-finite feature")
    }
    if !set.labels.allSatisfy(\.isFinite) { fuzzFailure("CSVFormat.parse accepted a non-finite label") }
    let classes = set.inferredClassCount
    if let classes, classes < 1 { fuzzFailure("inferredClassCount \(classes)") }
    _ = expectingTrainerError("validateClassLabels") { try set.validateClassLabels(classes: classes ?? 2) }
    _ = set.checksum()
    return 0
}

fuzzMain(fuzz)
