import Foundation
import PatrolCentre
import PatrolCore
import PatrolTestSupport
import Testing

/// The duty commands as staff run them: the real `patrol-centre` executable on a real store holding
/// the demo boat's track ("demo-car", as in `CoverageCommandTests`), badge reads the boat's board
/// sent, and sign-ons staff record at the centre, against Config/plan.example.toml.
@Suite struct DutyCommandTests {
    static let plan = CoverageCommandTests.plan

    static func boardEvent(_ sequence: UInt64, _ change: DutyChange, at time: UTCTime) -> UplinkEvent {
        let kind = EventKind.duty(change, badge: "62E3086CED")
        return UplinkEvent(sequence: sequence, kind: kind.code, time: time, timeSource: "gnss", buttonID: "duty-reader",
                           payloadJSON: #"{"kind":"\#(kind.code)","badge":"62E3086CED","input":"duty-reader"}"#)
    }

    @Test func badgeReadsAndCentreRecordsMakeTheDutyReport() async throws {
        let (centre, config) = try await CoverageCommandTests.centreWithDemoTrack()
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "demo-car", events: [
            Self.boardEvent(2, .signOn, at: CoverageCommandTests.at(9, 0)),
            Self.boardEvent(3, .signOff, at: CoverageCommandTests.at(11, 0)),
        ]), at: centre.now)
        for (change, time) in [("sign-on", "2038-04-05T08:00:00Z"), ("sign-off", "2038-04-05T12:00:00Z")] {
            let recorded = try BuiltExecutable.centre.run(["duty", change, "--config", config, "--person", "v-102", "--unit", "booth-1",
                                                           "--at", time, "--by", "alice"])
            #expect(recorded.status == 0, "\(recorded.stderr)")
        }
        let result = try BuiltExecutable.centre.run(["duty", "report", "--config", config, "--plan", Self.plan,
                                                     "--from", "2038-04-05", "--to", "2038-04-06", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let sessions = try #require(json["sessions"] as? [[String: Any]])
        #expect(sessions.map { "\($0["who"] as? String ?? "") \($0["device"] as? String ?? "")" } == ["v-102 booth-1", "p-017 demo-car"])
        #expect(sessions.map { $0["signed_on_h"] as? Double } == [4, 2])
        #expect(sessions[1]["sign_on_evidence"] as? String == "badge read at reader duty-reader (event #2)")
        #expect((sessions[0]["sign_on_evidence"] as? String)?.hasPrefix("recorded at the centre by alice at ") == true)
        #expect(sessions[0]["on_patrol_h"] as? Double == 4, "v-102 is posted to the gate booth, a fixed post")
        // The boat moved through the harbour between 09:00 and 11:00: some of the two hours was patrol, not all.
        let patrol = try #require(sessions[1]["on_patrol_h"] as? Double)
        #expect(patrol > 0 && patrol < 2)
        let persons = try #require(json["persons"] as? [[String: Any]])
        #expect(persons.map { $0["id"] as? String } == ["p-017", "v-102"])

        for format in ["table", "csv", "html"] {
            let rendered = try BuiltExecutable.centre.run(["duty", "report", "--config", config, "--plan", Self.plan,
                                                           "--from", "2038-04-05", "--to", "2038-04-06", "--format", format])
            #expect(rendered.status == 0 && rendered.stdout.contains("p-017"), "\(format): \(rendered.stderr)")
        }
        _ = centre
    }

    @Test func badInputIsRefusedWithWhatToDo() async throws {
        let (centre, config) = try await CoverageCommandTests.centreWithDemoTrack()
        let badTime = try BuiltExecutable.centre.run(["duty", "sign-on", "--config", config, "--person", "p-017", "--unit", "demo-car",
                                                      "--at", "yesterday", "--by", "alice"])
        #expect(badTime.status != 0 && badTime.stderr.contains("--at 'yesterday' is not a date-time"))
        let nobody = try BuiltExecutable.centre.run(["duty", "report", "--config", config, "--plan", Self.plan,
                                                     "--from", "2038-04-05", "--to", "2038-04-06", "--person", "nobody"])
        #expect(nobody.status != 0 && nobody.stderr.contains("the plan has no person with id 'nobody'"))
        let decade = try BuiltExecutable.centre.run(["duty", "report", "--config", config, "--plan", Self.plan,
                                                     "--from", "2030-01-01", "--to", "2040-01-01"])
        #expect(decade.status != 0 && decade.stderr.contains("a duty report covers at most 400 days"), "\(decade.stderr)")
        #expect(try await centre.storage.dutyRecords(in: UTCTime(millisecondsSinceEpoch: 0)..<UTCTime(year: 2100, month: 1, day: 1)).isEmpty,
                "nothing was recorded")
    }
}
