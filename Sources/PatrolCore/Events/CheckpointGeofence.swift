/// A place a patrol must visit, proven by being there rather than by a tag.
public struct Checkpoint: Sendable, Equatable {
    public var id: String
    public var center: Coordinate
    /// Inside this distance the patrol has arrived.
    public var radiusMeters: Double
    /// How long the patrol must stay inside before the arrival counts (a car driving past the gate
    /// is no visit); zero counts the first fix inside.
    public var minimumDwellMilliseconds: Int64

    public init(id: String, center: Coordinate, radiusMeters: Double, minimumDwellMilliseconds: Int64 = 0) {
        self.id = id
        self.center = center
        self.radiusMeters = radiusMeters
        self.minimumDwellMilliseconds = minimumDwellMilliseconds
    }
}

/// What happened at a checkpoint at one position: the board raises a check-in on `arrived`; the
/// centre's coverage report also names when the stay began and ended.
public enum GeofenceTransition: Sendable, Equatable {
    /// Inside the radius: a stay begins.
    case entered(checkpointID: String, at: Int64)
    /// The stay lasted the minimum dwell: `at` is when it was reached (entry plus the dwell),
    /// which may be before the position that showed it.
    case arrived(checkpointID: String, enteredAt: Int64, at: Int64)
    /// Beyond the radius plus the exit margin (or the track broke off): the stay is over.
    case left(checkpointID: String, at: Int64)
}

/// Produces one arrival check-in per visit to each checkpoint from successive positions: the one
/// rule for a stay, used live on the board and by the centre's coverage report.
///
/// A visit begins inside the radius and ends only beyond the radius plus `exitMarginMeters`, so a
/// position jittering across the edge (GPS noise is metres to tens of metres) stays one visit.
/// It counts once it has lasted the checkpoint's minimum dwell and a position inside the radius
/// shows it; it is dated when the dwell was reached. A fix without a position neither ends nor
/// extends a visit's dwell; the next fix decides. `interrupt` ends every stay (a data gap: the
/// unit cannot be assumed to have stayed across it).
public struct CheckpointGeofence: Sendable {
    public let checkpoints: [Checkpoint]
    public let exitMarginMeters: Double
    /// When each checkpoint's current visit began, and whether it has been reported.
    private var visits: [String: Visit] = [:]

    private struct Visit {
        var enteredAt: Int64
        var reported = false
    }

    public static let defaultExitMarginMeters = 25.0

    public init(checkpoints: [Checkpoint], exitMarginMeters: Double = defaultExitMarginMeters) {
        self.checkpoints = checkpoints
        self.exitMarginMeters = exitMarginMeters
    }

    /// Feeds a position at `now` (monotonic ms on the board, UTC ms at the centre).
    public mutating func transitions(position: Coordinate, at now: Int64) -> [GeofenceTransition] {
        var transitions: [GeofenceTransition] = []
        for checkpoint in checkpoints {
            let distance = Geodesy.distance(position, checkpoint.center)
            var visit: Visit
            if let current = visits[checkpoint.id] {
                guard distance <= checkpoint.radiusMeters + exitMarginMeters else {
                    visits[checkpoint.id] = nil
                    transitions.append(.left(checkpointID: checkpoint.id, at: now))
                    continue
                }
                visit = current
            } else {
                guard distance <= checkpoint.radiusMeters else { continue }
                visit = Visit(enteredAt: now)
                transitions.append(.entered(checkpointID: checkpoint.id, at: now))
            }
            let reached = visit.enteredAt &+ checkpoint.minimumDwellMilliseconds
            if !visit.reported, distance <= checkpoint.radiusMeters, now >= reached {
                visit.reported = true
                transitions.append(.arrived(checkpointID: checkpoint.id, enteredAt: visit.enteredAt, at: reached))
            }
            visits[checkpoint.id] = visit
        }
        return transitions
    }

    /// Ends every stay at `now`: what came before a data gap does not continue after it.
    public mutating func interrupt(at now: Int64) -> [GeofenceTransition] {
        defer { visits = [:] }
        return checkpoints.compactMap { visits[$0.id] == nil ? nil : .left(checkpointID: $0.id, at: now) }
    }

    /// Feeds a position at monotonic `now`; returns the arrivals it completes, as check-ins.
    public mutating func update(position: Coordinate, at now: Int64) -> [DetectedEvent] {
        transitions(position: position, at: now).compactMap { transition in
            guard case .arrived(let id, _, let at) = transition else { return nil }
            return DetectedEvent(.checkIn(.geofence(checkpointID: id)), inputID: nil, at: at)
        }
    }

    /// Feeds a fix; one without a position is ignored (see the type's note).
    public mutating func update(fix: Fix, at now: Int64) -> [DetectedEvent] {
        guard let position = fix.coordinate else { return [] }
        return update(position: position, at: now)
    }
}
