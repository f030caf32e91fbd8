import Testing
import PatrolCore

@Suite struct GeofenceTests {
    static let gate = Checkpoint(id: "north-gate", center: Coordinate(latitude: 52.5, longitude: 13.4), radiusMeters: 30)

    /// A point `meters` north of the gate (one degree of latitude is about 111.2 km).
    static func north(_ meters: Double) -> Coordinate {
        Coordinate(latitude: 52.5 + meters / 111_195, longitude: 13.4)
    }

    static func arrivals(_ fence: inout CheckpointGeofence, _ distances: [Double], every interval: Int64 = 1000) -> [DetectedEvent] {
        distances.enumerated().flatMap { fence.update(position: north($1), at: Int64($0) * interval) }
    }

    @Test func jitterAtTheEdgeIsOneArrival() {
        var fence = CheckpointGeofence(checkpoints: [Self.gate], exitMarginMeters: 20)
        let events = Self.arrivals(&fence, [200, 100, 45, 31, 29, 34, 28, 40, 31, 25, 35, 49, 30, 45])
        #expect(events == [DetectedEvent(.checkIn(.geofence(checkpointID: "north-gate")), inputID: nil, at: 4000)])
    }

    @Test func leavingBeyondTheMarginAndComingBackIsASecondVisit() {
        var fence = CheckpointGeofence(checkpoints: [Self.gate], exitMarginMeters: 20)
        let events = Self.arrivals(&fence, [10, 20, 60, 200, 60, 15])
        #expect(events.map(\.at) == [0, 5000])
    }

    @Test func drivingPastIsNoVisitWhenDwellIsRequired() {
        var gate = Self.gate
        gate.minimumDwellMilliseconds = 10_000
        var fence = CheckpointGeofence(checkpoints: [gate])
        #expect(Self.arrivals(&fence, [100, 50, 20, 5, 20, 50, 100]).isEmpty)
        // Entered at 4 s; shown inside the radius again at 16 s; dated when the 10 s were reached.
        let stayed = Self.arrivals(&fence, [100, 20, 10, 40, 10, 10], every: 4000)
        #expect(stayed.map(\.at) == [14_000])
    }

    @Test func fixesWithoutPositionAreIgnored() {
        var fence = CheckpointGeofence(checkpoints: [Self.gate])
        #expect(fence.update(fix: Fix(mode: .noFix), at: 0).isEmpty)
        #expect(fence.update(fix: Fix(mode: .twoD, latitude: 52.5, longitude: 13.4), at: 1000).count == 1)
    }
}
