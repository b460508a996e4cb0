// Fuzz target for the flag languages: ModelSpec(parsing:) and, when it parses,
// spec.architecture(inputCount:classes:); DataSource(parsing:flag:); LearningRateSchedule
// (parsing:) and, when it parses, its rate. Input: 6 bytes of numbers, then the text.
//   bytes 0-1  inputCount = 1 + (big-endian UInt16 % 4096)
//   byte  2    classes    = nil if 0, else the byte (1…255)
//   bytes 3-5  the schedule's global step (big-endian, < 2^24); stepsPerEpoch = 1 + byte 5
// Built with -sanitize=fuzzer -DFUZZING by launch/fuzz; a normal build replays files given
// on the command line: `FuzzModelSpec Tests/Fuzz/ModelSpec/corpus`.
import Data
import FuzzSupport
import Models
import Training

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    guard bytes.count >= 6 else { return 0 }
    let inputCount = 1 + (Int(bytes[0]) << 8 | Int(bytes[1])) % 4096
    let classes: Int? = bytes[2] == 0 ? nil : Int(bytes[2])
    let globalStep = Int(bytes[3]) << 16 | Int(bytes[4]) << 8 | Int(bytes[5])
    let stepsPerEpoch = 1 + Int(bytes[5])
    let text = String(decoding: bytes[6...], as: UTF8.self)

    if let spec = expectingTrainerError("ModelSpec(parsing:)", { try ModelSpec(parsing: text, flag: "--model") }) {
        // `description` is documented to parse back to the same spec (checkpoints rely on it).
        guard let again = expectingTrainerError("ModelSpec(parsing: description)", { try ModelSpec(parsing: spec.description) }),
              again == spec else {
            fuzzFailure("spec \"\(spec.description)\" (from \"\(text)\") does not parse back to itself")
        }
        if let architecture = expectingTrainerError("architecture", { try spec.architecture(inputCount: inputCount, classes: classes) }) {
            guard architecture.inputCount == inputCount, architecture.parameterCount >= 1,
                  architecture.parameterCount <= ModelSpec.maxParameters,
                  architecture.tensorNames.last?.range.upperBound == architecture.parameterCount else {
                fuzzFailure("architecture of \(spec) for \(inputCount) inputs: \(architecture.parameterCount) parameters")
            }
        }
    }
    if let source = expectingTrainerError("DataSource(parsing:)", { try DataSource(parsing: text, flag: "--data") }) {
        guard let again = expectingTrainerError("DataSource(parsing: description)", { try DataSource(parsing: source.description, flag: "--data") }),
              again == source else {
            fuzzFailure("data source \"\(source.description)\" (from \"\(text)\") does not parse back to itself")
        }
    }
    if let schedule = expectingTrainerError("LearningRateSchedule(parsing:)", { try LearningRateSchedule(parsing: text) }) {
        guard let again = expectingTrainerError("LearningRateSchedule(parsing: description)", { try LearningRateSchedule(parsing: schedule.description) }),
              again == schedule else {
            fuzzFailure("schedule \"\(schedule.description)\" (from \"\(text)\") does not parse back to itself")
        }
        let rate = schedule.rate(base: 0.1, globalStep: globalStep, stepsPerEpoch: stepsPerEpoch)
        guard rate.isFinite, rate >= 0, rate <= 0.1 else {
            fuzzFailure("schedule \(schedule) gives rate \(rate) at step \(globalStep) of base 0.1")
        }
    }
    return 0
}

fuzzMain(fuzz)
