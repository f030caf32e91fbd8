import PatrolCore

/// Coverage of one unit in one shift: what staff read in every output format.
public struct ShiftReport: Sendable {
    public var device: String
    public var unitName: String?
    public var shift: DailySpan
    /// The whole shift, as planned (a shift overlapping the asked range is reported whole).
    public var interval: Range<UTCTime>
    public var areaIDs: [String]
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
    /// The track, thinned to a point every quarter cell, split where it was not interpolated.
    public var trackSegments: [[Coordinate]]

    public var uncoveredCells: [CellIndex] { assignedCells.filter { !coveredCells.contains($0) } }

    /// Covered share of the assigned cells, 0–100; 100 when nothing is assigned.
    public var coveredPercent: Double {
        assignedCells.isEmpty ? 100 : Double(coveredCells.count) * 100 / Double(assignedCells.count)
    }

    public func visitCount(_ status: VisitStatus) -> Int { visits.count { $0.status == status } }

    public func gapSeconds(_ kind: DataGap.Kind) -> Double {
        gaps.filter { $0.kind == kind }.reduce(0) { $0 + $1.interval.lowerBound.seconds(to: $1.interval.upperBound) }
    }
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
}

public struct VisitEvidence: Sendable, Equatable {
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        /// The checkpoint's tag was read.
        case tag(String)
        /// A check-in button was pressed within the checkpoint's radius.
        case button
        /// The track stayed within the radius for the minimum dwell.
        case dwell

        public var description: String {
            switch self {
            case .tag(let id): "tag \(id)"
            case .button: "button check-in"
            case .dwell: "geofence dwell"
            }
        }
    }

    public var kind: Kind
    public var time: UTCTime
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
    }

    public var time: UTCTime
    public var kind: Kind
    /// Where the device was; a button check-in without a position proves nothing about a place.
    public var position: Coordinate?

    public init(time: UTCTime, kind: Kind, position: Coordinate?) {
        self.time = time
        self.kind = kind
        self.position = position
    }

    /// The check-in an uplink event records (`check-in.tag` with the tag in its payload,
    /// `check-in.button`), or nil for any other event.
    public init?(_ event: UplinkEvent) {
        let position = event.position.map {
            Coordinate(latitude: Double($0.latitudeE7) / 1e7, longitude: Double($0.longitudeE7) / 1e7)
        }
        switch event.kind {
        case EventKind.checkIn(.button).code:
            self.init(time: event.time, kind: .button, position: position)
        case EventKind.checkIn(.tag(id: "")).code:
            guard let tag = EventPayload.string("tag", in: event.payloadJSON) else { return nil }
            self.init(time: event.time, kind: .tag(tag), position: position)
        default:
            return nil
        }
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
