import HTTPTypes
import HummingbirdTesting
import NIOCore
import PatrolCentre
import PatrolCore
import Testing

@Suite struct IngestTests {
    @Test func signedIngestIsCommittedAndDuplicatesAreStoredOnce() async throws {
        let centre = try CentreHarness()
        let key = try await centre.addDevice("car-12")
        let batch = UplinkBatch(deviceID: "car-12", trackPoints: Sample.track(1...600, from: centre.now),
                                events: [Sample.alarm(1, at: centre.now)],
                                heartbeats: [UplinkHeartbeat(sequence: 1, time: centre.now, timeSource: "gnss")])
        try await centre.live { client in
            for _ in 0..<2 { // the second send is a resend after a lost response: a new nonce, the same records
                let response = try await SignedRequest(device: "car-12", key: key, batch: batch, time: centre.now).send(client)
                #expect(response.status == .ok)
                let answer = try response.decoded(IngestResponse.self)
                #expect(answer.accepted == ["track": [[1, 600]], "event": [[1, 1]], "heartbeat": [[1, 1]]])
                #expect(answer.rejected.isEmpty)
            }
        }
        #expect(try centre.committedCount("track_points") == 600)
        #expect(try centre.committedCount("events") == 1)
        #expect(try centre.committedCount("heartbeats") == 1)
    }

    @Test func implausibleRecordsAreRejectedAloneWithReasons() async throws {
        let centre = try CentreHarness()
        let key = try await centre.addDevice("car-12")
        var points = Sample.track(1...10, from: centre.now)
        points[4].latitudeE7 = 950_000_000
        var badEvent = Sample.alarm(2, at: centre.now)
        badEvent.kind = "PANIC!"
        let batch = UplinkBatch(deviceID: "car-12", trackPoints: points, events: [Sample.alarm(1, at: centre.now), badEvent])
        let answer = try await centre.live { client in
            try await SignedRequest(device: "car-12", key: key, batch: batch, time: centre.now).send(client).decoded(IngestResponse.self)
        }
        #expect(answer.accepted["track"] == [[1, 4], [6, 10]])
        #expect(answer.accepted["event"] == [[1, 1]])
        #expect(answer.rejected.map(\.sequences) == [5...5, 2...2])
        #expect(answer.rejected[0].reason.contains("latitude"))
        #expect(try centre.committedCount("track_points") == 9)
    }

    @Test func malformedAndOversizedBodiesNameTheProblemAndTouchNothing() async throws {
        let centre = try CentreHarness(maxBodyBytes: 4096)
        let key = try await centre.addDevice("car-12")
        let good = UplinkBatch(deviceID: "car-12", trackPoints: Sample.track(1...5, from: centre.now))
        try await centre.live { client in
            #expect(try await SignedRequest(device: "car-12", key: key, batch: good, time: centre.now).send(client).status == .ok)

            var truncated = SignedRequest(device: "car-12", key: key, batch: good, time: centre.now)
            truncated.body = UplinkBatch(deviceID: "car-12", trackPoints: Sample.track(6...9, from: centre.now)).encoded(deflate: false).dropLast(3)
            let malformed = try await truncated.send(client)
            #expect(malformed.status == .badRequest)
            #expect(malformed.json["error"] as? String == "malformed-batch")
            #expect((malformed.json["field"] as? String)?.hasPrefix("track[") == true)
            #expect(malformed.json["offset"] is Int)

            var notABatch = SignedRequest(device: "car-12", key: key, batch: good, time: centre.now)
            notABatch.body = Array(#"{"points":[]}"#.utf8)
            let wrongMagic = try await notABatch.send(client)
            #expect(wrongMagic.status == .badRequest)
            #expect(wrongMagic.json["field"] as? String == "header.magic")

            var huge = SignedRequest(device: "car-12", key: key, batch: good, time: centre.now)
            huge.body = Secrets.randomBytes(count: 10_000)
            let oversized = try await huge.send(client)
            #expect(oversized.status == .contentTooLarge)
            #expect((oversized.json["message"] as? String)?.contains("max_body_bytes") == true)

            var json = SignedRequest(device: "car-12", key: key, batch: good, time: centre.now)
            json.contentType = "application/json"
            #expect(try await json.send(client).status == .unsupportedMediaType)
        }
        #expect(try centre.committedCount("track_points") == 5)
    }

    @Test func alarmAcknowledgementIsCarriedDownlinkUntilAcknowledged() async throws {
        let centre = try CentreHarness()
        let key = try await centre.addDevice("booth-3")
        let token = try await centre.addStaff("ann")
        try await centre.live { client in
            let alarm = UplinkBatch(deviceID: "booth-3", events: [Sample.alarm(41, at: centre.now)])
            let first = try await SignedRequest(device: "booth-3", key: key, batch: alarm, time: centre.now).send(client)
            #expect(try first.decoded(IngestResponse.self).downlink.isEmpty)

            let staff: HTTPFields = [.authorization: "Bearer \(token)"]
            let open = try await client.execute(uri: "/v1/alarms?open=true", method: .get, headers: staff).decoded(AlarmList.self)
            let alarmID = try #require(open.alarms.first?.id)
            #expect(open.alarms.first?.sequence == 41)
            centre.advance(seconds: 5)
            let ack = try await client.execute(uri: "/v1/alarms/\(alarmID)/ack", method: .post, headers: staff)
            #expect(ack.status == .ok)
            #expect(try ack.decoded(AlarmView.self).acknowledgedBy == "ann")
            #expect(try await centre.storage.auditEntries(in: nil, limit: 10).map(\.action) == ["alarm-acknowledged"])
            let again = try await client.execute(uri: "/v1/alarms/\(alarmID)/ack", method: .post, headers: staff)
            #expect(again.status == .conflict)
            #expect(try await client.execute(uri: "/v1/alarms?open=true", method: .get, headers: staff).decoded(AlarmList.self).alarms.isEmpty)

            let heartbeat = UplinkBatch(deviceID: "booth-3", heartbeats: [UplinkHeartbeat(sequence: 1, time: centre.now, timeSource: "gnss")])
            let next = try await SignedRequest(device: "booth-3", key: key, batch: heartbeat, time: centre.now).send(client)
            let message = try #require(try next.decoded(IngestResponse.self).downlink.first)
            #expect(message.alarmSequence == 41)
            #expect(message.text == "alarm 41 acknowledged by operator ann at \(centre.now.iso8601)")

            var acknowledged = heartbeat
            acknowledged.downlinkAcknowledgedThrough = UInt64(message.id)
            let after = try await SignedRequest(device: "booth-3", key: key, batch: acknowledged, time: centre.now).send(client)
            #expect(try after.decoded(IngestResponse.self).downlink.isEmpty)
        }
    }

    @Test func coordinatesAtTheEndsOfSixtyFourBitsAreRejectedNotACrash() async throws {
        let centre = try CentreHarness()
        let key = try await centre.addDevice("car-12")
        var points = Sample.track(1...4, from: centre.now)
        points[0].latitudeE7 = .min
        points[1].longitudeE7 = .min
        points[2].latitudeE7 = .max
        var event = Sample.alarm(1, at: centre.now)
        event.position = UplinkEventPosition(latitudeE7: 0, longitudeE7: .min, fixAgeMilliseconds: .max)
        let batch = UplinkBatch(deviceID: "car-12", trackPoints: points, events: [event, Sample.alarm(2, at: centre.now)])
        let answer = try await centre.live { client in
            try await SignedRequest(device: "car-12", key: key, batch: batch, time: centre.now).send(client).decoded(IngestResponse.self)
        }
        #expect(answer.rejected.map(\.sequences) == [1...1, 2...2, 3...3, 1...1])
        #expect(answer.rejected.map(\.reason) == ["latitude is outside ±90°", "longitude is outside ±180°", "latitude is outside ±90°",
                                                  "position is outside the globe"])
        #expect(answer.accepted["track"] == [[4, 4]])
        #expect(answer.accepted["event"] == [[2, 2]])
    }

    @Test func aRunOfRefusedRecordsIsAnsweredAsOneRange() async throws {
        let centre = try CentreHarness()
        let key = try await centre.addDevice("car-12")
        var points = Sample.track(1...20_000, from: centre.now)
        for index in points.indices where index != 10_000 { points[index].latitudeE7 = 950_000_000 }
        let batch = UplinkBatch(deviceID: "car-12", trackPoints: points)
        let response = try await centre.live { client in
            try await SignedRequest(device: "car-12", key: key, batch: batch, time: centre.now).send(client)
        }
        let answer = try response.decoded(IngestResponse.self)
        #expect(answer.rejected == [RejectedRange(stream: .track, first: 1, last: 10_000, reason: "latitude is outside ±90°"),
                                    RejectedRange(stream: .track, first: 10_002, last: 20_000, reason: "latitude is outside ±90°")])
        #expect(answer.accepted["track"] == [[10_001, 10_001]])
        #expect(response.body.readableBytes < 1024)
    }

    @Test func aBatchOverTheRecordLimitIsRefusedWhole() async throws {
        let centre = try CentreHarness()
        let key = try await centre.addDevice("car-12")
        let points = Sample.track(1...100_001, from: centre.now) // the limit Docs/uplink-protocol.md gives, plus one
        let response = try await centre.live { client in
            try await SignedRequest(device: "car-12", key: key, batch: UplinkBatch(deviceID: "car-12", trackPoints: points),
                                    time: centre.now).send(client)
        }
        #expect(response.status == .badRequest)
        #expect(response.json["field"] as? String == "track.count")
        #expect((response.json["message"] as? String)?.contains("more than 100000 records") == true)
        #expect(try centre.committedCount("track_points") == 0)
    }
}
