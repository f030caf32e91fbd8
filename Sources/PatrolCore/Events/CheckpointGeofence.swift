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

/// Produces one arrival check-in per visit to each checkpoint from successive fixes.
///
/// A visit begins inside the radius and ends only beyond the radius plus `exitMarginMeters`, so a
/// position jittering across the edge (GPS noise is metres to tens of metres) stays one visit.
/// A fix without a position neither ends nor extends a visit's dwell; the next fix decides.
public struct CheckpointGeofence: Sendable {
    public let checkpoints: [Checkpoint]
    public let exitMarginMeters: Double
    /// When each checkpoint's current visit began, and whether it has been reported.
    private var visits: [String: Visit] = [:]

    private struct Visit {
        var enteredAt: Int64
        var reported = false
    }

    public init(checkpoints: [Checkpoint], exitMarginMeters: Double = 25) {
        self.checkpoints = checkpoints
        self.exitMarginMeters = exitMarginMeters
    }

    /// Feeds a position at monotonic `now`; returns the arrivals it completes.
    public mutating func update(position: Coordinate, at now: Int64) -> [DetectedEvent] {
        var arrivals: [DetectedEvent] = []
        for checkpoint in checkpoints {
            let distance = Geodesy.distance(position, checkpoint.center)
            var visit: Visit
            if let current = visits[checkpoint.id] {
                guard distance <= checkpoint.radiusMeters + exitMarginMeters else {
                    visits[checkpoint.id] = nil
                    continue
                }
                visit = current
            } else {
                guard distance <= checkpoint.radiusMeters else { continue }
                visit = Visit(enteredAt: now)
            }
            if !visit.reported, distance <= checkpoint.radiusMeters,
               now - visit.enteredAt >= checkpoint.minimumDwellMilliseconds {
                visit.reported = true
                arrivals.append(DetectedEvent(.checkIn(.geofence(checkpointID: checkpoint.id)), inputID: nil, at: now))
            }
            visits[checkpoint.id] = visit
        }
        return arrivals
    }

    /// Feeds a fix; one without a position is ignored (see the type's note).
    public mutating func update(fix: Fix, at now: Int64) -> [DetectedEvent] {
        guard let position = fix.coordinate else { return [] }
        return update(position: position, at: now)
    }
}
