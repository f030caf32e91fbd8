import PatrolCore

/// Turns one unit's records during one shift into a `ShiftReport`, one point at a time in time
/// order, so memory depends on the plan (cells, checkpoints) and not on how many points there are.
///
/// Rules (documented for staff in Docs/coverage.md and Config/plan.example.toml):
/// - Which fixes are usable, which are joined, and when the device was silent: `TrackJoiner`.
///   Every cell a joined line passes through is covered; otherwise only the fixes' own cells
///   count, and the map shows the jump. Distance, stationary time and a checkpoint stay are taken
///   along joined stretches only.
/// - No usable fix for over `fixGapSeconds` while the device was heard: "no GPS fix".
public struct ShiftCoverageBuilder {
    private let rules: CoverageRules
    private let grid: CellGrid
    private let interval: Range<UTCTime>
    private let assigned: Set<CellIndex>
    private var lastMarkedCell: CellIndex?
    private var report: ShiftReport
    /// The board's own stay rule over the shift's checkpoints, fed with UTC milliseconds.
    private var geofence: CheckpointGeofence
    private var ledgers: [CheckpointLedger]

    private var joiner: TrackJoiner
    /// The last usable fix, or the shift's start before the first: where a fix gap begins.
    private var lastFixTime: UTCTime { joiner.lastFix?.time ?? interval.lowerBound }
    /// The cell of the last point drawn on the map, and the latest fix not drawn yet (see `draw`).
    private var mapCell: CellIndex?
    private var undrawnFix: Coordinate?

    /// - Parameter lifeSigns: times of the device's heartbeats and events during the shift, any order.
    public init(plan: PatrolPlan, unit: PatrolUnit, shift: ShiftPlan, interval: Range<UTCTime>, lifeSigns: [UTCTime]) {
        rules = plan.rules
        grid = plan.grid
        self.interval = interval
        let cells = plan.cells(ofAreas: shift.areaIDs)
        assigned = cells
        let checkpoints = shift.checkpointIDs.compactMap(plan.checkpoint)
        geofence = CheckpointGeofence(checkpoints: checkpoints.map {
            Checkpoint(id: $0.id, center: $0.position, radiusMeters: $0.radius,
                       minimumDwellMilliseconds: Int64(($0.minimumDwellSeconds * 1000).rounded()))
        })
        ledgers = checkpoints.map { CheckpointLedger($0, shift: interval, zone: plan.timeZone) }
        joiner = TrackJoiner(rules: plan.rules, grid: plan.grid, start: interval.lowerBound, lifeSigns: lifeSigns)
        report = ShiftReport(device: unit.device, unitName: unit.name, shift: shift.span, interval: interval,
                             areaIDs: shift.areaIDs,
                             areaCells: shift.areaIDs.compactMap(plan.area).map { AreaCells(id: $0.id, cells: $0.cells) },
                             assignedCells: cells.sorted(), coveredCells: [], visits: [], gaps: [],
                             distanceMetres: 0, stationarySeconds: 0, topSpeed: 0, fixCount: 0, poorFixCount: 0,
                             trackSegments: [])
    }

    /// Adds the next point; points outside the shift are ignored.
    public mutating func add(_ point: CoveragePoint) {
        guard interval.contains(point.time) else { return }
        joiner.heard(at: point.time)
        guard joiner.isUsable(point) else {
            report.poorFixCount += 1
            return
        }
        report.fixCount += 1
        if lastFixTime.seconds(to: point.time) > rules.fixGapSeconds {
            recordFixGap(lastFixTime..<point.time)
        }
        let step = joiner.step(to: point)
        let cell = grid.cell(containing: step.fix.point)
        joiner.forEachCoveredCell(of: step) { mark($0) }
        // The receiver's speed counts for every usable fix, the first of a run too.
        if let speed = point.speed { report.topSpeed = max(report.topSpeed, speed) }
        if step.joined {
            report.distanceMetres += step.metres
            if point.speed == nil { report.topSpeed = max(report.topSpeed, step.movement) }
            if joiner.isStationary(step) {
                report.stationarySeconds += step.seconds
            }
            draw(point.coordinate, in: cell)
        } else {
            startDrawing(point.coordinate, in: cell)
        }
        // A stay may span fixes further apart than interpolation allows (a stopped car records a
        // point only every few minutes, 300 s for the car preset); only a data gap breaks it.
        var transitions = step.withoutDataGap ? [] : geofence.interrupt(at: (step.previous?.time ?? point.time).millisecondsSinceEpoch)
        transitions += geofence.transitions(position: point.coordinate, at: point.time.millisecondsSinceEpoch)
        for index in ledgers.indices {
            ledgers[index].record(transitions)
            ledgers[index].approach(point.coordinate, at: point.time)
        }
    }

    /// The report, once every point of the shift has been added.
    public consuming func finish(checkIns: [CheckIn]) -> ShiftReport {
        endDrawing()
        joiner.heard(at: interval.upperBound)
        if lastFixTime.seconds(to: interval.upperBound) > rules.fixGapSeconds {
            recordFixGap(lastFixTime..<interval.upperBound)
        }
        report.gaps += joiner.silences.map { DataGap(kind: .deviceSilent, interval: $0) }
        report.gaps.sort { $0.interval.lowerBound < $1.interval.lowerBound }
        report.visits = ledgers.flatMap { $0.visits(checkIns: checkIns) }
        return report
    }

    private mutating func mark(_ cell: CellIndex) {
        guard cell != lastMarkedCell else { return }
        lastMarkedCell = cell
        if assigned.contains(cell) { report.coveredCells.insert(cell) }
    }

    /// Draws a joined fix on the map, thinned without losing anything the report says: of each
    /// run of fixes in one cell only the first and the last are kept. A straight line between two
    /// points of one (convex) cell stays inside it, so the drawn track passes through exactly the
    /// cells the joined lines cover, every run keeps its endpoints (a jump starts at the fix it
    /// starts from), and memory grows with the cells entered, not with the fixes.
    private mutating func draw(_ coordinate: Coordinate, in cell: CellIndex) {
        if cell == mapCell {
            undrawnFix = coordinate
            return
        }
        if let undrawn = undrawnFix { report.trackSegments[report.trackSegments.count - 1].append(undrawn) }
        report.trackSegments[report.trackSegments.count - 1].append(coordinate)
        undrawnFix = nil
        mapCell = cell
    }

    /// Ends the run being drawn at its last fix, and starts a new one (after a jump) at `coordinate`.
    private mutating func startDrawing(_ coordinate: Coordinate, in cell: CellIndex) {
        endDrawing()
        report.trackSegments.append([coordinate])
        mapCell = cell
    }

    private mutating func endDrawing() {
        if let undrawn = undrawnFix { report.trackSegments[report.trackSegments.count - 1].append(undrawn) }
        undrawnFix = nil
    }

    /// A stretch without usable fix: the parts when the device was silent are already silences,
    /// the rest is "no GPS fix".
    private mutating func recordFixGap(_ gap: Range<UTCTime>) {
        var cursor = gap.lowerBound
        for silence in joiner.silences where silence.overlaps(gap) {
            if cursor < silence.lowerBound { report.gaps.append(DataGap(kind: .noFix, interval: cursor..<silence.lowerBound)) }
            cursor = max(cursor, silence.upperBound)
        }
        if cursor < gap.upperBound { report.gaps.append(DataGap(kind: .noFix, interval: cursor..<gap.upperBound)) }
    }
}

/// One checkpoint during one shift: its windows, the stays the geofence saw (entered, reached,
/// left), and how close the track came in each window.
private struct CheckpointLedger {
    let checkpoint: PlannedCheckpoint
    let shift: Range<UTCTime>
    let windows: [Range<UTCTime>]
    private var stays: [VisitEvidence] = []
    private var closest: [ClosestApproach?]

    init(_ checkpoint: PlannedCheckpoint, shift: Range<UTCTime>, zone: TimeZoneRules) {
        self.checkpoint = checkpoint
        self.shift = shift
        windows = Self.windows(of: checkpoint, during: shift, zone: zone)
        closest = Array(repeating: nil, count: windows.count)
    }

    mutating func record(_ transitions: [GeofenceTransition]) {
        for transition in transitions {
            switch transition {
            case .arrived(let id, let enteredAt, let at) where id == checkpoint.id:
                stays.append(VisitEvidence(kind: .dwell, time: UTCTime(millisecondsSinceEpoch: at),
                                           entered: UTCTime(millisecondsSinceEpoch: enteredAt)))
            case .left(let id, let at) where id == checkpoint.id:
                if let last = stays.indices.last, stays[last].left == nil { stays[last].left = UTCTime(millisecondsSinceEpoch: at) }
            default:
                break
            }
        }
    }

    /// Per fix: the distance is only measured for a fix inside one of the checkpoint's windows.
    mutating func approach(_ position: Coordinate, at time: UTCTime) {
        var metres: Double?
        for index in windows.indices where windows[index].contains(time) {
            let distance = metres ?? Geodesy.distance(position, checkpoint.position)
            metres = distance
            if distance < closest[index]?.metres ?? .infinity { closest[index] = ClosestApproach(metres: distance, time: time) }
        }
    }

    /// Every window of the checkpoint in the shift, with its first proof, and for a window that was
    /// late or missed the closest approach in it.
    func visits(checkIns: [CheckIn]) -> [CheckpointVisit] {
        var evidence = stays
        let radius = checkpoint.radius
        for checkIn in checkIns where shift.contains(checkIn.time) {
            let proof: VisitEvidence.Kind?
            switch checkIn.kind {
            case .tag(let id) where id == checkpoint.tagID:
                proof = .tag(id)
            case .button:
                proof = checkIn.position.map { Geodesy.distance($0, checkpoint.position) <= radius } == true ? .button : nil
            case .geofence(let id) where id == checkpoint.id:
                proof = .geofenceCheckIn
            default:
                proof = nil
            }
            if let proof { evidence.append(VisitEvidence(kind: proof, time: checkIn.time, event: checkIn.event, input: checkIn.input)) }
        }
        evidence.sort { $0.time < $1.time }
        return windows.indices.map { index in
            let window = windows[index]
            if let proof = evidence.first(where: { window.contains($0.time) }) {
                return CheckpointVisit(checkpointID: checkpoint.id, window: window, status: .onTime, evidence: proof)
            }
            let late = evidence.first { $0.time >= window.upperBound }
            return CheckpointVisit(checkpointID: checkpoint.id, window: window, status: late == nil ? .missed : .late,
                                   evidence: late, closestApproach: closest[index])
        }
    }

    /// Fixed windows count in the shift they start in; periodic ones run from the shift's start.
    private static func windows(of checkpoint: PlannedCheckpoint, during shift: Range<UTCTime>, zone: TimeZoneRules) -> [Range<UTCTime>] {
        switch checkpoint.schedule {
        case .windows(let spans):
            return spans.flatMap { $0.occurrences(overlapping: shift, in: zone) }.filter { shift.contains($0.lowerBound) }
                .sorted { $0.lowerBound < $1.lowerBound }
        case .every(let minutes):
            let period = Int64(minutes) * 60_000
            return stride(from: shift.lowerBound.millisecondsSinceEpoch, to: shift.upperBound.millisecondsSinceEpoch, by: Int(period)).map {
                UTCTime(millisecondsSinceEpoch: $0)..<min(UTCTime(millisecondsSinceEpoch: $0 + period), shift.upperBound)
            }
        }
    }
}
