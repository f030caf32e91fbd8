import Foundation
import PatrolCore
import PatrolCoverage

/// Reads a plan file from disk; `.geojson` files it names are taken from the plan's folder unless
/// absolute, so a plan and its areas move together.
public enum PlanFile {
    public static func load(path: String) throws -> PatrolPlan {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(file: path, problems: [ConfigProblem(line: 1, key: "-", message: "cannot read the file: \(error.localizedDescription)")])
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try PlanReader.read(text, file: path) { referenced in
            let resolved = referenced.hasPrefix("/") ? referenced : folder + "/" + referenced
            do { return try String(contentsOfFile: resolved, encoding: .utf8) } catch {
                throw PlanFileUnreadable(path: resolved, reason: error.localizedDescription)
            }
        }
    }

    struct PlanFileUnreadable: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "\(path): \(reason)" }
    }
}
