import PatrolCore

/// The coverage map as a self-contained SVG (no map tiles: the centre may have no internet), and
/// an HTML page around it with the summary. Made to survive a black-and-white printer: uncovered
/// cells are hatched, checkpoint statuses differ in shape as well as colour, and a scale bar and
/// legend are drawn on the page.
struct CoverageMap {
    let report: CoverageReport
    private let grid: CellGrid
    private var zone: TimeZoneRules { report.plan.timeZone }
    private let minimum: PlanePoint
    private let maximum: PlanePoint
    private let scale: Double
    private let width: Double
    private let mapHeight: Double
    private static let margin = 20.0
    private static let legendHeight = 80.0
    private static let maximumSide = 900.0

    init(_ report: CoverageReport) {
        self.report = report
        grid = report.plan.grid
        var points: [PlanePoint] = []
        for shift in report.shifts {
            for cell in shift.assignedCells {
                let corner = grid.corner(of: cell)
                points += [corner, PlanePoint(x: corner.x + grid.cellSize, y: corner.y + grid.cellSize)]
            }
            points += shift.visits.compactMap { report.plan.checkpoint($0.checkpointID)?.planePosition }
        }
        if points.isEmpty { points = report.plan.areas.flatMap { $0.polygons.flatMap { [$0.bounds.min, $0.bounds.max] } } }
        let pad = grid.cellSize
        minimum = PlanePoint(x: (points.map(\.x).min() ?? 0) - pad, y: (points.map(\.y).min() ?? 0) - pad)
        maximum = PlanePoint(x: (points.map(\.x).max() ?? 1) + pad, y: (points.map(\.y).max() ?? 1) + pad)
        let spanX = maximum.x - minimum.x, spanY = maximum.y - minimum.y
        scale = Self.maximumSide / max(spanX, spanY)
        width = spanX * scale + 2 * Self.margin
        mapHeight = spanY * scale + 2 * Self.margin
    }

    private func pixel(_ point: PlanePoint) -> (x: String, y: String) {
        (number(Self.margin + (point.x - minimum.x) * scale), number(Self.margin + (maximum.y - point.y) * scale))
    }

    private func pixel(_ coordinate: Coordinate) -> (x: String, y: String) { pixel(grid.project(coordinate)) }

    private func number(_ value: Double) -> String { FixedDecimal.format(value, decimals: 1) }

    func svg() -> String {
        let height = mapHeight + Self.legendHeight
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(number(width))" height="\(number(height))" viewBox="0 0 \(number(width)) \(number(height))" font-family="sans-serif" font-size="12">
        <title>\(escaped(report.plan.name)) coverage \(zone.iso8601(report.range.lowerBound)) to \(zone.iso8601(report.range.upperBound))</title>
        <defs>
        <pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4c7c3"/><line x1="0" y1="0" x2="0" y2="6" stroke="#b3261e" stroke-width="1.5"/></pattern>
        <clipPath id="map"><rect x="0" y="0" width="\(number(width))" height="\(number(mapHeight))"/></clipPath>
        </defs>
        <rect width="100%" height="100%" fill="white"/>
        <g clip-path="url(#map)">

        """
        out += cells() + areaOutlines() + tracks() + checkpoints()
        out += "</g>\n" + legend() + "</svg>\n"
        return out
    }

    private func cells() -> String {
        var covered: Set<CellIndex> = [], assigned: Set<CellIndex> = []
        for shift in report.shifts {
            assigned.formUnion(shift.assignedCells)
            covered.formUnion(shift.coveredCells)
        }
        let side = number(grid.cellSize * scale)
        var out = "<g stroke=\"#9e9e9e\" stroke-width=\"0.5\">\n"
        for cell in assigned.sorted() {
            let corner = grid.corner(of: cell)
            let topLeft = pixel(PlanePoint(x: corner.x, y: corner.y + grid.cellSize))
            let fill = covered.contains(cell) ? "#a5d6a7" : "url(#hatch)"
            out += "<rect x=\"\(topLeft.x)\" y=\"\(topLeft.y)\" width=\"\(side)\" height=\"\(side)\" fill=\"\(fill)\"><title>\(cell)</title></rect>\n"
        }
        return out + "</g>\n"
    }

    /// Each assigned area's outline, labelled at its top left corner with its id and, per shift,
    /// the cells covered: "harbour-west 12/15" (printed, not only a tooltip).
    private func areaOutlines() -> String {
        let ids = Set(report.shifts.flatMap(\.areaIDs))
        var out = "<g fill=\"none\" stroke=\"black\" stroke-width=\"1.5\">\n"
        var labels = ""
        for area in report.plan.areas where ids.contains(area.id) {
            let rings = area.outlines.flatMap { $0 }
            let path = rings.map { ring in
                "M" + ring.map { let p = pixel($0); return "\(p.x),\(p.y)" }.joined(separator: " L") + " Z"
            }.joined(separator: " ")
            let figures = report.shifts.flatMap(\.areaFigures).filter { $0.id == area.id }
            let label = area.id + " " + figures.map { "\($0.covered)/\($0.assigned)" }.joined(separator: ", ") + " cells"
            out += "<path d=\"\(path)\"><title>area \(escaped(label))</title></path>\n"
            let points = area.polygons.map(\.bounds)
            if let left = points.map(\.min.x).min(), let top = points.map(\.max.y).max() {
                let corner = pixel(PlanePoint(x: left, y: top))
                labels += "<text x=\"\(corner.x)\" y=\"\(corner.y)\" dx=\"3\" dy=\"13\">\(escaped(label))</text>\n"
            }
        }
        return out + "</g>\n<g fill=\"black\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">\n" + labels + "</g>\n"
    }

    private func tracks() -> String {
        var out = "<g fill=\"none\" stroke-linecap=\"round\" stroke-linejoin=\"round\">\n"
        for shift in report.shifts {
            for segment in shift.trackSegments where segment.count > 1 {
                let points = segment.map { let p = pixel($0); return "\(p.x),\(p.y)" }.joined(separator: " ")
                out += "<polyline points=\"\(points)\" stroke=\"#1565c0\" stroke-width=\"2\"><title>\(escaped(shift.device))</title></polyline>\n"
            }
            for (before, after) in zip(shift.trackSegments, shift.trackSegments.dropFirst()) {
                guard let from = before.last, let to = after.first else { continue }
                let a = pixel(from), b = pixel(to)
                out += "<line x1=\"\(a.x)\" y1=\"\(a.y)\" x2=\"\(b.x)\" y2=\"\(b.y)\" stroke=\"#d32f2f\" stroke-width=\"2\" stroke-dasharray=\"6 4\"><title>\(escaped(shift.device)): no data, not interpolated</title></line>\n"
            }
        }
        return out + "</g>\n"
    }

    private func checkpoints() -> String {
        var out = "<g stroke=\"black\" stroke-width=\"1\">\n"
        var drawn: Set<String> = []
        let statuses = report.shifts.flatMap { CheckpointStatus.worst(of: $0.visits) }
        for (id, status) in statuses where drawn.insert(id).inserted {
            guard let checkpoint = report.plan.checkpoint(id) else { continue }
            let p = pixel(checkpoint.planePosition)
            out += "<circle cx=\"\(p.x)\" cy=\"\(p.y)\" r=\"\(number(checkpoint.radius * scale))\" fill=\"none\" stroke-dasharray=\"2 2\"/>\n"
            out += Self.marker(status, x: p.x, y: p.y)
            out += "<text x=\"\(p.x)\" y=\"\(p.y)\" dx=\"10\" dy=\"-8\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">\(escaped(id))</text>\n"
        }
        return out + "</g>\n"
    }

    /// On time: green circle; late: orange triangle; missed: red cross on white.
    private static func marker(_ status: VisitStatus, x: String, y: String) -> String {
        switch status {
        case .onTime:
            "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"6\" fill=\"#2e7d32\"/>\n"
        case .late:
            "<path transform=\"translate(\(x),\(y))\" d=\"M0,-8 L7,5 L-7,5 Z\" fill=\"#ef6c00\"/>\n"
        case .missed:
            "<g transform=\"translate(\(x),\(y))\"><rect x=\"-7\" y=\"-7\" width=\"14\" height=\"14\" fill=\"white\"/><path d=\"M-5,-5 L5,5 M5,-5 L-5,5\" stroke=\"#c62828\" stroke-width=\"3\"/></g>\n"
        }
    }

    private func legend() -> String {
        let top = mapHeight + 8, m = Self.margin
        var out = "<g transform=\"translate(\(number(m)),\(number(top)))\">\n"
        out += "<rect x=\"0\" y=\"0\" width=\"14\" height=\"14\" fill=\"#a5d6a7\" stroke=\"#9e9e9e\"/><text x=\"20\" y=\"12\">cell covered</text>\n"
        out += "<rect x=\"110\" y=\"0\" width=\"14\" height=\"14\" fill=\"url(#hatch)\" stroke=\"#9e9e9e\"/><text x=\"130\" y=\"12\">cell not covered</text>\n"
        out += "<line x1=\"240\" y1=\"7\" x2=\"270\" y2=\"7\" stroke=\"#1565c0\" stroke-width=\"2\"/><text x=\"276\" y=\"12\">track</text>\n"
        out += "<line x1=\"320\" y1=\"7\" x2=\"350\" y2=\"7\" stroke=\"#d32f2f\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/><text x=\"356\" y=\"12\">data gap (not interpolated)</text>\n"
        out += Self.marker(.onTime, x: "7", y: "34") + "<text x=\"20\" y=\"39\">checkpoint on time</text>\n"
        out += Self.marker(.late, x: "157", y: "34") + "<text x=\"170\" y=\"39\">late</text>\n"
        out += Self.marker(.missed, x: "217", y: "34") + "<text x=\"230\" y=\"39\">missed</text>\n"
        let metres = Self.niceLength(near: (width - 2 * m) / 4 / scale)
        let barStart = width - 2 * m - metres * scale
        out += "<g transform=\"translate(\(number(barStart)),30)\"><path d=\"M0,0 V8 H\(number(metres * scale)) V0\" fill=\"none\" stroke=\"black\" stroke-width=\"2\"/>"
        out += "<text x=\"\(number(metres * scale))\" y=\"24\" text-anchor=\"end\">\(metres >= 1000 ? "\(FixedDecimal.format(metres / 1000, decimals: 1)) km" : "\(Int(metres)) m")  (cells \(Int(grid.cellSize)) m)</text></g>\n"
        out += "<text x=\"0\" y=\"62\" fill=\"#555\">\(escaped(report.plan.name)) · \(zone.iso8601(report.range.lowerBound)) → \(zone.iso8601(report.range.upperBound)) · north is up</text>\n"
        return out + "</g>\n"
    }

    /// 1, 2 or 5 × 10ⁿ metres, the largest not above `length`.
    static func niceLength(near length: Double) -> Double {
        var magnitude = 1.0
        while magnitude * 10 <= length { magnitude *= 10 }
        return [5, 2, 1].map { $0 * magnitude }.first { $0 <= length } ?? magnitude
    }

    func html() -> String {
        var rows = ""
        for shift in report.shifts {
            let cells = [
                Formatting.unitLabel(shift), "\(shift.shift)", zone.iso8601(shift.interval.lowerBound),
                "\(shift.coveredCells.count) / \(shift.assignedCells.count) (\(Formatting.percent(shift.coveredPercent)))"
                    + shift.areaFigures.map { "; \($0.id) \($0.covered) / \($0.assigned)" }.joined(),
                "\(shift.visitCount(.onTime)) / \(shift.visitCount(.late)) / \(shift.visitCount(.missed))",
                Formatting.duration(shift.gapSeconds(.deviceSilent)), Formatting.duration(shift.gapSeconds(.noFix)),
                Formatting.kilometres(shift.distanceMetres), Formatting.duration(shift.stationarySeconds),
                Formatting.kilometresPerHour(shift.topSpeed),
            ]
            rows += "<tr>" + cells.map { "<td>\(escaped($0))</td>" }.joined() + "</tr>\n"
        }
        let head = PrintablePage.head(title: "\(report.plan.name) coverage", style: """
            pre { font-size: 0.85em; }
            @media print { body { margin: 0; } svg { max-width: 100%; height: auto; } pre { page-break-before: always; } }
            """)
        return """
        \(head)
        <h1>\(escaped(report.plan.name)): coverage</h1>
        <p>\(zone.iso8601(report.range.lowerBound)) → \(zone.iso8601(report.range.upperBound)) (\(escaped(zone.name))), cells of \(Int(grid.cellSize)) m</p>
        <table><tr><th>unit</th><th>shift</th><th>start</th><th>cells covered</th><th>checkpoints on time / late / missed</th><th>device silent</th><th>no GPS fix</th><th>distance</th><th>stationary</th><th>top speed</th></tr>
        \(rows)</table>
        \(svg())
        <pre>\(escaped(ReportText.table(report)))</pre>
        </body></html>

        """
    }

    private func escaped(_ text: String) -> String { TrackExporter.xmlEscaped(text) }
}
