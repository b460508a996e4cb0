import Foundation

/// Writes `bytes` to `directory/name` and returns the path.
@discardableResult
func write(_ bytes: [UInt8], to name: String, in directory: String) throws -> String {
    let path = directory + "/" + name
    try Foundation.Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// Writes `text` (UTF-8) to `directory/name` and returns the path.
@discardableResult
func write(_ text: String, to name: String, in directory: String) throws -> String {
    try write(Array(text.utf8), to: name, in: directory)
}
