#if canImport(Glibc)
import Glibc
#endif

func errorText() -> String {
    String(cString: strerror(errno))
}

func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

/// Collects output and writes it in 256 KiB blocks, so a million fixes cost a few hundred
/// system calls instead of a million.
struct OutputBuffer {
    let descriptor: Int32
    private var bytes: [UInt8] = []
    private var failed = false
    private static let blockSize = 256 * 1024

    init(descriptor: Int32) {
        self.descriptor = descriptor
        bytes.reserveCapacity(OutputBuffer.blockSize + 4096)
    }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
        if bytes.count >= OutputBuffer.blockSize { _ = flush() }
    }

    /// Writes everything buffered; false when any write failed.
    mutating func flush() -> Bool {
        var offset = 0
        while offset < bytes.count, !failed {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failed = true
            } else {
                offset += written
            }
        }
        bytes.removeAll(keepingCapacity: true)
        return !failed
    }
}
