import Foundation
import PatrolCentre
import PatrolCore

/// What the live map and alarm desk show, built from storage: for the JSON routes and for the
/// frames of the live feed alike, so a pushed unit or alarm is exactly what a reload would show.
struct ConsoleLiveViews: Sendable {
    let storage: any CentreStorage
    let clock: CentreClock
    let silentAfterSeconds: Int

    func units(in scope: StaffScope) async throws -> [UnitView] {
        let now = clock.now()
        let openAlarms = Dictionary(grouping: try await storage.alarms(openOnly: true, in: scope), by: \.deviceID)
        var units: [UnitView] = []
        for device in try await storage.devices(in: scope) where device.revokedAt == nil {
            units.append(try await unit(device, openAlarms: openAlarms[device.id]?.count ?? 0, now: now))
        }
        return units
    }

    func unit(_ device: Device, openAlarms: Int, now: UTCTime, committedAt: UTCTime? = nil) async throws -> UnitView {
        let latest = try await storage.latestTrackPoint(device: device.id)
        var tail: [[Double]] = []
        if let latest {
            let end = UTCTime(millisecondsSinceEpoch: latest.timeMilliseconds).adding(milliseconds: 1)
            let start = end.adding(milliseconds: -TrackThinning.tailMilliseconds)
            let points = try await storage.trackPoints(device: device.id, in: start..<end, after: nil, limit: 4096)
            tail = TrackThinning.thinned(points, to: TrackThinning.tailPoints).map {
                [Double($0.latitudeE7) / 1e7, Double($0.longitudeE7) / 1e7, Double($0.timeMilliseconds)]
            }
        }
        let state = UnitState.of(device, latest: latest, openAlarms: openAlarms, now: now, silentAfterSeconds: silentAfterSeconds)
        return UnitView(device: device.id, street: device.street, state: state.rawValue, lastSeen: device.lastSeen?.iso8601, fix: latest.map(FixView.init),
                        tail: tail, openAlarms: openAlarms, committedMs: committedAt?.millisecondsSinceEpoch)
    }

    func alarms(openOnly: Bool, in scope: StaffScope) async throws -> [ConsoleAlarmView] {
        let alarms = try await storage.alarms(openOnly: openOnly, in: scope)
        let notes = try await storage.acknowledgementNotes(alarmIDs: alarms.filter { !$0.isOpen }.map(\.id))
        return alarms.map { ConsoleAlarmView($0, note: notes[$0.id]) }
    }

    /// The SSE frames a change makes: each new alarm, then the unit as it now stands; each for
    /// the consoles of the device's street (and the district's).
    func frames(for change: CentreChange) async throws -> [ConsoleFrame] {
        switch change {
        case .ingested(let deviceID, let events, let committedAt):
            guard let device = try await storage.device(id: deviceID) else { return [] }
            var frames: [ConsoleFrame] = []
            let open = try await storage.openAlarms(device: deviceID)
            let alarmSequences = Set(events.filter { EventKind.acknowledgedCodes.contains($0.kind) }.map(\.sequence))
            for alarm in open where alarmSequences.contains(alarm.event.sequence) {
                frames.append(ConsoleFrame(ConsoleFeed.frame(event: "alarm", data: try Self.json(ConsoleAlarmView(alarm, committedAt: committedAt))),
                                           street: alarm.street))
            }
            let unit = try await unit(device, openAlarms: open.count, now: clock.now(), committedAt: committedAt)
            frames.append(ConsoleFrame(ConsoleFeed.frame(event: "unit", data: try Self.json(unit)), street: device.street))
            return frames
        case .alarmAcknowledged(let alarm, let note, let committedAt):
            var frames = [ConsoleFrame(ConsoleFeed.frame(event: "alarm-ack", data: try Self.json(ConsoleAlarmView(alarm, note: note, committedAt: committedAt))),
                                       street: alarm.street)]
            if let device = try await storage.device(id: alarm.deviceID) {
                let open = try await storage.openAlarms(device: alarm.deviceID).count
                frames.append(ConsoleFrame(ConsoleFeed.frame(event: "unit", data: try Self.json(try await unit(device, openAlarms: open, now: clock.now()))),
                                           street: device.street))
            }
            return frames
        case .alarmEscalated(let alarm, let committedAt):
            return [ConsoleFrame(ConsoleFeed.frame(event: "alarm-escalated", data: try Self.json(ConsoleAlarmView(alarm, committedAt: committedAt))),
                                 street: alarm.street)]
        }
    }

    /// One line of JSON (SSE data may not hold a line break unescaped; JSONEncoder writes none).
    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }
}
