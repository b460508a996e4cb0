/// The element types of the safetensors format that occupy whole bytes.
///
/// The raw values are the spellings used in the file header. The sub-byte types of recent
/// safetensors versions (`F4`, `F6_E2M3`, `F6_E3M2`) are not supported: a file using them is
/// rejected as malformed rather than misread.
public enum TensorDType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case u8 = "U8"
    case i8 = "I8"
    case f8e5m2 = "F8_E5M2"
    case f8e4m3 = "F8_E4M3"
    case f8e8m0 = "F8_E8M0"
    case i16 = "I16"
    case u16 = "U16"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    case f32 = "F32"
    case c64 = "C64"
    case f64 = "F64"
    case i64 = "I64"
    case u64 = "U64"

    /// The size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .c64, .f64, .i64, .u64: return 8
        }
    }

    /// Dtypes the safetensors specification defines but this reader does not handle.
    static let unsupportedSubByte: Set<String> = ["F4", "F6_E2M3", "F6_E3M2"]
}
