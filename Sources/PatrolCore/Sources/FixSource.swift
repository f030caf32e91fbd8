/// What a GPS input reports about itself, for status and logs.
public enum GPSSourceState: Sendable, Equatable {
    /// Trying to reach gpsd or open the serial port.
    case connecting
    /// Connected and reading, with or without a fix.
    case connected
    /// Lost; `reason` is the one log line said about it. The source retries by itself.
    case down(reason: String)

    public var label: String {
        switch self {
        case .connecting: "connecting"
        case .connected: "connected"
        case .down: "down"
        }
    }
}

/// A GPS input: gpsd through libgps, or a serial NMEA receiver.
///
/// `run` keeps going until its task is cancelled, reconnecting by itself with backoff; it never
/// throws for a lost receiver, it reports `.down` and tries again. It calls `deliver` once per
/// epoch (one fix per receiver time, never the same time twice in a row).
public protocol FixSource: Sendable {
    /// A short description for logs and status, e.g. `gpsd localhost:2947` or `serial /dev/ttyUSB0`.
    var name: String { get }
    func run(deliver: @escaping @Sendable (Fix) async -> Void,
             stateChanged: @escaping @Sendable (GPSSourceState) async -> Void) async
}
