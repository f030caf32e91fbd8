import Testing
@testable import PatrolCore

/// A fix `metresNorth` north of a fixed origin, `seconds` after a fixed start.
private func fix(_ seconds: Double, north metresNorth: Double = 0, east metresEast: Double = 0, speed: Double? = nil,
                 track: Double? = nil, hdop: Double? = 1, mode: FixMode = .threeD) -> Fix {
    let origin = Coordinate(latitude: 52.0, longitude: 13.0)
    let lat = origin.latitude + metresNorth / 111_195
    let lon = origin.longitude + metresEast / (111_195 * 0.6156615) // cos(52°)
    return Fix(time: UTCTime(year: 2026, month: 5, day: 1).adding(seconds: seconds), mode: mode,
               latitude: lat, longitude: lon, altitudeMSL: 40, speed: speed, track: track, hdop: hdop)
}

@Suite struct FixFilterTests {
    @Test func dropsAndCountsEachReason() {
        var filter = FixFilter(settings: FixFilterSettings(minimumMode: .twoD, maximumHDOP: 5, maximumSpeed: 70))
        #expect(filter.check(fix(0)) == nil)
        #expect(filter.check(fix(1, mode: .noFix)) == .noFix)
        #expect(filter.check(Fix(time: nil, mode: .threeD, latitude: 52, longitude: 13)) == .noTime)
        #expect(filter.check(fix(0, north: 5)) == .notNewer)
        #expect(filter.check(fix(2, north: 5, hdop: 12)) == .poorAccuracy)
        #expect(filter.check(fix(3, north: 5_000)) == .impossibleJump) // 5 km in 3 s
        #expect(filter.check(fix(4, north: 60)) == nil) // 15 m/s: a car
        #expect(filter.accepted == 2)
        #expect(filter.rejections == [.noFix: 1, .noTime: 1, .notNewer: 1, .poorAccuracy: 1, .impossibleJump: 1])
    }

    @Test func farFutureDateIsDroppedAndDoesNotBlockTheTrack() {
        // Found by scripts/fuzz.sh (nmea): a checksummed ZDA saying year 2800. Taken as the last
        // fix, it made every real fix after it "not newer", so the track stopped for good.
        var filter = FixFilter()
        #expect(filter.check(fix(0)) == nil)
        var future = fix(1)
        future.time = UTCTime(year: 2800, month: 9, day: 7)
        #expect(filter.check(future) == .implausibleTime)
        #expect(filter.check(fix(2)) == nil)
        var past = fix(3)
        past.time = UTCTime(year: 1999, month: 12, day: 31)
        #expect(filter.check(past) == .implausibleTime)
        #expect(filter.rejections == [.implausibleTime: 2])
    }

    @Test func reanchorsWhenTheJumpPersists() {
        // The unit drove out of a garage with no fix; the first fix outside is far away but real.
        var filter = FixFilter(settings: FixFilterSettings(maximumSpeed: 70, jumpRejectionsBeforeReanchor: 3))
        #expect(filter.check(fix(0)) == nil)
        let verdicts = (1...5).map { filter.check(fix(Double($0), north: 10_000 + Double($0) * 10)) }
        #expect(verdicts == [.impossibleJump, .impossibleJump, .impossibleJump, nil, nil])
    }
}

@Suite struct TrackRecorderTests {
    @Test func recordEveryFixKeepsAll() {
        var recorder = TrackRecorder(profile: .everyFix)
        let kept = (0..<10).compactMap { recorder.record(fix(Double($0), speed: 0)) }
        #expect(kept.count == 10)
    }

    @Test func carDrivingStraightRecordsByDistance() {
        var recorder = TrackRecorder(profile: .car)
        // 60 s north at 14 m/s (50 km/h), one fix a second: 840 m → a point about every 100 m.
        let kept = (0...60).compactMap { recorder.record(fix(Double($0), north: Double($0) * 14, speed: 14, track: 0)) }
        #expect(kept.count >= 8 && kept.count <= 10, "got \(kept.count)")
        for (a, b) in zip(kept, kept.dropFirst()) {
            #expect(Geodesy.distance(a.coordinate, b.coordinate) < 100 + 14 + 1) // first fix past 100 m
        }
    }

    @Test func turnIsRecordedAtOnce() {
        var recorder = TrackRecorder(profile: .car)
        _ = recorder.record(fix(0, speed: 14, track: 0))
        _ = recorder.record(fix(1, north: 14, speed: 14, track: 0))
        #expect(recorder.record(fix(2, north: 20, east: 10, speed: 14, track: 90)) != nil)
    }

    @Test func parkedCarRecordsOnlyByPeriodAndStopStartIsRecorded() {
        var recorder = TrackRecorder(profile: .car)
        #expect(recorder.record(fix(0, speed: 14, track: 0)) != nil)
        #expect(recorder.record(fix(1, north: 3, speed: 0)) != nil, "stopping is recorded")
        // Ten minutes parked with GPS jitter of a few metres: the 5-minute period gives two points.
        var parked = 0
        for s in 2...601 where recorder.record(fix(Double(s), north: Double(s % 7), speed: 0.2)) != nil { parked += 1 }
        #expect(parked == 2)
        #expect(recorder.record(fix(602, north: 30, speed: 8, track: 0)) != nil, "driving off is recorded")
    }

    @Test func footProfileHeadingIgnoredWhenSlow() {
        var recorder = TrackRecorder(profile: .foot)
        _ = recorder.record(fix(0, speed: 0.8, track: 0))
        // Heading swings wildly at walking pace below the heading speed: no extra point.
        #expect(recorder.record(fix(2, north: 1, speed: 0.8, track: 180)) == nil)
    }
}

@Suite struct ClockTrustTests {
    let gnss = UTCTime(year: 2026, month: 11, day: 26, hour: 12)

    @Test func agreesWithinTolerance() {
        let trust = ClockTrust.evaluate(systemTime: gnss.adding(milliseconds: 800), gnssTimeNow: gnss, ntpSynchronized: false)
        #expect(trust == .agreesWithGNSS(offsetMilliseconds: 800))
        #expect(trust.isTrusted)
    }

    @Test func boardBootedIn1970IsUntrustedEvenIfNTPClaimsSync() {
        let trust = ClockTrust.evaluate(systemTime: UTCTime(millisecondsSinceEpoch: 42_000), gnssTimeNow: gnss, ntpSynchronized: true)
        #expect(!trust.isTrusted)
        #expect(trust.summary.contains("days behind GNSS time"))
    }

    @Test func withoutGNSSOnlyNTPVouches() {
        #expect(ClockTrust.evaluate(systemTime: gnss, gnssTimeNow: nil, ntpSynchronized: false) == .unverified)
        #expect(ClockTrust.evaluate(systemTime: gnss, gnssTimeNow: nil, ntpSynchronized: true).isTrusted)
    }
}
