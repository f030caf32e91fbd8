import Testing
@testable import PatrolCore

@Suite struct TOMLParserTests {
    @Test func parsesTheSubsetWithLines() throws {
        let table = try TOMLParser.parse("""
        # comment
        title = "car 12" # trailing comment
        [gps]
        port = 2_947
        hdop = 2.5
        on = true
        hosts = ["a", 'b\\c',
                 "c"]
        point = { lat = 52.5, lon = 13.4 }
        [[button]]
        line = "CTS"
        [[button]]
        line = "DSR"
        [track.moving]
        distance = 100
        """)
        #expect(table["title"] == TOMLValue(kind: .string("car 12"), line: 2))
        guard case .table(let gps) = table["gps"]?.kind else { Issue.record("no gps table"); return }
        #expect(gps["port"] == TOMLValue(kind: .integer(2947), line: 4))
        #expect(gps["hdop"]?.kind == .float(2.5))
        #expect(gps["on"]?.kind == .boolean(true))
        guard case .array(let hosts) = gps["hosts"]?.kind else { Issue.record("no hosts"); return }
        #expect(hosts.map(\.kind) == [.string("a"), .string("b\\c"), .string("c")])
        guard case .array(let buttons) = table["button"]?.kind else { Issue.record("no buttons"); return }
        #expect(buttons.count == 2)
        guard case .table(let track) = table["track"]?.kind, case .table(let moving) = track["moving"]?.kind else {
            Issue.record("no track.moving"); return
        }
        #expect(moving["distance"] == TOMLValue(kind: .integer(100), line: 15))
    }

    @Test func syntaxErrorsNameTheLine() {
        #expect(throws: TOMLError(line: 2, message: "'car' is not a valid value; strings need quotes, e.g. \"car\"")) {
            try TOMLParser.parse("[device]\nid = car\n")
        }
        #expect(throws: TOMLError.self) { try TOMLParser.parse("a = 1\na = 2\n") }
        #expect(throws: TOMLError.self) { try TOMLParser.parse("[a]\nx=1\n[a]\n") }
        #expect(throws: TOMLError.self) { try TOMLParser.parse("s = \"open\n") }
    }
}

@Suite struct ConfigReaderTests {
    @Test func reportsUnknownKeysWrongTypesAndRangesTogether() throws {
        let table = try TOMLParser.parse("""
        [filter]
        max_hdpo = 3
        max_speed = "fast"
        [store]
        commit_window = 60
        """)
        let reader = ConfigReader(table)
        let filter = reader.table("filter")
        _ = filter.number("max_hdop", default: 5, in: 0.5...50)
        _ = filter.number("max_speed", default: 70, in: 1...400)
        _ = reader.table("store").number("commit_window", default: 10, in: 0...10)
        do {
            try reader.finish(file: "car.toml")
            Issue.record("expected problems")
        } catch {
            #expect(error.problems.map(\.description) == [
                "line 2: filter.max_hdpo: unknown key; check the spelling against Config/*.toml",
                "line 3: filter.max_speed: expected a number, found a string",
                "line 5: store.commit_window: 60 is out of range; use 0 to 10",
            ])
            #expect(error.description.hasPrefix("car.toml:2: filter.max_hdpo"))
        }
    }
}

@Suite struct TrackExporterTests {
    let points = [
        TrackPoint(time: UTCTime(year: 2026, month: 5, day: 1, hour: 8), coordinate: Coordinate(latitude: 52.5, longitude: -13.25),
                   altitudeMSL: 40.25, speed: 3, track: 90, hdop: 0.9, satellitesUsed: 9),
        TrackPoint(time: UTCTime(year: 2026, month: 5, day: 1, hour: 8, second: 5), coordinate: Coordinate(latitude: 52.5001, longitude: -13.25),
                   mode: .twoD),
    ]

    func export(_ format: TrackExportFormat) -> String {
        var text = ""
        var exporter = TrackExporter(format: format) { text += $0 }
        exporter.begin(name: "car <12>")
        points.forEach { exporter.add($0) }
        exporter.end()
        return text
    }

    @Test func gpx() {
        let gpx = export(.gpx)
        #expect(gpx.contains("<name>car &lt;12&gt;</name>"))
        #expect(gpx.contains("<trkpt lat=\"52.5\" lon=\"-13.25\"><ele>40.3</ele><time>2026-05-01T08:00:00.000Z</time><fix>3d</fix><sat>9</sat><hdop>0.9</hdop></trkpt>"))
        #expect(gpx.hasSuffix("</trkseg></trk>\n</gpx>\n"))
    }

    @Test func geojsonPutsLongitudeFirst() {
        let json = export(.geojson)
        #expect(json.contains("\"coordinates\":[-13.25,52.5]"))
        #expect(json.contains("\"coordinates\":[-13.25,52.5001]"))
        #expect(json.hasSuffix("\n]}\n"))
    }

    @Test func csvLeavesUnknownFieldsEmpty() {
        let lines = export(.csv).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[2] == "2026-05-01T08:00:05.000Z,52.5001,-13.25,,,,,,2,gnss")
    }
}
