import Foundation
import XCTest

/// A fresh, empty directory `trainer-NAME-<UUID>` under the system's temporary directory, for
/// one test's files. The caller removes it (or uses `XCTestCase.scratchDirectory`).
public func makeScratchDirectory(_ name: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("trainer-\(name)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

extension XCTestCase {
    /// A fresh, empty directory for this test's files, removed when the test ends.
    public func scratchDirectory() throws -> String {
        let path = try makeScratchDirectory(String(describing: type(of: self)))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }
}
