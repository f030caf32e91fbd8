import PatrolCore

/// The report as JSON for programs, and as GeoJSON for GIS tools (QGIS, geojson.io): assigned cells
/// with their coverage, the track, jumps that were not interpolated, and checkpoints with their status.
enum ReportJSON {
    static func json(_ report: CoverageReport) -> String {
        var root = JSONObjectWriter()
        root.add("plan", report.plan.name)
        let zone = report.plan.timeZone
        root.add("time_zone", zone.name)
        root.add("from", zone.iso8601(report.range.lowerBound))
        root.add("to", zone.iso8601(report.range.upperBound))
        root.add("cell_size_m", report.plan.grid.cellSize, decimals: 1)
        root.addRaw("shifts", array(report.shifts.map { shiftJSON($0, zone) }))
        return root.json + "\n"
    }

    private static func shiftJSON(_ shift: ShiftReport, _ zone: TimeZoneRules) -> String {
        var w = JSONObjectWriter()
        w.add("device", shift.device)
        if let name = shift.unitName { w.add("unit_name", name) }
        w.add("shift", shift.shift.description)
        w.add("start", zone.iso8601(shift.interval.lowerBound))
        w.add("end", zone.iso8601(shift.interval.upperBound))
        w.addRaw("areas", array(shift.areaIDs.map(JSONObjectWriter.quoted)))
        w.add("assigned_cells", shift.assignedCells.count)
        w.add("covered_cells", shift.coveredCells.count)
        w.add("covered_percent", shift.coveredPercent, decimals: 1)
        w.addRaw("uncovered_cells", array(shift.uncoveredCells.map { JSONObjectWriter.quoted($0.description) }))
        w.addRaw("area_coverage", array(shift.areaFigures.map { area in
            var a = JSONObjectWriter()
            a.add("area", area.id)
            a.add("assigned_cells", area.assigned)
            a.add("covered_cells", area.covered)
            a.add("covered_percent", area.coveredPercent, decimals: 1)
            a.addRaw("uncovered_cells", array(area.uncovered.map { JSONObjectWriter.quoted($0.description) }))
            return a.json
        }))
        w.addRaw("checkpoints", array(shift.visits.map { visit in
            var v = JSONObjectWriter()
            v.add("id", visit.checkpointID)
            v.add("window_start", zone.iso8601(visit.window.lowerBound))
            v.add("window_end", zone.iso8601(visit.window.upperBound))
            v.add("status", visit.status.rawValue)
            if let evidence = visit.evidence {
                var e = JSONObjectWriter()
                switch evidence.kind {
                case .tag(let id):
                    e.add("kind", "tag")
                    e.add("tag", id)
                case .button: e.add("kind", "button")
                case .geofenceCheckIn: e.add("kind", "geofence-check-in")
                case .dwell: e.add("kind", "dwell")
                }
                e.add("time", zone.iso8601(evidence.time))
                if let event = evidence.event { e.add("event", Int64(clamping: event)) }
                if let input = evidence.input { e.add("input", input) }
                if let entered = evidence.entered { e.add("entered", zone.iso8601(entered)) }
                if let left = evidence.left { e.add("left", zone.iso8601(left)) }
                v.addRaw("evidence", e.json)
            }
            if let closest = visit.closestApproach {
                v.add("closest_approach_m", closest.metres, decimals: 0)
                v.add("closest_approach_time", zone.iso8601(closest.time))
            }
            return v.json
        }))
        w.addRaw("gaps", array(shift.gaps.map { gap in
            var g = JSONObjectWriter()
            g.add("kind", gap.kind.rawValue)
            g.add("start", zone.iso8601(gap.interval.lowerBound))
            g.add("end", zone.iso8601(gap.interval.upperBound))
            g.add("seconds", gap.interval.lowerBound.seconds(to: gap.interval.upperBound), decimals: 0)
            return g.json
        }))
        w.add("device_silent_s", shift.gapSeconds(.deviceSilent), decimals: 0)
        w.add("no_fix_s", shift.gapSeconds(.noFix), decimals: 0)
        w.add("distance_m", shift.distanceMetres, decimals: 0)
        w.add("stationary_s", shift.stationarySeconds, decimals: 0)
        w.add("top_speed_mps", shift.topSpeed, decimals: 2)
        w.add("fixes", shift.fixCount)
        w.add("poor_fixes", shift.poorFixCount)
        return w.json
    }

    static func geojson(_ report: CoverageReport) -> String {
        let grid = report.plan.grid
        let zone = report.plan.timeZone
        var features: [String] = []
        for shift in report.shifts {
            for cell in shift.assignedCells {
                let ring = cellRing(cell, grid)
                var p = properties("cell", shift, zone)
                p.add("cell", cell.description)
                p.add("covered", shift.coveredCells.contains(cell))
                p.addRaw("areas", array(shift.areas(of: cell).map(JSONObjectWriter.quoted)))
                features.append(feature(#"{"type":"Polygon","coordinates":[\#(positions(ring))]}"#, p))
            }
            for segment in shift.trackSegments where segment.count > 1 {
                features.append(feature(#"{"type":"LineString","coordinates":\#(positions(segment))}"#, properties("track", shift, zone)))
            }
            for (before, after) in zip(shift.trackSegments, shift.trackSegments.dropFirst()) {
                guard let from = before.last, let to = after.first else { continue }
                features.append(feature(#"{"type":"LineString","coordinates":\#(positions([from, to]))}"#, properties("jump", shift, zone)))
            }
            for (id, status) in CheckpointStatus.worst(of: shift.visits) {
                guard let checkpoint = report.plan.checkpoint(id) else { continue }
                var p = properties("checkpoint", shift, zone)
                p.add("checkpoint", id)
                p.add("status", status.rawValue)
                for kind in VisitStatus.allCases {
                    p.add(kind.rawValue.replacing("-", with: "_"), shift.visits.count { $0.checkpointID == id && $0.status == kind })
                }
                features.append(feature(#"{"type":"Point","coordinates":\#(position(checkpoint.position))}"#, p))
            }
        }
        return #"{"type":"FeatureCollection","features":["# + features.joined(separator: ",\n") + "]}\n"
    }

    /// A cell's outline, closed, as WGS-84 coordinates.
    static func cellRing(_ cell: CellIndex, _ grid: CellGrid) -> [Coordinate] {
        let corner = grid.corner(of: cell), size = grid.cellSize
        return [corner, PlanePoint(x: corner.x + size, y: corner.y), PlanePoint(x: corner.x + size, y: corner.y + size),
                PlanePoint(x: corner.x, y: corner.y + size), corner].map(grid.coordinate(of:))
    }

    private static func properties(_ layer: String, _ shift: ShiftReport, _ zone: TimeZoneRules) -> JSONObjectWriter {
        var p = JSONObjectWriter()
        p.add("layer", layer)
        p.add("device", shift.device)
        p.add("shift_start", zone.iso8601(shift.interval.lowerBound))
        return p
    }

    static func feature(_ geometry: String, _ properties: JSONObjectWriter) -> String {
        #"{"type":"Feature","geometry":\#(geometry),"properties":\#(properties.json)}"#
    }

    static func position(_ coordinate: Coordinate) -> String {
        "[\(FixedDecimal.format(coordinate.longitude, decimals: 7)),\(FixedDecimal.format(coordinate.latitude, decimals: 7))]"
    }

    static func positions(_ coordinates: [Coordinate]) -> String { array(coordinates.map(position)) }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
}

/// One status per checkpoint for maps: missed if any window was missed, else late if any was, else on time.
enum CheckpointStatus {
    static func worst(of visits: [CheckpointVisit]) -> [(id: String, status: VisitStatus)] {
        var order: [String] = []
        var worst: [String: VisitStatus] = [:]
        let rank: [VisitStatus: Int] = [.onTime: 0, .late: 1, .missed: 2]
        for visit in visits {
            if worst[visit.checkpointID] == nil { order.append(visit.checkpointID) }
            if rank[visit.status]! >= rank[worst[visit.checkpointID] ?? .onTime]! { worst[visit.checkpointID] = visit.status }
        }
        return order.map { ($0, worst[$0]!) }
    }
}
