import PatrolCore

/// A protocol the agent can forward to, as `[[uplink]] kind = "…"` names it: it reads and checks
/// its own keys of the table and says how to make the output when the agent starts.
///
/// The keys every kind shares (`name`, `kind`, `primary`, `heartbeat_s`, `retry_max_s`) are read
/// by the agent before the kind sees the table; a kind reads only its own, so that each key is
/// checked in one place and an unknown one is still reported.
public protocol UplinkOutputKind {
    /// The `kind` value that selects it, e.g. `centre-http`, `dc09`.
    static var kind: String { get }

    /// Reads this kind's keys of `table`, reporting each problem on the key it concerns; nil when
    /// the table cannot make an output. `settings` holds the shared keys' values and may be
    /// adjusted (e.g. the batch size a protocol allows).
    static func read(_ table: ConfigReader, settings: inout UplinkSettings) -> (any UplinkOutputPlan)?
}

/// A checked `[[uplink]]` table of one kind: where it sends, and how to make its output.
/// Equatable, so that a configuration reload restarts only the outputs whose keys changed.
public protocol UplinkOutputPlan: Sendable, Equatable {
    /// For logs, status and `config check`, e.g. `https://centre.example:8443`.
    var destination: String { get }

    /// Makes the output, reading the files the table names (keys, certificates); the error says
    /// which file and which key, so a misconfigured board says so at start instead of never
    /// delivering. `config check` calls it too.
    func makeOutput(name: String, deviceID: String) throws(UplinkSetupError) -> any UplinkOutput
}

extension UplinkOutputPlan {
    /// Whether `other` is a plan of the same kind with the same keys.
    public func isSame(as other: any UplinkOutputPlan) -> Bool {
        (other as? Self) == self
    }
}

/// Why an output cannot be made; the text names the uplink, the key and the file.
public struct UplinkSetupError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
