import Foundation
import PatrolTestSupport
import Testing

/// `scripts/package.sh --arch`: packages for another architecture need a Swift SDK for it to build
/// with, and that architecture's libraries installed here for the package's Depends; without them
/// the script stops saying what to do. (No aarch64 Swift SDK can be installed on this machine, so
/// the cross build itself is not run here: README "Building for arm64 boards".)
struct CrossArchitectureTests {
    func packageScript(_ arguments: [String]) throws -> (status: Int32?, output: String) {
        let process = try ChildProcess(Fixtures.repositoryRoot + "/scripts/package.sh", arguments)
        let status = process.waitForExitCode(timeout: 120)
        if status == nil { process.signal(SIGKILL) }
        return (status, process.output)
    }

    @Test func buildingForAnotherArchitectureNeedsASwiftSDK() throws {
        let result = try packageScript(["--arch", "arm64"])
        #expect(result.status == 2 && result.output.contains("building for arm64 on amd64 needs --swift-sdk NAME"), "\(result)")
    }

    @Test func anUnknownArchitectureIsRefused() throws {
        let result = try packageScript(["--arch", "arm65", "--swift-sdk", "none"])
        #expect(result.status == 2 && result.output.contains("'arm65' is not a Debian architecture"), "\(result)")
    }

    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/usr/lib/aarch64-linux-gnu/libsqlite3.so.0"),
                   "arm64 libraries are installed here"))
    func binariesWhoseLibrariesAreNotInstalledForTheirArchitectureAreRefusedNamingThePackages() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let binaries = URL(fileURLWithPath: BuiltExecutable.agent.path).deletingLastPathComponent().path
        let result = try packageScript(["--binaries", binaries, "--arch", "arm64", "--out", folder.path, "--no-lintian"])
        #expect(result.status == 1 && result.output.contains("for arm64, which is not installed here")
                && result.output.contains("dpkg --add-architecture arm64"), "\(result)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }
}
