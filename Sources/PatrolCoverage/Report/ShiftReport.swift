import PatrolCore

/// Coverage of one unit in one shift: what staff read in every output format.
public struct ShiftReport: Sendable {
    public var device: String
    public var unitName: String?
    public var shift: DailySpan
    /// The whole shift, as planned (a shift overlapping the asked range is reported whole).
    public var interval: Range<UTCTime>
    public var areaIDs: [String]
    /// Each assigned area's own cells (sorted), in `areaIDs` order; overlapping areas share cells.
    public var areaCells: [AreaCells]
    /// The assigned cells, sorted; `coveredCells` is a subset of them.
    public var assignedCells: [CellIndex]
    public var coveredCells: Set<CellIndex>
    public var visits: [CheckpointVisit]
    public var gaps: [DataGap]
    public var distanceMetres: Double
    public var stationarySeconds: Double
    /// Metres per second: the receiver's reported speed where it gave one, else distance over time.
    public var topSpeed: Double
    /// Usable fixes, and fixes refused for poor accuracy (they still prove the device alive).
    public var fixCount: Int
    public var poorFixCount: Int
    /// The track, thinned to the first and last fix of each run within a cell, split where fixes
    /// were not joined.
    public var trackSegments: [[Coordinate]]

    public var uncoveredCells: [CellIndex] { assignedCells.filter { !coveredCells.contains($0) } }

    /// Covered, assigned and uncovered cells per assigned area, in `areaIDs` order.
    public var areaFigures: [AreaFigures] {
        areaCells.map { area in
            AreaFigures(id: area.id, assigned: area.cells.count, uncovered: area.cells.filter { !coveredCells.contains($0) })
        }
    }

    /// The ids of the assigned areas `cell` belongs to, for maps.
    public func areas(of cell: CellIndex) -> [String] {
        areaCells.filter { $0.cells.contains(cell) }.map(\.id)
    }

    /// Covered share of the assigned cells, 0–100; 100 when nothing is assigned.
    public var coveredPercent: Double {
        assignedCells.isEmpty ? 100 : Double(coveredCells.count) * 100 / Double(assignedCells.count)
    }

    public func visitCount(_ status: VisitStatus) -> Int { visits.count { $0.status == status } }

    public func gapSeconds(_ kind: DataGap.Kind) -> Double {
        gaps.filter { $0.kind == kind }.reduce(0) { $0 + $1.interval.lowerBound.seconds(to: $1.interval.upperBound) }
    }
}

/// One area's cells, as a shift's report keeps them.
public struct AreaCells: Sendable, Equatable {
    public var id: String
    public var cells: [CellIndex]

    public init(id: String, cells: [CellIndex]) {
        self.id = id
        self.cells = cells
    }
}

/// How much of one area a shift covered.
public struct AreaFigures: Sendable, Equatable {
    public var id: String
    public var assigned: Int
    public var uncovered: [CellIndex]

    public var covered: Int { assigned - uncovered.count }

    /// 0–100; 100 for an area without cells.
    public var coveredPercent: Double { assigned == 0 ? 100 : Double(covered) * 100 / Double(assigned) }
}

public enum VisitStatus: String, Sendable, CaseIterable {
    case onTime = "on-time"
    case late
    case missed
}

/// One required visit of a checkpoint and what proved it.
public struct CheckpointVisit: Sendable {
    public var checkpointID: String
    public var window: Range<UTCTime>
    public var status: VisitStatus
    /// The first proof in the window (on time) or after it within the shift (late); nil when missed.
    public var evidence: VisitEvidence?
    /// For a late or missed window: how close the track came during the window, and when; nil
    /// when there was no usable fix in it.
    public var closestApproach: ClosestApproach?
}

/// The nearest the track came to a checkpoint during a window: why it was late or missed.
public struct ClosestApproach: Sendable, Equatable {
    public var metres: Double
    public var time: UTCTime
}

/// What proved a visit, with what an auditor needs to find it again.
public struct VisitEvidence: Sendable, Equatable {
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        /// The checkpoint's tag was read.
        case tag(String)
        /// A check-in button was pressed within the checkpoint's radius.
        case button
        /// The board's own geofence raised a check-in for this checkpoint.
        case geofenceCheckIn
        /// The track stayed within the radius for the minimum dwell (the board's rule).
        case dwell

        public var description: String {
            switch self {
            case .tag(let id): "tag \(id)"
            case .button: "button check-in"
            case .geofenceCheckIn: "board geofence check-in"
            case .dwell: "geofence dwell"
            }
        }
    }

    public var kind: Kind
    /// When it was proved: the read, the press, the check-in, or the moment the dwell was reached.
    public var time: UTCTime
    /// The check-in event's number on the device.
    public var event: UInt64? = nil
    /// The reader or button that raised the check-in.
    public var input: String? = nil
    /// A dwell's stay: when it began, and when it ended (nil: still there when the data ends).
    public var entered: UTCTime? = nil
    public var left: UTCTime? = nil

    /// In words, local times of `zone`, e.g. "tag 04A1B2C3 read by reader-1 at 09:12:00 (event #41)",
    /// "dwell: entered 09:10:05, reached 09:11:05, left 09:14:00".
    public func proof(in zone: TimeZoneRules) -> String {
        switch kind {
        case .dwell:
            let enteredText = entered.map { "entered \(Formatting.clock($0, zone)), " } ?? ""
            return "dwell: \(enteredText)reached \(Formatting.clock(time, zone)), " + (left.map { "left \(Formatting.clock($0, zone))" } ?? "still there")
        default:
            let by = input.map { " by \($0)" } ?? ""
            let number = event.map { " (event #\($0))" } ?? ""
            let verb = if case .tag = kind { " read" } else { "" }
            return "\(kind)\(verb)\(by) at \(Formatting.clock(time, zone))\(number)"
        }
    }
}

/// A stretch of the shift without usable data.
public struct DataGap: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Nothing came from the device: no point, heartbeat or event (off, out of coverage, broken).
        case deviceSilent = "device-silent"
        /// The device was heard but had no usable fix (garage, tunnel, poor accuracy, receiver fault).
        case noFix = "no-fix"
    }

    public var kind: Kind
    public var interval: Range<UTCTime>
}

/// A check-in event as evidence for checkpoint visits.
public struct CheckIn: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case tag(String)
        case button
        /// The board's geofence saw the unit stay at this checkpoint.
        case geofence(checkpointID: String)
    }

    public var time: UTCTime
    public var kind: Kind
    /// Where the device was; a button check-in without a position proves nothing about a place.
    public var position: Coordinate?
    /// The event's number on the device, and the reader or button that raised it.
    public var event: UInt64?
    public var input: String?

    public init(time: UTCTime, kind: Kind, position: Coordinate?, event: UInt64? = nil, input: String? = nil) {
        self.time = time
        self.kind = kind
        self.position = position
        self.event = event
        self.input = input
    }

    /// The check-in an uplink event records (`check-in.tag` with the tag in its payload,
    /// `check-in.button`, `check-in.geofence` with the checkpoint in its payload), or nil for any
    /// other event.
    public init?(_ event: UplinkEvent) {
        let position = event.position.map {
            Coordinate(latitude: Double($0.latitudeE7) / 1e7, longitude: Double($0.longitudeE7) / 1e7)
        }
        let kind: Kind
        switch event.kind {
        case EventKind.checkIn(.button).code:
            kind = .button
        case EventKind.checkIn(.tag(id: "")).code:
            guard let tag = EventPayload.string("tag", in: event.payloadJSON) else { return nil }
            kind = .tag(tag)
        case EventKind.checkIn(.geofence(checkpointID: "")).code:
            guard let checkpoint = EventPayload.string("checkpoint", in: event.payloadJSON) else { return nil }
            kind = .geofence(checkpointID: checkpoint)
        default:
            return nil
        }
        self.init(time: event.time, kind: kind, position: position, event: event.sequence, input: event.buttonID)
    }
}

/// A point of a unit's track, as coverage needs it.
public struct CoveragePoint: Sendable, Equatable {
    public var time: UTCTime
    public var coordinate: Coordinate
    public var hdop: Double?
    /// Metres per second, when the receiver reported it.
    public var speed: Double?

    public init(time: UTCTime, coordinate: Coordinate, hdop: Double? = nil, speed: Double? = nil) {
        self.time = time
        self.coordinate = coordinate
        self.hdop = hdop
        self.speed = speed
    }

    public init(_ point: TrackRecord) {
        let recorded = point.trackPoint
        self.init(time: recorded.time, coordinate: recorded.coordinate, hdop: recorded.hdop, speed: recorded.speed)
    }
}
