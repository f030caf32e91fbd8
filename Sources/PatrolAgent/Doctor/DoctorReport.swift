import FoundationEssentials

/// One line of `patrol-agent doctor`: what was checked, the verdict, what was found and, when
/// something is wrong, what the technician should do about it.
public struct DoctorCheck: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        case ok, warn, fail
        /// Not checked, and why (the agent holds the device, the check needs something missing).
        case skipped
    }

    public var check: String
    public var verdict: Verdict
    public var found: String
    public var remedy: String?

    public init(_ check: String, _ verdict: Verdict, _ found: String, remedy: String? = nil) {
        self.check = check
        self.verdict = verdict
        self.found = found
        self.remedy = remedy
    }
}

/// Everything `doctor` found, printed one check a line or as JSON.
public struct DoctorReport: Sendable {
    public var checks: [DoctorCheck]

    /// Whether any check failed: `doctor` then exits non-zero.
    public var failed: Bool { checks.contains { $0.verdict == .fail } }

    /// "FAIL  device button-box dash-box: /dev/ttyUSB1 does not exist → plug the box in …".
    public var text: String {
        checks.map { check in
            let verdict = check.verdict.rawValue.uppercased().padding(toLength: 5)
            return "\(verdict) \(check.check): \(check.found)" + (check.remedy.map { " → \($0)" } ?? "")
        }.joined(separator: "\n")
    }

    public var json: String {
        struct Document: Encodable {
            var ok: Bool
            var checks: [DoctorCheck]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(Document(ok: !failed, checks: checks))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
