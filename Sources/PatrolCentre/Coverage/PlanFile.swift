import Foundation
import PatrolCore
import PatrolCoverage

/// Reads a plan file from disk; `.geojson` files it names are taken from the plan's folder unless
/// absolute, so a plan and its areas move together; `time_zone` from the system's zone database.
public enum PlanFile {
    /// Where Debian's tzdata keeps the compiled zones.
    public static let zoneDatabase = "/usr/share/zoneinfo"

    public static func load(path: String) throws -> PatrolPlan {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(file: path, problems: [ConfigProblem(line: 1, key: "-", message: "cannot read the file: \(error.localizedDescription)")])
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try PlanReader.read(text, file: path, readFile: { referenced in
            let resolved = referenced.hasPrefix("/") ? referenced : folder + "/" + referenced
            do { return try String(contentsOfFile: resolved, encoding: .utf8) } catch {
                throw PlanFileUnreadable(path: resolved, reason: error.localizedDescription)
            }
        }, readZone: { name in
            let zoneFile = zoneDatabase + "/" + name
            guard FileManager.default.fileExists(atPath: zoneFile) else {
                throw PlanFileUnreadable(path: zoneFile, reason: "no such zone in the zone database")
            }
            do { return [UInt8](try Data(contentsOf: URL(fileURLWithPath: zoneFile))) } catch {
                throw PlanFileUnreadable(path: zoneFile, reason: error.localizedDescription)
            }
        })
    }

    struct PlanFileUnreadable: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "\(path): \(reason)" }
    }
}
