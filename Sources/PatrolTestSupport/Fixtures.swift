import Foundation
import PatrolCore

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

extension Fixtures {
    /// Every fix with a time and a position that the core's NMEA decoder reads from
    /// `Tests/Fixtures/gpsd-logs/<log>.log`.
    public static func positionedFixes(inLog log: String) throws -> [Fix] {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("gpsd-logs/\(log).log"))))
        var decoder = NMEADecoder()
        var fixes: [Fix] = []
        func keep(_ fix: Fix) { if fix.time != nil, fix.coordinate != nil { fixes.append(fix) } }
        decoder.consume(bytes, onFix: keep)
        decoder.finish(onFix: keep)
        return fixes
    }
}
