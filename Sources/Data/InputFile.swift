import Support

/// The contents of the file at `path`, gunzipped in memory when it is gzip (`.gz` suffix or 1f 8b magic).
/// Throws `.noInput` if the file cannot be read, `.data` if its gzip data are bad.
func readInputFile(at path: String) throws -> [UInt8] {
    let bytes = try FileIO.readAll(path)
    return isGzip(path: path, bytes: bytes) ? try gunzip(bytes, path: path) : bytes
}
