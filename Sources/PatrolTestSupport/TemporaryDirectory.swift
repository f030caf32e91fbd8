import Foundation

/// A fresh directory under the system's temporary folder, removed with everything in it on deinit.
public final class TemporaryDirectory {
    public let path: String

    public init() throws {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("patrollink-XXXXXX").path
        var bytes = Array(template.utf8CString)
        guard let created = mkdtemp(&bytes) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: template])
        }
        path = String(cString: created)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
