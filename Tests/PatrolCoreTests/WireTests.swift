#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PatrolTestSupport
import Testing
@testable import PatrolCore

@Suite struct SHA256Tests {
    /// FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2 additional") and one block-boundary length.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func matchesTheStandardsVectors(message: String, digest: String) {
        #expect(Hex.encode(SHA256.hash(Array(message.utf8))) == digest)
    }

    @Test func matchesTheMillionAVector() {
        let digest = SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        #expect(Hex.encode(digest) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func feedingInPiecesGivesTheSameDigest() {
        let message = Array((0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        var hasher = SHA256()
        hasher.update(message[..<3])
        hasher.update(Array(message[3..<130]))
        hasher.update(message[130...])
        #expect(hasher.finalize() == SHA256.hash(message))
    }
}

@Suite struct HMACSHA256Tests {
    /// RFC 4231 test cases 1, 2, 3, 4, 6 and 7 (case 5 is a truncated output).
    @Test(arguments: [
        (String(repeating: "0b", count: 20), Hex.encode("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (Hex.encode("Jefe".utf8), Hex.encode("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (String(repeating: "aa", count: 20), String(repeating: "dd", count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        ("0102030405060708090a0b0c0d0e0f10111213141516171819", String(repeating: "cd", count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (String(repeating: "aa", count: 131), Hex.encode("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (String(repeating: "aa", count: 131), Hex.encode(("This is a test using a larger than block-size key and a larger "
            + "than block-size data. The key needs to be hashed before being used by the HMAC algorithm.").utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ])
    func matchesRFC4231(keyHex: String, dataHex: String, code: String) throws {
        let key = try #require(Hex.decode(keyHex))
        let data = try #require(Hex.decode(dataHex))
        #expect(Hex.encode(HMACSHA256.authenticationCode(for: data, key: key)) == code)
    }

    @Test func comparesCodesWholly() {
        #expect(HMACSHA256.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!HMACSHA256.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!HMACSHA256.constantTimeEquals([1, 2], [1, 2, 3]))
    }
}

@Suite struct UplinkBatchTests {
    static let start = UTCTime(year: 2026, month: 3, day: 1).millisecondsSinceEpoch

    /// A car driving a wobbly loop at 1 Hz with realistic noise in every field; parked for a
    /// stretch in the middle, as a day's backlog would be.
    static func dayOfDriving(points count: Int, firstSequence: UInt64 = 1) -> [TrackRecord] {
        var random = SplitMix(seed: 42)
        var latitude: Int64 = 525_200_000, longitude: Int64 = 134_050_000
        var heading = 0.0
        return (0..<count).map { index in
            let parked = (count / 3..<count / 2).contains(index)
            let speed = parked ? 0.0 : 8 + Double(random.next() % 800) / 100
            heading += parked ? 0 : Double(Int(random.next() % 11) - 5)
            latitude += Int64(speed * 90 * cos(heading)) + Int64(random.next() % 7) - 3
            longitude += Int64(speed * 140 * sin(heading)) + Int64(random.next() % 7) - 3
            return TrackRecord(
                sequence: firstSequence + UInt64(index), timeMilliseconds: start + Int64(index) * 1000,
                latitudeE7: latitude, longitudeE7: longitude, mode: .threeD,
                altitudeDecimetres: 340 + Int64(random.next() % 5), speedCentimetresPerSecond: Int64(speed * 100),
                trackCentidegrees: Int64((heading.truncatingRemainder(dividingBy: 360) + 360).truncatingRemainder(dividingBy: 360) * 100),
                hdopHundredths: 90 + Int64(random.next() % 20), satellitesUsed: 9 + Int64(random.next() % 3))
        }
    }

    static let sampleEvents = [
        UplinkEvent(sequence: 7, kind: "panic", time: UTCTime(millisecondsSinceEpoch: start + 5_000), timeSource: "gnss",
                    position: UplinkEventPosition(latitudeE7: 525_200_000, longitudeE7: 134_050_000, fixAgeMilliseconds: 800),
                    buttonID: "panic-1", payloadJSON: #"{"pressed_ms":2100}"#),
        UplinkEvent(sequence: 8, kind: "fault", time: UTCTime(millisecondsSinceEpoch: start + 9_000), timeSource: "system"),
    ]

    @Test(arguments: [true, false])
    func roundTripsEveryField(deflate: Bool) throws {
        var points = Self.dayOfDriving(points: 50, firstSequence: 1000)
        points[3].altitudeDecimetres = nil
        points[4].satellitesUsed = nil
        points[5].mode = .twoD
        points[9].sequence += 5 // a gap: sequences need not be consecutive
        for index in 10..<points.count { points[index].sequence += 5 }
        let batch = UplinkBatch(deviceID: "car-12", downlinkAcknowledgedThrough: 3, trackPoints: points,
                                events: Self.sampleEvents,
                                heartbeats: [UplinkHeartbeat(sequence: 1, time: UTCTime(millisecondsSinceEpoch: Self.start), timeSource: "gnss", pendingRecords: 12)])
        #expect(try UplinkBatch.decode(batch.encoded(deflate: deflate)) == batch)
    }

    /// The issue's budget: a 24-hour 1 Hz backlog at ≤ 10 bytes per point all-in. The encoding
    /// itself must leave room for TLS records and HTTP headers (well under 1 byte a point in MB batches).
    @Test func aDayOfTrackFitsTheByteBudget() throws {
        let points = Self.dayOfDriving(points: 86_400)
        let bodyBytes = UplinkBatch(deviceID: "car-12", trackPoints: points).encoded().count
        let perPoint = Double(bodyBytes) / Double(points.count)
        print("a day of 1 Hz track: \(bodyBytes) bytes, \(perPoint) bytes per point")
        #expect(perPoint < 8, "\(perPoint) bytes per point")
    }

    @Test func malformedBodiesNameTheFieldAndOffset() {
        #expect(throws: WireError(field: "header.magic", offset: 0, message: "not a PatrolLink batch (expected \"PLB\")")) {
            try UplinkBatch.decode(Array("{\"json\":1}".utf8))
        }
        let good = UplinkBatch(deviceID: "car-12", events: Self.sampleEvents).encoded(deflate: false)
        let truncated = Array(good.dropLast(4))
        do {
            _ = try UplinkBatch.decode(truncated)
            Issue.record("a truncated body decoded")
        } catch {
            #expect(error.field.hasPrefix("events[1]"))
            #expect(error.offset > 5)
        }
        let bomb = UplinkBatch(deviceID: "car-12", trackPoints: Self.dayOfDriving(points: 1000)).encoded()
        #expect(throws: WireError.self) { try UplinkBatch.decode(bomb, limits: UplinkLimits(maxDecodedBytes: 1000)) }
    }

    @Test func implausibleRecordsAreFlaggedNotThrown() throws {
        var point = Self.dayOfDriving(points: 1)[0]
        #expect(point.problem == nil)
        point.latitudeE7 = 910_000_000
        let decoded = try UplinkBatch.decode(UplinkBatch(deviceID: "d", trackPoints: [point]).encoded())
        #expect(decoded.trackPoints[0].problem?.contains("latitude") == true)
        var event = Self.sampleEvents[0]
        event.payloadJSON = "not json"
        #expect(event.problem == "payload must be a JSON object")
    }
}

/// A small deterministic generator, so the size test measures the same track every run.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct DeflateBoundsTests {
    /// The declared length is the sender's claim: inflating allocates as bytes come out, so a
    /// stream of three bytes declaring 512 MiB costs next to nothing (it used to allocate it all).
    @Test func aDeclaredLengthAllocatesNothingUntilBytesInflate() {
        resetPeakResident(of: getpid())
        let before = peakResidentBytes(of: getpid()) ?? 0
        #expect(Deflate.decompress(ArraySlice(Deflate.compress([1, 2, 3])), expectedCount: 512 << 20) == nil)
        let after = peakResidentBytes(of: getpid()) ?? .max
        #expect(after - before < 32 << 20, "peak resident grew by \((after - before) >> 20) MiB")
    }

    @Test func aStreamLongerOrShorterThanDeclaredIsRefused() {
        let bytes = [UInt8](repeating: 9, count: 300_000)
        let stream = ArraySlice(Deflate.compress(bytes))
        #expect(Deflate.decompress(stream, expectedCount: bytes.count) == bytes)
        #expect(Deflate.decompress(stream, expectedCount: bytes.count - 1) == nil)
        #expect(Deflate.decompress(stream, expectedCount: bytes.count + 1) == nil)
        #expect(Deflate.decompress(stream.dropLast(4), expectedCount: bytes.count) == nil)
        #expect(Deflate.decompress(ArraySlice(Array(stream) + [0]), expectedCount: bytes.count) == nil)
    }
}

@Suite struct SignatureHeaderTests {
    private func parse(device: String? = "car-12", timestamp: String? = "1780000000000", nonce: String? = "00112233445566778899aabbccddeeff",
                       signature: String? = "ab") -> Result<RequestSignature.Headers, RequestSignature.Headers.Problem> {
        RequestSignature.Headers.parse(device: device, timestamp: timestamp, nonce: nonce, signature: signature)
    }

    @Test func wellFormedHeadersParse() throws {
        let headers = try parse().get()
        #expect(headers.timestampMilliseconds == 1_780_000_000_000)
        #expect(headers.offset(from: 1_780_000_000_500) == -500)
    }

    @Test func eachMalformedHeaderIsNamed() {
        #expect(parse(signature: nil) == .failure(.missing))
        for timestamp in ["+1780000000000", "-5", "", "1e12", "9223372036854775808", " 1"] {
            #expect(parse(timestamp: timestamp) == .failure(.badTimestamp), "\(timestamp)")
        }
        for nonce in ["0011", String(repeating: "0", count: 66), "zz112233445566778899aabbccddeeff"] {
            #expect(parse(nonce: nonce) == .failure(.badNonce), "\(nonce)")
        }
        #expect(parse(device: String(repeating: "c", count: UplinkLimits.maxDeviceIDBytes + 1)) == .failure(.badDevice))
        #expect(parse(device: "") == .failure(.badDevice))
    }

    @Test func anOffsetThatDoesNotFitIsNilNotATrap() throws {
        let farFuture = try parse(timestamp: String(Int64.max)).get()
        #expect(farFuture.offset(from: -1) == nil)
        #expect(farFuture.offset(from: 0) == Int64.max)
    }

    @Test func strictDecimalTakesDigitsOnly() {
        #expect(Int64(strictDecimal: "5") == 5)
        #expect(Int64(strictDecimal: String(Int64.max)) == .max)
        for text in ["+5", "-5", "", "5 ", "٥", "0x5", "9223372036854775808"] {
            #expect(Int64(strictDecimal: text) == nil, "\(text)")
        }
    }
}
