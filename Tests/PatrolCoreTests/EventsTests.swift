import Testing
import PatrolCore

@Suite struct EventsTests {
    static let allKinds: [EventKind] = [
        .panic(silent: false), .panic(silent: true), .duress, .sos,
        .checkIn(.button), .checkIn(.tag(id: "0A001B2C3D")), .checkIn(.geofence(checkpointID: "gate-3")),
        .alarmRestore, .alarmCancel, .testPress, .duty(.signOn, badge: "62E3086CED"), .duty(.signOff, badge: "62E3086CED"),
    ] + Fault.allCases.flatMap { [EventKind.fault($0), .faultRestore($0)] }

    @Test func kindCodesRoundTripAndAreDistinct() {
        for kind in Self.allKinds {
            #expect(EventKind(code: kind.code, detail: kind.detail) == kind, "\(kind.code)")
        }
        #expect(Set(Self.allKinds.map(\.code)).count == Self.allKinds.count)
        #expect(EventKind.fault(.boxSilent).code == "fault.box-silent")
        #expect(EventKind.faultRestore(.gpsLost).code == "fault.gps-lost.restore")
        #expect(EventKind.checkIn(.tag(id: "X")).code == "check-in.tag")
    }

    @Test func unknownCodesAndMissingDetailsDoNotDecode() {
        #expect(EventKind(code: "fire") == nil)
        #expect(EventKind(code: "fault.coffee-empty") == nil)
        #expect(EventKind(code: "check-in.tag") == nil)
        #expect(EventKind(code: "check-in.geofence") == nil)
        #expect(EventKind(code: "duty.sign-on") == nil)
        #expect(EventKind(code: "duty.nap", detail: "62E3086CED") == nil)
    }

    @Test func alarmsAndFaultsGoBeforeCheckIns() {
        #expect(EventKind.duress.priority == .alarm)
        #expect(EventKind.alarmCancel.priority == .alarm)
        #expect(EventKind.faultRestore(.portGone).priority == .fault)
        #expect(EventKind.checkIn(.button).priority == .checkIn)
        #expect(EventPriority.alarm < .fault && EventPriority.fault < .checkIn && EventPriority.checkIn < .test)
    }

    static let fixTime = UTCTime(year: 2026, month: 11, day: 26, hour: 20, minute: 15)
    static let gate = Coordinate(latitude: 52.520008, longitude: 13.404954)
    static let unsetClock = SystemClockReading(time: UTCTime(year: 1970, month: 1, day: 1), monotonicMilliseconds: 0,
                                               isTrusted: false)

    @Test func gnssTimeIsCarriedForwardWithTheMonotonicClock() {
        var stamper = EventStamper(deviceID: "car-17")
        stamper.fixReceived(Fix(time: Self.fixTime, mode: .threeD, latitude: 52.520008, longitude: 13.404954), at: 10_000)
        let event = stamper.stamp(DetectedEvent(.sos, inputID: "sos-1", at: 12_500), systemClock: Self.unsetClock)
        #expect(event.time == EventTime(utc: Self.fixTime.adding(milliseconds: 2500), source: .gnss))
        #expect(event.position == .current(Self.gate, ageMilliseconds: 2500))
        #expect(event.payloadJSON == """
            {"kind":"sos","priority":"alarm","time":"2026-11-26T20:15:02.500Z","timeSource":"gnss",\
            "fix":"current","lat":52.520008,"lon":13.404954,"fixAgeMs":2500,"device":"car-17","input":"sos-1"}
            """)
    }

    @Test func alarmWithoutFixCarriesLastKnownPositionOrNone() {
        var stamper = EventStamper(deviceID: "booth-2")
        let before = stamper.stamp(DetectedEvent(.panic(silent: false), inputID: "p1", at: 5_000),
                                   systemClock: Self.unsetClock)
        #expect(before.position == .none)
        #expect(before.time.source == .systemUntrusted)
        #expect(before.time.utc.millisecondsSinceEpoch == 5_000)
        #expect(before.payloadJSON.contains("\"fix\":\"none\""))
        #expect(!before.payloadJSON.contains("\"lat\""))

        stamper.fixReceived(Fix(time: Self.fixTime, mode: .twoD, latitude: 52.520008, longitude: 13.404954), at: 6_000)
        stamper.fixReceived(Fix(time: Self.fixTime.adding(milliseconds: 1000), mode: .noFix), at: 7_000)
        let after = stamper.stamp(DetectedEvent(.duress, inputID: "p2", at: 66_000), systemClock: Self.unsetClock)
        #expect(after.position == .lastKnown(Self.gate, ageMilliseconds: 60_000))
        #expect(after.time == EventTime(utc: Self.fixTime.adding(milliseconds: 60_000), source: .gnss))
        #expect(after.payloadJSON.contains("\"fix\":\"last-known\""))
    }

    @Test func trustedSystemClockIsUsedBeforeTheFirstFix() {
        let stamper = EventStamper(deviceID: "booth-2")
        let clock = SystemClockReading(time: Self.fixTime, monotonicMilliseconds: 9_000, isTrusted: true)
        let event = stamper.stamp(DetectedEvent(.checkIn(.tag(id: "0A001B2C3D")), inputID: "reader-1", at: 8_000),
                                  systemClock: clock)
        #expect(event.time == EventTime(utc: Self.fixTime.adding(milliseconds: -1000), source: .system))
        #expect(event.payloadJSON.hasSuffix("\"input\":\"reader-1\",\"tag\":\"0A001B2C3D\"}"))
    }

    @Test func gpsLostIsOneFaultAndOneRestore() {
        var watchdog = GPSLostWatchdog(limitMilliseconds: 30_000, startedAt: 0)
        let fix = Fix(time: Self.fixTime, mode: .threeD, latitude: 52.5, longitude: 13.4)
        #expect(watchdog.fixReceived(fix, at: 1_000).isEmpty)
        #expect(watchdog.nextDeadline == 31_000)
        #expect(watchdog.fixReceived(Fix(mode: .noFix), at: 20_000).isEmpty)
        #expect(watchdog.tick(at: 30_999).isEmpty)
        #expect(watchdog.tick(at: 31_000) == [DetectedEvent(.fault(.gpsLost), inputID: nil, at: 31_000)])
        #expect(watchdog.tick(at: 90_000).isEmpty)
        #expect(watchdog.fixReceived(Fix(mode: .noFix), at: 91_000).isEmpty)
        #expect(watchdog.fixReceived(fix, at: 95_000) == [DetectedEvent(.faultRestore(.gpsLost), inputID: nil, at: 95_000)])
        #expect(watchdog.fixReceived(fix, at: 96_000).isEmpty)
    }

    @Test func lateFixStillReportsTheOutageItEnded() {
        var watchdog = GPSLostWatchdog(limitMilliseconds: 30_000, startedAt: 0)
        let fix = Fix(mode: .twoD, latitude: 52.5, longitude: 13.4)
        #expect(watchdog.fixReceived(fix, at: 45_000) == [
            DetectedEvent(.fault(.gpsLost), inputID: nil, at: 30_000),
            DetectedEvent(.faultRestore(.gpsLost), inputID: nil, at: 45_000),
        ])
        #expect(!watchdog.isLost)
    }
}
