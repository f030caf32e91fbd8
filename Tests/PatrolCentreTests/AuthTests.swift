import HTTPTypes
import HummingbirdTesting
import NIOCore
import PatrolCentre
import PatrolCore
import Testing

@Suite struct DeviceAuthTests {
    @Test func refusesUnknownWronglySignedRevokedAndReplayedRequests() async throws {
        let centre = try CentreHarness()
        let key = try await centre.addDevice("car-12")
        let revokedKey = try await centre.addDevice("car-99")
        _ = try await centre.storage.revokeDevice(id: "car-99", at: centre.now)
        let batch = UplinkBatch(deviceID: "car-12", trackPoints: Sample.track(1...3, from: centre.now))
        try await centre.live { client in
            let unknown = try await SignedRequest(device: "car-77", key: key, batch: batch, time: centre.now).send(client)
            #expect(unknown.status == .unauthorized)
            #expect(unknown.json["error"] as? String == "unknown-device")

            let forged = try await SignedRequest(device: "car-12", key: Secrets.randomBytes(), batch: batch, time: centre.now).send(client)
            #expect(forged.status == .unauthorized)
            #expect(forged.json["error"] as? String == "bad-signature")

            var tampered = SignedRequest(device: "car-12", key: key, batch: batch, time: centre.now)
            let headers = tampered.headers
            tampered.body = UplinkBatch(deviceID: "car-12", trackPoints: Sample.track(1...4, from: centre.now)).encoded()
            let moved = try await client.execute(uri: "/v1/ingest", method: .post, headers: headers, body: ByteBuffer(bytes: tampered.body))
            #expect(moved.status == .unauthorized)

            let revokedBatch = UplinkBatch(deviceID: "car-99", trackPoints: Sample.track(1...3, from: centre.now))
            let revoked = try await SignedRequest(device: "car-99", key: revokedKey, batch: revokedBatch, time: centre.now).send(client)
            #expect(revoked.status == .forbidden)
            #expect(revoked.json["error"] as? String == "revoked")

            let original = SignedRequest(device: "car-12", key: key, batch: batch, time: centre.now)
            #expect(try await original.send(client).status == .ok)
            let replay = try await original.send(client)
            #expect(replay.status == .unauthorized)
            #expect(replay.json["error"] as? String == "replayed")

            let unsigned = try await client.execute(uri: "/v1/ingest", method: .post, body: ByteBuffer(bytes: batch.encoded()))
            #expect(unsigned.status == .unauthorized)
        }
        #expect(try centre.committedCount("track_points") == 3)
    }

    @Test func aBoardWithAWrongClockIsToldTheCentresTime() async throws {
        let centre = try CentreHarness()
        let key = try await centre.addDevice("car-12")
        let bootedIn1980 = UTCTime(year: 1980, month: 1, day: 6)
        let batch = UplinkBatch(deviceID: "car-12", heartbeats: [UplinkHeartbeat(sequence: 1, time: centre.now, timeSource: "gnss")])
        try await centre.live { client in
            let skewed = try await SignedRequest(device: "car-12", key: key, batch: batch, time: bootedIn1980).send(client)
            #expect(skewed.status == .unauthorized)
            #expect(skewed.json["error"] as? String == "clock-skew")
            let centreTime = try #require(skewed.json["centreTimeMs"] as? Int64)
            #expect(centreTime == centre.now.millisecondsSinceEpoch)
            // The board corrects its offset and retries.
            let corrected = try await SignedRequest(device: "car-12", key: key, batch: batch,
                                                    time: UTCTime(millisecondsSinceEpoch: centreTime)).send(client)
            #expect(corrected.status == .ok)
        }
    }

    /// The timestamp is anyone's text: at the ends of 64 bits it is refused, never a trap; a time
    /// far off gets the centre's time so a board can fix its clock, a negative or signed number
    /// is no Unix time at all.
    @Test func aTimestampAtTheEndsOfSixtyFourBitsIsRefusedNotACrash() async throws {
        let centre = try CentreHarness()
        _ = try await centre.addDevice("car-12")
        try await centre.live { client in
            for (timestamp, refusal) in [(String(Int64.max), "clock-skew"), ("9223372036854775808", "bad-timestamp"),
                                         (String(Int64.min), "bad-timestamp"), (String(Int64.min + 1), "bad-timestamp"),
                                         ("+\(centre.now.millisecondsSinceEpoch)", "bad-timestamp")] {
                var headers = SignedRequest(device: "car-12", key: Secrets.randomBytes(), batch: UplinkBatch(deviceID: "car-12"),
                                            time: centre.now).headers
                headers[HTTPField.Name(RequestSignature.timestampHeader)!] = timestamp
                headers[HTTPField.Name(RequestSignature.signatureHeader)!] = String(repeating: "0", count: 64)
                let response = try await client.execute(uri: "/v1/ingest", method: .post, headers: headers, body: ByteBuffer(bytes: [1]))
                #expect(response.status == .unauthorized, "\(timestamp)")
                #expect(response.json["error"] as? String == refusal, "\(timestamp)")
                if refusal == "clock-skew" {
                    #expect(response.json["centreTimeMs"] as? Int == Int(centre.now.millisecondsSinceEpoch))
                }
            }
        }
    }

    @Test func aDeviceCannotWriteAsAnother() async throws {
        let centre = try CentreHarness()
        let key = try await centre.addDevice("car-12")
        _ = try await centre.addDevice("car-13")
        let impostor = UplinkBatch(deviceID: "car-13", events: [Sample.alarm(1, at: centre.now)])
        let response = try await centre.live { client in
            try await SignedRequest(device: "car-12", key: key, batch: impostor, time: centre.now).send(client)
        }
        #expect(response.status == .forbidden)
        #expect(response.json["error"] as? String == "device-mismatch")
        #expect(try centre.committedCount("events") == 0)
    }
}

@Suite struct StaffAPITests {
    @Test func staffNeedAKnownBearerToken() async throws {
        let centre = try CentreHarness()
        let token = try await centre.addStaff("ann")
        try await centre.live { client in
            #expect(try await client.execute(uri: "/v1/alarms", method: .get).status == .unauthorized)
            let wrong = try await client.execute(uri: "/v1/devices", method: .get, headers: [.authorization: "Bearer pst_nope"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.json["error"] as? String == "unknown-token")
            let right = try await client.execute(uri: "/v1/alarms", method: .get, headers: [.authorization: "Bearer \(token)"])
            #expect(right.status == .ok)
            let missing = try await client.execute(uri: "/v1/alarms/999/ack", method: .post, headers: [.authorization: "Bearer \(token)"])
            #expect(missing.status == .notFound)
        }
    }

    @Test func alarmIdsAreDigitsOnly() async throws {
        let centre = try CentreHarness()
        let token = try await centre.addStaff("ann")
        let key = try await centre.addDevice("car-12")
        try await centre.live { client in
            let alarm = UplinkBatch(deviceID: "car-12", events: [Sample.alarm(1, at: centre.now)])
            #expect(try await SignedRequest(device: "car-12", key: key, batch: alarm, time: centre.now).send(client).status == .ok)
            let staff: HTTPFields = [.authorization: "Bearer \(token)"]
            let id = try #require(try await client.execute(uri: "/v1/alarms", method: .get, headers: staff).decoded(AlarmList.self).alarms.first?.id)
            for written in ["+\(id)", "-\(id)", "0x\(id)", "\(id)%20", "99999999999999999999", "9223372036854775808"] {
                let response = try await client.execute(uri: "/v1/alarms/\(written)/ack", method: .post, headers: staff)
                #expect(response.status == .badRequest, "alarm id \(written)")
                #expect(response.json["error"] as? String == "bad-alarm-id")
            }
            #expect(try await client.execute(uri: "/v1/alarms/\(id)/ack", method: .post, headers: staff).status == .ok)
        }
    }

    @Test func devicesWithNothingHeardForTheSilenceTimeAreListedSilent() async throws {
        let centre = try CentreHarness()
        let token = try await centre.addStaff("ann")
        let key = try await centre.addDevice("car-12")
        _ = try await centre.addDevice("car-13")
        let staff: HTTPFields = [.authorization: "Bearer \(token)"]
        try await centre.live { client in
            let heartbeat = UplinkBatch(deviceID: "car-12", heartbeats: [UplinkHeartbeat(sequence: 1, time: centre.now, timeSource: "gnss")])
            #expect(try await SignedRequest(device: "car-12", key: key, batch: heartbeat, time: centre.now).send(client).status == .ok)
            centre.advance(seconds: 30)
            var list = try await client.execute(uri: "/v1/devices", method: .get, headers: staff).decoded(DeviceList.self)
            #expect(list.devices.map(\.silent) == [false, true]) // car-13 was never heard
            centre.advance(seconds: 31)
            list = try await client.execute(uri: "/v1/devices", method: .get, headers: staff).decoded(DeviceList.self)
            #expect(list.devices.map(\.silent) == [true, true])
            #expect(list.devices[0].lastSeenMs == centre.now.millisecondsSinceEpoch - 61_000)
        }
    }
}
