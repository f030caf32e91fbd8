import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PatrolCentre
import PatrolCore
import PatrolTestSupport
import Testing

/// A board's panic in street north, escalated by north's staff on the console, acknowledged by the
/// district desk on the console: north's feed hears both, and the board gets the district's
/// acknowledgement at its next upload (on both backends).
@Suite(.serialized) struct EscalationTests {
    @Test(arguments: StorageKind.available)
    func aStreetsEscalationIsAcknowledgedByTheDistrictAndReachesTheStreetAndTheBoard(backend: StorageKind) async throws {
        let (centre, console, _, keys) = try await StreetIsolationTests.district(backend)
        try await centre.consoleLive(console: console) { client in
            let anna = try await ConsoleSignIn(client, "anna", "anna password")
            let dora = try await ConsoleSignIn(client, "dora", "dora password")
            let stream = try RawHTTPConnection(port: try #require(client.port), timeout: 5)
            stream.send("GET /console/api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: \(anna.cookie)\r\n\r\n")
            #expect(await stream.readUntil(": connected\n\n")?.hasPrefix("HTTP/1.1 200") == true)

            let panic = UplinkBatch(deviceID: "car-a", events: [Sample.alarm(41, at: centre.now)])
            #expect(try await SignedRequest(device: "car-a", key: keys["car-a"]!, batch: panic, time: centre.now).send(client).status == .ok)
            let id = try #require((try await anna.get(client, "/console/api/alarms?open=true").json["alarms"] as? [[String: Any]])?.first?["id"] as? Int)

            let empty = try await client.execute(uri: "/console/api/alarms/\(id)/escalate", method: .post, headers: anna.headers(),
                                                 body: ByteBuffer(string: #"{"note":""}"#))
            #expect(empty.status == .badRequest && empty.json["field"] as? String == "note", "an escalation says why")
            let byDistrict = try await client.execute(uri: "/console/api/alarms/\(id)/escalate", method: .post, headers: dora.headers(),
                                                      body: ByteBuffer(string: #"{"note":"?"}"#))
            #expect(byDistrict.status == .forbidden && byDistrict.json["error"] as? String == "district-staff")

            centre.advance(seconds: 20)
            let escalated = try await client.execute(uri: "/console/api/alarms/\(id)/escalate", method: .post, headers: anna.headers(),
                                                     body: ByteBuffer(string: #"{"note":"two intruders, need the district's dog unit"}"#))
            #expect(escalated.status == .ok, "\(String(buffer: escalated.body))")
            #expect(escalated.json["escalatedBy"] as? String == "anna")
            let escalatedAt = centre.now.iso8601
            let again = try await client.execute(uri: "/console/api/alarms/\(id)/escalate", method: .post, headers: anna.headers(),
                                                 body: ByteBuffer(string: #"{"note":"again"}"#))
            #expect(again.status == .conflict && again.json["error"] as? String == "already-escalated")

            // The district desk: marked escalated, with its history.
            let desk = try #require(try await dora.get(client, "/console/api/alarms?open=true").json["alarms"] as? [[String: Any]])
            let onDesk = try #require(desk.first { $0["id"] as? Int == id })
            #expect(onDesk["escalatedBy"] as? String == "anna" && onDesk["escalationNote"] as? String == "two intruders, need the district's dog unit")
            #expect(onDesk["street"] as? String == "north")

            centre.advance(seconds: 40)
            let ack = try await client.execute(uri: "/console/api/alarms/\(id)/ack", method: .post, headers: dora.headers(),
                                               body: ByteBuffer(string: #"{"note":"dog unit on its way"}"#))
            #expect(ack.status == .ok, "\(String(buffer: ack.body))")
            let history = try #require(try await dora.get(client, "/console/api/alarms/\(id)").json["history"] as? [[String: Any]])
            #expect(history.map { "\($0["step"] ?? "") \($0["by"] ?? "") \($0["note"] ?? "-")" }
                    == ["received car-a -", "escalated anna two intruders, need the district's dog unit", "acknowledged dora dog unit on its way"])
            #expect(history[1]["at"] as? String == escalatedAt)

            // North's console hears the escalation and the district's acknowledgement.
            var fed = ""
            while !fed.contains("event: alarm-ack\n") {
                fed += try #require(await stream.readUntil("\n\n"), "no acknowledgement on north's feed; so far: \(fed)")
            }
            #expect(fed.contains("event: alarm-escalated\n"))
            #expect(fed.contains(#""acknowledgedBy":"dora""#))

            // The board: the district's acknowledgement in the answer to its next upload.
            let heartbeat = UplinkBatch(deviceID: "car-a", heartbeats: [UplinkHeartbeat(sequence: 1, time: centre.now, timeSource: "gnss")])
            let next = try await SignedRequest(device: "car-a", key: keys["car-a"]!, batch: heartbeat, time: centre.now).send(client)
            let message = try #require(try next.decoded(IngestResponse.self).downlink.first)
            #expect(message.alarmSequence == 41)
            #expect(message.text == "alarm 41 acknowledged by operator dora at \(centre.now.iso8601)")
        }
        let audit = try await centre.storage.auditEntries(in: nil, limit: 100).filter { $0.subject == AuditEntry.alarmSubject(1) }
        #expect(audit.map { "\($0.action) \($0.actor)" } == ["alarm-escalated anna", "alarm-acknowledged dora"])
    }
}
