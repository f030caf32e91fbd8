import Foundation
import PatrolTestSupport
import Testing

/// The helper the gpsd tests stand on: a killed gpsfake must not leave its gpsd behind.
@Suite struct ChildProcessTests {
    @Test func capturesOutputAndSignalsTheWholeGroup() throws {
        // The shell starts a grandchild, as gpsfake starts gpsd.
        let child = try ChildProcess("sh", ["-c", "sleep 60 & echo \"grandchild $!\"; echo \"$GREETING\" >&2; wait"],
                                     environment: ["GREETING": "hello from stderr"])
        #expect(child.waitForOutput(containing: "hello from stderr", timeout: 5))
        let grandchild = try #require(child.output.split(separator: "\n").first { $0.hasPrefix("grandchild ") }
            .flatMap { pid_t($0.dropFirst("grandchild ".count)) })

        child.signal(SIGTERM)
        #expect(child.waitForExit(timeout: 5) != nil)
        let grandchildGone = waitUntil(timeout: 5) { kill(grandchild, 0) != 0 ? true : nil }
        #expect(grandchildGone == true)
    }
}
