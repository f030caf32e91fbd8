/// Formats a patrol track can be exported in.
public enum TrackExportFormat: String, Sendable, CaseIterable {
    case gpx, geojson, csv
}

/// Writes a track as GPX 1.1, GeoJSON or CSV, one point at a time, so an export of months of
/// track runs in constant memory. `emit` receives text chunks in order.
public struct TrackExporter {
    public let format: TrackExportFormat
    private let emit: (String) -> Void
    private var count = 0

    public init(format: TrackExportFormat, emit: @escaping (String) -> Void) {
        self.format = format
        self.emit = emit
    }

    /// Writes the header; `name` names the track (the device id).
    public mutating func begin(name: String) {
        switch format {
        case .gpx:
            emit("""
            <?xml version="1.0" encoding="UTF-8"?>
            <gpx version="1.1" creator="PatrolLink patrol-agent" xmlns="http://www.topografix.com/GPX/1/1">
            <trk><name>\(Self.xmlEscaped(name))</name><trkseg>

            """)
        case .geojson:
            // One LineString would be smallest, but per-point Features keep time and speed with each
            // position, which is what other tools (QGIS, geojson.io) show.
            emit("{\"type\":\"FeatureCollection\",\"name\":\(JSONObjectWriter.quoted(name)),\"features\":[\n")
        case .csv:
            emit("time,lat,lon,alt_msl_m,speed_mps,track_deg,hdop,satellites,mode,time_source\n")
        }
    }

    public mutating func add(_ point: TrackPoint) {
        let lat = FixedDecimal.format(point.coordinate.latitude, decimals: 7)
        let lon = FixedDecimal.format(point.coordinate.longitude, decimals: 7)
        switch format {
        case .gpx:
            var s = "<trkpt lat=\"\(lat)\" lon=\"\(lon)\">"
            if let alt = point.altitudeMSL { s += "<ele>\(FixedDecimal.format(alt, decimals: 1))</ele>" }
            s += "<time>\(point.time.iso8601)</time>"
            s += "<fix>\(point.mode == .threeD ? "3d" : "2d")</fix>"
            if let sats = point.satellitesUsed { s += "<sat>\(sats)</sat>" }
            if let hdop = point.hdop { s += "<hdop>\(FixedDecimal.format(hdop, decimals: 1))</hdop>" }
            s += "</trkpt>\n"
            emit(s)
        case .geojson:
            var properties = JSONObjectWriter()
            properties.add("time", point.time.iso8601)
            properties.add("time_source", point.timeSource.rawValue)
            properties.add("mode", point.mode.rawValue)
            if let alt = point.altitudeMSL { properties.add("altMSL", alt, decimals: 1) }
            if let speed = point.speed { properties.add("speed", speed, decimals: 2) }
            if let track = point.track { properties.add("track", track, decimals: 1) }
            if let hdop = point.hdop { properties.add("hdop", hdop, decimals: 1) }
            emit((count == 0 ? "" : ",\n")
                 + "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[\(lon),\(lat)]},\"properties\":"
                 + properties.json + "}")
        case .csv:
            func field(_ value: Double?, _ decimals: Int) -> String {
                value.map { FixedDecimal.format($0, decimals: decimals) } ?? ""
            }
            emit([point.time.iso8601, lat, lon, field(point.altitudeMSL, 1), field(point.speed, 2),
                  field(point.track, 1), field(point.hdop, 1), point.satellitesUsed.map(String.init) ?? "",
                  String(point.mode.rawValue), point.timeSource.rawValue].joined(separator: ",") + "\n")
        }
        count += 1
    }

    public mutating func end() {
        switch format {
        case .gpx: emit("</trkseg></trk>\n</gpx>\n")
        case .geojson: emit("\n]}\n")
        case .csv: break
        }
    }

    /// Text made safe inside XML (GPX, SVG) or HTML elements and quoted attributes.
    public static func xmlEscaped(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
