import FoundationEssentials

/// The status file's encoding: JSON through FoundationEssentials' Codable support (no ICU; the
/// argument parser links it already).
public enum StatusFile {
    public static func encode(_ status: AgentStatus) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(status), as: UTF8.self) + "\n"
    }

    public static func decode(_ text: String) throws -> AgentStatus {
        try JSONDecoder().decode(AgentStatus.self, from: Data(text.utf8))
    }
}
