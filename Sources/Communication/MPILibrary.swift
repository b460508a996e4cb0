import CMPI

/// Facts about the MPI library this program is linked against, available without initialising MPI.
public enum MPILibrary {
    /// The library's own version line, e.g. "Open MPI v4.1.4, package: Debian OpenMPI, …".
    public static var version: String {
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_LIBRARY_VERSION_STRING) + 1)
        var length: Int32 = 0
        guard MPI_Get_library_version(&buffer, &length) == shim_success() else { return "unknown MPI" }
        let line = String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return line.split(whereSeparator: \.isNewline).first.map(String.init) ?? line
    }
}
