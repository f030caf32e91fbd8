import PatrolCore
import PatrolCoverage

/// The `[console]` table: how the web console shows things. Every key is optional.
public struct ConsoleSettings: Sendable, Equatable {
    /// Where a tile source's coordinates are: GPS gives WGS-84; basemaps in China use GCJ-02 (AMap,
    /// Tencent) or BD-09 (Baidu), and the console shifts what it draws to match.
    public enum Datum: String, Sendable, CaseIterable {
        case wgs84, gcj02, bd09
    }

    /// An IANA zone name; the console shows times in it (they are stored in UTC).
    public var timeZone = "UTC"
    /// Idle time after which a sign-in ends.
    public var sessionMinutes = 480
    /// A tile URL template (`{z}`, `{x}`, `{y}`); nil: a plain background.
    public var tileURL: String?
    public var tileDatum = Datum.wgs84
    public var tileAttribution: String?
    /// Plan files the coverage page offers, resolved against the configuration's folder.
    public var planPaths: [String] = []

    public init() {}

    /// The host of `tileURL` (`https://tiles.example`), which the console's CSP lets images come from.
    public var tileOrigin: String? {
        guard let tileURL, let scheme = tileURL.range(of: "://") else { return nil }
        let rest = tileURL[scheme.upperBound...]
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return host.isEmpty ? nil : String(tileURL[..<scheme.upperBound]) + host
    }

    static func read(_ table: ConfigReader, resolved: (String) -> String) -> ConsoleSettings {
        var settings = ConsoleSettings()
        if let zone = table.string("time_zone") {
            if PlanReader.isZoneName(zone) {
                settings.timeZone = zone
            } else {
                table.problem("time_zone", "'\(zone)' is not a time zone name; write an IANA name such as \"Asia/Shanghai\"")
            }
        }
        settings.sessionMinutes = table.integer("session_minutes", default: settings.sessionMinutes, in: 5...1440)
        if let url = table.string("tile_url") {
            settings.tileURL = url
            let placeholders = ["{z}", "{x}", "{y}"].allSatisfy(url.contains)
            if !(url.hasPrefix("https://") || url.hasPrefix("http://")) || !placeholders || settings.tileOrigin == nil {
                table.problem("tile_url", "write an http(s) URL template with {z}, {x} and {y}, e.g. \"https://tiles.example/{z}/{x}/{y}.png\"")
            }
        }
        if let datum = table.string("tile_datum") {
            if let known = Datum(rawValue: datum) { settings.tileDatum = known } else {
                table.problem("tile_datum", "'\(datum)' is not a datum; write wgs84, gcj02 or bd09")
            }
        }
        settings.tileAttribution = table.string("tile_attribution")
        settings.planPaths = (table.strings("plans") ?? []).map(resolved)
        return settings
    }
}
