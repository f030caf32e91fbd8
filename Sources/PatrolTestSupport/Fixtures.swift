/// Paths of files checked into the repository for tests (real receiver logs from gpsd's
/// regression suite live in Tests/Fixtures/gpsd-logs with their COPYING.gpsd).
public enum Fixtures {
    /// The repository's root folder, found from this source file's location.
    public static let repositoryRoot: String = {
        var path = #filePath
        for _ in 0..<3 { // Sources/PatrolTestSupport/Fixtures.swift
            if let slash = path.lastIndex(of: "/") { path = String(path[..<slash]) }
        }
        return path
    }()

    /// Absolute path of `Tests/Fixtures/<relative>`.
    public static func path(_ relative: String) -> String {
        repositoryRoot + "/Tests/Fixtures/" + relative
    }
}
