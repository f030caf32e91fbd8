import Foundation
import Logging
import PatrolCore
import PatrolTestSupport
import PatrolUplink
import PatrolUplinkJT808
import Synchronization
import Testing

@Suite(.serialized)
struct JT808OutputTests {
    static let start = SeveralOutputsTests.start

    static func output(_ platform: JT808TestPlatform, authFile: String, revision: JT808Revision = .v2013) -> JT808Output {
        JT808Output(name: "platform", host: "127.0.0.1", port: platform.port,
                    phone: JT808Header.normalisedPhone("13912345678", revision: revision) ?? "", revision: revision,
                    registration: JT808Registration(layout: revision == .v2019 ? .v2019 : .v2013, province: 44, city: 300, maker: "PTRL",
                                                    model: "patrol-agent",
                                                    terminalID: "CAR0007", plateColour: 1, plate: "B-PL 7"),
                    authCodeFile: authFile, timeout: .seconds(5))
    }

    @Test func registersOnceKeepsTheCodeAcrossARestartAndDrainsTheBacklogAsBlindAreaBatches() async throws {
        let folder = try TemporaryDirectory()
        let authFile = folder.path + "/jt808.auth"
        let platform = try JT808TestPlatform()
        let backlog = InMemoryBacklog()
        backlog.append(SeveralOutputsTests.points(100))
        let alarm = backlog.append(SeveralOutputsTests.alarm())
        let observer = RecordingObserver(store: backlog)
        try await SeveralOutputsTests.run([Self.output(platform, authFile: authFile)], on: backlog, observer: observer) {
            _ = try await observer.waitFor("the alarm delivered and the track drained") { state in
                state.delivered.flatMap(\.events).contains(alarm) && (try? backlog.progress(output: "platform", stream: .track)) == 100 ? true : nil
            }
        }
        #expect(try String(contentsOfFile: authFile, encoding: .utf8) == platform.authCode)
        #expect(platform.messages(0x0100).count == 1)
        #expect(platform.messages(0x0102).count == 1)
        let alarmReport = try #require(platform.reports.map(\.position).first)
        #expect(alarmReport.alarm & JT808Position.emergencyAlarm != 0, "the panic sets alarm bit 0")
        let batches = platform.messages(0x0704).compactMap { if case .positionBatch(let batch) = $0.message { batch } else { nil } }
        #expect(batches.allSatisfy { $0.type == JT808PositionBatch.blindArea })
        #expect(batches.flatMap(\.positions).count == 100, "every backlog point once")
        #expect(batches.flatMap(\.positions).allSatisfy { $0.alarm & JT808Position.emergencyAlarm != 0 },
                "the alarm stays set until the platform confirms it")
        #expect(batches.first?.positions.first?.latitude == 47.3769)

        // The board reboots: a new output with the same file authenticates without registering.
        let next = backlog.append(SeveralOutputsTests.alarm(.sos))
        try await SeveralOutputsTests.run([Self.output(platform, authFile: authFile)], on: backlog, observer: observer) {
            _ = try await observer.waitFor("the second alarm delivered") { $0.delivered.flatMap(\.events).contains(next) ? true : nil }
        }
        #expect(platform.messages(0x0100).count == 1, "a reboot does not register again")
        #expect(platform.messages(0x0102).count == 2)
    }

    @Test func progressOnlyOnResultZeroAndAWrongMessageIsADeadLetter() async throws {
        let folder = try TemporaryDirectory()
        let platform = try JT808TestPlatform()
        // The first alarm report is answered "failed" (send again), the check-in "wrong message".
        platform.results.withLock { $0[0x0200] = [JT808Response.failure]; $0[0x0900] = [JT808Response.wrongMessage, JT808Response.wrongMessage] }
        let backlog = InMemoryBacklog()
        let alarm = backlog.append(SeveralOutputsTests.alarm())
        let checkIn = backlog.append(SeveralOutputsTests.alarm(.checkIn(.button)))
        let observer = RecordingObserver(store: backlog)
        try await SeveralOutputsTests.run([Self.output(platform, authFile: folder.path + "/auth")], on: backlog, observer: observer) {
            _ = try await observer.waitFor("the alarm delivered") { $0.delivered.flatMap(\.events).contains(alarm) ? true : nil }
            _ = try await observer.waitFor("the check-in settled") { _ in
                (try? backlog.progress(output: "platform", stream: .event)) == checkIn ? true : nil
            }
        }
        #expect(platform.reports.map(\.position).count >= 2, "the alarm was sent again after result 1")
        #expect(observer.state.withLock { $0.delivered.flatMap(\.events) } == [alarm])
        #expect(backlog.deadLetters(of: "platform").map(\.sequence) == [checkIn])
        let passThrough = try #require(platform.messages(0x0900).first)
        guard case .passThrough(let type, let content) = passThrough.message else { Issue.record("not a pass-through"); return }
        #expect(type == 0xF0)
        #expect(String(decoding: content, as: UTF8.self).contains("\"kind\":\"check-in.button\""))
    }

    @Test func aPlatformConfirmationAcknowledgesTheAlarmAndClearsTheBit() async throws {
        let folder = try TemporaryDirectory()
        let platform = try JT808TestPlatform()
        let backlog = InMemoryBacklog()
        let alarm = backlog.append(SeveralOutputsTests.alarm())
        let observer = RecordingObserver(store: backlog)
        try await SeveralOutputsTests.run([Self.output(platform, authFile: folder.path + "/auth")], on: backlog, observer: observer) {
            _ = try await observer.waitFor("the alarm delivered") { $0.delivered.flatMap(\.events).contains(alarm) ? true : nil }
            let alarmSerial = try #require(platform.messages(0x0200).first?.header.serial)
            platform.confirmAlarm(serial: alarmSerial)
            _ = try await observer.waitFor("the acknowledgement") { $0.acknowledged.first }
            backlog.append(SeveralOutputsTests.points(3))
            _ = try await observer.waitFor("the points after it") { _ in
                (try? backlog.progress(output: "platform", stream: .track)) == 3 ? true : nil
            }
        }
        #expect(observer.state.withLock { $0.acknowledged.map(\.sequence) } == [alarm])
        let confirmation = try #require(platform.messages(0x0001).first)
        guard case .terminalResponse(let response) = confirmation.message else { Issue.record("not a response"); return }
        #expect(response.messageID == 0x8203 && response.result == 0, "the terminal answers 0x8203 with 0x0001")
        #expect(platform.batchPositions.allSatisfy { $0.alarm == 0 }, "after the confirmation the bit is clear")
    }

    /// 0x8300 text reaches the runner's observer (status shows it); 0x8103 sets the reporting
    /// interval (0x0029): track then goes at most every 3 s, in one round, and 0x8104 is answered
    /// with it (0x0104).
    @Test func theTextMessageReachesStatusAndTheReportingIntervalIsHonouredAndReported() async throws {
        let folder = try TemporaryDirectory()
        let platform = try JT808TestPlatform()
        let backlog = InMemoryBacklog()
        backlog.append(SeveralOutputsTests.points(1))
        let observer = RecordingObserver(store: backlog)
        try await SeveralOutputsTests.run([Self.output(platform, authFile: folder.path + "/auth")], on: backlog, observer: observer,
                                          adjust: { $0.trackPointsPerBatch = 30 }) {
            _ = try await observer.waitFor("the first point") { _ in (try? backlog.progress(output: "platform", stream: .track)) == 1 ? true : nil }
            platform.command(.textMessage(JT808TextMessage(flags: 0x01, text: "return to base")))
            platform.command(.setParameters([JT808Parameter(id: 0x0001, dword: 60),
                                             JT808Parameter(id: JT808Parameter.reportingIntervalSeconds, dword: 3)]))
            let text = try await observer.waitFor("the text message") { $0.messages.first }
            #expect(text.text == "return to base")
            _ = try await observer.waitFor("the parameters answered") { _ in
                platform.messages(0x0001).contains { if case .terminalResponse(let r) = $0.message { r.messageID == 0x8103 && r.result == 0 } else { false } }
                    ? true : nil
            }
            platform.command(.queryParameters)
            let answer = try await observer.waitFor("0x0104") { _ in platform.messages(0x0104).first }
            guard case .parameters(_, let parameters) = answer.message else { Issue.record("not a 0x0104"); return }
            #expect(parameters.first { $0.id == JT808Parameter.reportingIntervalSeconds }?.dword == 3)

            // A point every 100 ms for 3.5 s: at most two rounds of track (every 3 s), not one a point.
            let before = platform.messages(0x0704).count
            for second in 2...36 {
                backlog.append([SeveralOutputsTests.points(second)[second - 1]])
                try await Task.sleep(for: .milliseconds(100))
            }
            _ = try await observer.waitFor("every point delivered") { _ in
                (try? backlog.progress(output: "platform", stream: .track)) == 36 ? true : nil
            }
            #expect(platform.messages(0x0704).count - before <= 3, "\(platform.messages(0x0704).count - before) rounds of track in 3.5 s")

            // A backlog (three full batches) drains at once, not one batch every 3 s.
            try await Task.sleep(for: .seconds(3))
            backlog.append(SeveralOutputsTests.points(90))
            let start = ContinuousClock.now
            _ = try await observer.waitFor("the backlog drained") { _ in
                (try? backlog.progress(output: "platform", stream: .track)) == 126 ? true : nil
            }
            #expect(ContinuousClock.now - start < .seconds(2.5), "drained in \(ContinuousClock.now - start)")
        }
    }

    @Test func aTerminalOfThe2019RevisionRegistersAuthenticatesAndReports() async throws {
        let folder = try TemporaryDirectory()
        let platform = try JT808TestPlatform()
        let backlog = InMemoryBacklog()
        let alarm = backlog.append(SeveralOutputsTests.alarm())
        let observer = RecordingObserver(store: backlog)
        try await SeveralOutputsTests.run([Self.output(platform, authFile: folder.path + "/auth", revision: .v2019)], on: backlog,
                                          observer: observer) {
            _ = try await observer.waitFor("the alarm delivered") { $0.delivered.flatMap(\.events).contains(alarm) ? true : nil }
        }
        let received = platform.received.withLock { $0 }
        #expect(received.allSatisfy { $0.header.revision == .v2019 && $0.header.phone == "00000000013912345678" })
        guard case .register(let registration) = received.first?.message else { Issue.record("no registration first"); return }
        #expect(registration.layout == .v2019 && registration.terminalID == "CAR0007")
        guard case .authenticate(let authentication) = received.dropFirst().first?.message else { Issue.record("no authentication"); return }
        #expect(authentication.code == JT808Text(platform.authCode) && authentication.softwareVersion == "patrol-agent")
    }
}
