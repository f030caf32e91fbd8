import Foundation
import PatrolCentre
@testable import PatrolCentreJT808
import PatrolCore
import PatrolTestSupport
import Synchronization
import Testing

/// The real `patrol-centre serve` with `[jt808]`, and terminals written from the standard
/// (`JT808TestTerminal`) on real TCP connections: registration and authentication, reports
/// committed before their 0x8001 and stored once, one alarm per emergency episode and its
/// acknowledgement as 0x8203, refused frames and who may write as whom, and the limits.
@Suite(.serialized) struct JT808ListenerTests {
    let phone = "013912345678"

    /// A centre with a JT/T 808 port and terminal `car-7` registered for `phone`.
    func centre(_ settings: String = "", folder: TemporaryDirectory) throws -> (CentreProcess, port: Int) {
        let port = try FreePort.allocate()
        let centre = try CentreProcess(folder: folder.path, settings: "[jt808]\nport = \(port)\n" + settings)
        let added = try centre.run(["devices", "add", "car-7", "--jt808", phone])
        #expect(added.status == 0, "\(added.stderr)")
        try centre.start()
        #expect(waitUntil(timeout: 30) { FreePort.isAccepting(port) ? true : nil } == true)
        return (centre, port)
    }

    static let time = UTCTime(year: 2026, month: 11, day: 29, hour: 10)

    static func report(_ second: Int, alarm: UInt32 = 0, latitudeE6: UInt32 = 22_543_096) -> JT808Position {
        JT808Position(alarm: alarm, status: JT808Position.positionedStatus, latitudeE6: latitudeE6, longitudeE6: 114_057_865,
                      altitudeMetres: 30, speedTenthsKmh: 360, heading: 90, time: time.adding(seconds: Double(second)),
                      items: [JT808AdditionalItem(id: 0x31, value: [9])])
    }

    @Test func anUnknownTerminalIsRefusedAndARegisteredOneAuthenticatesReportsAndIsStoredOnce() async throws {
        let folder = try TemporaryDirectory(prefix: "patrol-jt808c")
        defer { folder.remove() }
        let (centre, port) = try centre(folder: folder)
        defer { centre.stop() }

        let stranger = try JT808TestTerminal(port: port, phone: "013900000001")
        #expect(await stranger.registerAndAuthenticate() == nil, "0x8100 result 4 for a phone nobody registered")
        let data = stranger.send(.position(Self.report(0)))
        #expect(await stranger.result(for: data) == 1, "no data before authentication")

        let terminal = try JT808TestTerminal(port: port, phone: phone)
        let wrong = terminal.send(.authenticate(JT808Authentication(code: "guess")))
        #expect(await terminal.result(for: wrong) == 1, "a code the centre did not hand out is refused")
        let code = try #require(await terminal.registerAndAuthenticate())
        #expect(try centre.query("SELECT hex(auth_code) FROM terminals") == [Hex.encode(code).uppercased()])
        #expect(await terminal.result(for: terminal.send(.position(Self.report(0)))) == 0)
        #expect(await terminal.result(for: terminal.send(.positionBatch(JT808PositionBatch(
            type: JT808PositionBatch.blindArea, positions: (1...5).map { Self.report($0) })))) == 0)
        #expect(try centre.query("SELECT count(*) FROM track_points WHERE device = 'car-7'") == ["6"], "committed before 0x8001")

        // A reconnect that re-sends what it sent (its 0x8001 lost), with the 2019 header of the same
        // terminal (10-byte phone), authentication and batch in one TCP segment: the same reports
        // are stored once; a new one is added.
        let again = try JT808TestTerminal(port: port, phone: "00000000013912345678", revision: .v2019)
        let segment = JT808Message.authenticate(JT808Authentication(code: JT808Text(bytes: code)))
            .frames(phone: again.phone, revision: .v2019, serial: 500)[0].wire
            + JT808Message.positionBatch(JT808PositionBatch(type: JT808PositionBatch.blindArea, positions: (0...6).map { Self.report($0) }))
            .frames(phone: again.phone, revision: .v2019, serial: 501)[0].wire
        again.connection.send(segment)
        #expect(await again.result(for: 500) == 0)
        #expect(await again.result(for: 501) == 0, "a report in the segment of the authentication is accepted after it")
        #expect(try centre.query("SELECT count(*) FROM track_points WHERE device = 'car-7'") == ["7"])
        let export = try centre.run(["tracks", "export", "--unit", "car-7", "--from", Self.time.iso8601,
                                     "--to", Self.time.adding(seconds: 60).iso8601, "--format", "geojson"])
        #expect(export.status == 0 && export.stdout.contains("114.057865"), "exported like a board's track: \(export.stderr)")
        #expect(try centre.query("SELECT count(*) FROM track_points WHERE device = 'car-7' AND satellites = 9") == ["7"])
        #expect(try centre.query("SELECT count(*) FROM terminals WHERE phone = '13900000001'") == ["0"], "nothing stored for the stranger")
    }

    @Test func anEmergencyEpisodeIsOneAlarmAndItsAcknowledgementReachesTheTerminalAs0x8203() async throws {
        let folder = try TemporaryDirectory(prefix: "patrol-jt808c")
        defer { folder.remove() }
        let (centre, port) = try centre(folder: folder)
        defer { centre.stop() }
        let terminal = try JT808TestTerminal(port: port, phone: phone)
        #expect(await terminal.registerAndAuthenticate() != nil)
        let emergency = JT808Position.emergencyAlarm
        // Alarm bit 0 in three reports, re-sent after a reconnect, and a blind-area batch from before:
        // one episode, one alarm.
        for second in 10...12 { #expect(await terminal.result(for: terminal.send(.position(Self.report(second, alarm: emergency)))) == 0) }
        let reconnected = try JT808TestTerminal(port: port, phone: phone)
        #expect(await reconnected.registerAndAuthenticate() != nil)
        #expect(await reconnected.result(for: reconnected.send(.position(Self.report(12, alarm: emergency)))) == 0)
        #expect(await reconnected.result(for: reconnected.send(.positionBatch(JT808PositionBatch(
            type: JT808PositionBatch.blindArea, positions: (0...9).map { Self.report($0, alarm: emergency) })))) == 0)
        #expect(await reconnected.result(for: reconnected.send(.position(Self.report(13, alarm: emergency)))) == 0)
        #expect(try centre.query("SELECT id, kind, time_ms FROM events") == ["1|sos|\(Self.time.adding(seconds: 10).millisecondsSinceEpoch)"])

        let ack = try centre.run(["alarms", "ack", "1", "--by", "ann"])
        #expect(ack.status == 0, "\(ack.stderr)")
        var confirmation: (JT808Header, UInt32)?
        while confirmation == nil, let (header, message) = await reconnected.next() {
            if case .confirmAlarm(_, let alarms) = message { confirmation = (header, alarms) }
        }
        let (header, alarms) = try #require(confirmation, "the acknowledgement reaches the connected terminal as 0x8203")
        #expect(alarms & emergency != 0)
        reconnected.send(.terminalResponse(JT808Response(serial: header.serial, messageID: 0x8203, result: 0)))
        #expect(waitUntil(timeout: 10) { try? centre.query("SELECT count(*) FROM downlink") == ["0"] ? true : nil } == true,
                "forgotten once the terminal confirmed it")

        // The terminal clears the bit; a new emergency is a new alarm.
        #expect(await reconnected.result(for: reconnected.send(.position(Self.report(14)))) == 0)
        #expect(await reconnected.result(for: reconnected.send(.position(Self.report(15, alarm: emergency)))) == 0)
        #expect(try centre.query("SELECT count(*) FROM events WHERE kind = 'sos'") == ["2"])
        let list = try centre.run(["alarms", "--open"])
        #expect(list.stdout.contains("car-7"), "listed for staff like a board's alarm: \(list.stdout)")
    }

    @Test func theConsoleFeedShowsATerminalsAlarmAtOnce() async throws {
        let folder = try TemporaryDirectory(prefix: "patrol-jt808c")
        defer { folder.remove() }
        let (centre, port) = try centre(folder: folder)
        defer { centre.stop() }
        let added = try centre.run(["staff", "add", "ann", "--role", "operator", "--no-password"])
        let token = try #require(added.stdout.split(separator: "\n").last.map(String.init), "\(added.stderr)")
        let feed = try RawHTTPConnection(port: centre.port)
        #expect(feed.send("GET /console/api/events HTTP/1.1\r\nHost: centre\r\nAuthorization: Bearer \(token)\r\n\r\n"))
        #expect(await feed.readUntil("\r\n\r\n")?.hasPrefix("HTTP/1.1 200") == true, "the live feed is open")

        let terminal = try JT808TestTerminal(port: port, phone: phone)
        #expect(await terminal.registerAndAuthenticate() != nil)
        #expect(await terminal.result(for: terminal.send(.position(Self.report(10, alarm: JT808Position.emergencyAlarm)))) == 0)
        #expect(await feed.readUntil("event: alarm\n") != nil, "the alarm desk hears of the terminal's alarm as of a board's")
        let alarm = try #require(await feed.readUntil("\n\n"))
        #expect(alarm.contains(#""device":"car-7""#) && alarm.contains(#""kind":"sos""#), "\(alarm)")
        let unit = try #require(await feed.readUntil("\n\n"), "and the map of its position")
        #expect(unit.contains("event: unit\n") && unit.contains(#""lat":22.543096"#), "\(unit)")
    }

    @Test func badFramesAreCountedAndAnsweredAndNoTerminalWritesAsAnother() async throws {
        let folder = try TemporaryDirectory(prefix: "patrol-jt808c")
        defer { folder.remove() }
        let (centre, port) = try centre("idle_timeout_seconds = 5\n", folder: folder)
        defer { centre.stop() }
        let other = "013900000002"
        #expect(try centre.run(["devices", "add", "car-8", "--jt808", other]).status == 0)
        let terminal = try JT808TestTerminal(port: port, phone: phone)
        #expect(await terminal.registerAndAuthenticate() != nil)

        // Another registered terminal's phone on this connection: refused, nothing stored for car-8.
        let foreign = terminal.send(.position(Self.report(0)), phone: other)
        #expect(await terminal.result(for: foreign) == 1)
        // A wrong check code (result 1: send again), an unknown message (3), a body that does not
        // decode (2), a bad escape (not answered: the header cannot be trusted).
        var damaged = JT808Message.position(Self.report(1)).frames(phone: phone, revision: .v2013, serial: 900)[0].wire
        damaged[damaged.count - 2] ^= 0x01
        terminal.connection.send(damaged)
        #expect(await terminal.result(for: 900) == 1)
        #expect(await terminal.result(for: terminal.send(.other(id: 0x0F0F, body: [1, 2]))) == 3)
        #expect(await terminal.result(for: terminal.send(.other(id: 0x0200, body: [1, 2, 3]))) == 2)
        terminal.connection.send([0x7E, 0x02, 0x00, 0x7D, 0x05, 0x7E])
        #expect(await terminal.result(for: terminal.send(.position(Self.report(2)))) == 0, "the connection still works")
        #expect(try centre.query("SELECT device, count(*) FROM track_points GROUP BY device") == ["car-7|1"])

        // Revoked while connected: the next report is refused, nothing stored, the connection closed.
        #expect(try centre.run(["devices", "revoke", "car-7"]).status == 0)
        #expect(await terminal.result(for: terminal.send(.position(Self.report(3)))) == 1)
        #expect(await terminal.connection.isClosedByPeer())
        #expect(try centre.query("SELECT count(*) FROM track_points") == ["1"])

        // The counts are logged (one line, every minute when they changed; SIGTERM logs them too).
        let process = centre.process
        centre.stop()
        let output = process?.output ?? ""
        #expect(output.contains("check_code=1") && output.contains("escape=1") && output.contains("unknown_message=1")
                && output.contains("body=1") && output.contains("foreign_phone=1"), "\(output)")
    }

    @Test func aFloodingConnectionDoesNotStarveOthersAndIdleOrSurplusConnectionsAreClosed() async throws {
        let folder = try TemporaryDirectory(prefix: "patrol-jt808c")
        defer { folder.remove() }
        let (centre, port) = try centre("idle_timeout_seconds = 5\nmax_connections = 3\n", folder: folder)
        defer { centre.stop() }
        let terminal = try JT808TestTerminal(port: port, phone: phone)
        #expect(await terminal.registerAndAuthenticate() != nil)
        // A second connection sends an endless stream of bad frames and never reads its answers.
        let flood = try RawHTTPConnection(port: port, timeout: 1)
        let stop = Atomic(false)
        let flooder = Thread {
            let frame = JT808Message.other(id: 0x0F0F, body: Array(repeating: 0x55, count: 1000))
                .frames(phone: "013900000003", revision: .v2013, serial: 1)[0].wire
            let chunk = Array(repeatElement(frame, count: 64).joined())
            while !stop.load(ordering: .relaxed) { _ = flood.send(chunk) }
        }
        flooder.start()
        defer { stop.store(true, ordering: .relaxed) }
        var latencies: [Double] = []
        for second in 0..<20 {
            let start = ContinuousClock.now
            #expect(await terminal.result(for: terminal.send(.position(Self.report(second)))) == 0)
            latencies.append((ContinuousClock.now - start) / .milliseconds(1))
        }
        #expect(latencies.sorted()[latencies.count / 2] < 500, "answers keep coming during the flood: \(latencies) ms")

        // The limit (3): the flood, the terminal and one more; a fourth connection is closed at once.
        let third = try RawHTTPConnection(port: port, timeout: 20)
        usleep(200_000)
        let fourth = try RawHTTPConnection(port: port, timeout: 3)
        #expect(await fourth.isClosedByPeer(), "a connection over max_connections is closed")
        // The third sends nothing (a half-open connection): closed after idle_timeout_seconds.
        let start = ContinuousClock.now
        #expect(await third.isClosedByPeer())
        let waited = ContinuousClock.now - start
        #expect(waited > .seconds(3) && waited < .seconds(12), "closed after the 5 s idle timeout, not \(waited)")
    }
}

@Suite struct JT808ReportIdentityTests {
    @Test func theSameTimeAndPositionAreOneReportAndAnotherPositionInTheSameSecondIsAnother() {
        let time = UTCTime(year: 2026, month: 11, day: 29, hour: 10)
        let report = JT808Position(status: JT808Position.positionedStatus | JT808Position.southStatus, latitudeE6: 33_868_800,
                                   longitudeE6: 151_209_300, time: time)
        let first = TerminalReport(jt808: report, phone: "1", serial: 1, receivedAt: time)
        let resent = TerminalReport(jt808: report, phone: "1", serial: 77, receivedAt: time.adding(seconds: 600))
        var moved = report
        moved.longitudeE6 += 1
        #expect(first.sequence == resent.sequence)
        #expect(TerminalReport(jt808: moved, phone: "1", serial: 2, receivedAt: time).sequence != first.sequence)
        #expect(first.point?.latitudeE7 == -338_688_000, "south is negative")
        #expect(first.point?.timeMilliseconds == time.millisecondsSinceEpoch)
        var unpositioned = report
        unpositioned.status = 0
        #expect(TerminalReport(jt808: unpositioned, phone: "1", serial: 3, receivedAt: time).point == nil)
    }
}
