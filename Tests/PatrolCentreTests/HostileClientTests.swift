import Foundation
import PatrolCore
import PatrolTestSupport
import Testing

/// The attacks of issue 9 against the real `patrol-centre serve` on loopback, each asserting what
/// an operator would notice: the centre stays up, its memory stays bounded, and a valid device's
/// alarm is still committed meanwhile. Limits and timeouts are configured small so each test takes
/// seconds.
@Suite(.serialized) struct HostileClientTests {
    /// What the centre may hold beyond its idle size in these tests: the body budget (8 MiB), one
    /// decoded batch and the runtime's slack. The attacks below would take 100 MiB and more.
    static let memoryBound = 64 << 20
    /// What it may keep a second after its largest batch was answered.
    static let memoryReturned = 8 << 20

    @Test func crashInputsAreRefusedAndTheCentreStaysUp() async throws {
        let centre = try HostileCentre()
        // Unauthenticated: an extreme timestamp with a junk signature.
        for (timestamp, refusal) in [(Int64.min, "bad-timestamp"), (Int64.max, "clock-skew")] {
            let response = try await centre.send(centre.request(timestamp: timestamp, body: [1], signature: String(repeating: "0", count: 64)))
            #expect(response?.status == 401)
            #expect(response?.text.contains(refusal) == true)
        }
        // Signed: coordinates that decode to Int64.min, in a track point and in an event.
        let point = TrackRecord(sequence: 1, timeMilliseconds: HostileCentre.nowMilliseconds(), latitudeE7: .min, longitudeE7: .min)
        var event = HostileCentre.alarm(sequence: 900)
        event.position = UplinkEventPosition(latitudeE7: .min, longitudeE7: .min, fixAgeMilliseconds: 0)
        let crash = try await centre.send(centre.request(body: UplinkBatch(deviceID: "car-12", trackPoints: [point], events: [event]).encoded()))
        #expect(crash?.status == 200)
        #expect(crash?.text.contains("outside") == true)
        #expect(centre.isUp)
        try await centre.expectAlarmCommitted(sequence: 1)
    }

    /// Each refusal is worth a log line, but a client refused hundreds of times must not write
    /// hundreds of lines: the first 20 of a reason in a minute are logged, the rest counted.
    @Test func refusalsDoNotFloodTheLog() async throws {
        let centre = try HostileCentre()
        var statuses: [Int?] = []
        for _ in 0..<200 {
            statuses.append(try await centre.send(centre.request(body: [1], signature: String(repeating: "0", count: 64)))?.status)
        }
        #expect(Set(statuses) == [401])
        let output = centre.process.process?.output ?? ""
        #expect(output.split(separator: "\n").filter { $0.contains("refused device request") }.count == 20)
        #expect(output.contains("20 refusals (bad-signature) logged"))
        try await centre.expectAlarmCommitted(sequence: 1)
    }

    @Test func amplificationByASignedDeviceIsBounded() async throws {
        let centre = try HostileCentre()
        let idle = try #require(centre.peakResident)
        // 17 bytes that declare 60 MiB decoded: refused before anything is allocated for it.
        var declared = WireWriter()
        declared.raw(UplinkBatch.magic + [UplinkBatch.version, 1])
        declared.unsigned(60 << 20)
        declared.raw(Deflate.compress([]))
        let lie = try await centre.send(centre.request(body: declared.bytes))
        #expect(lie?.status == 400)
        // A deflate bomb: 64 MiB of zeros in ~64 KB, declared as the most a batch may decode to.
        var bomb = WireWriter()
        bomb.raw(UplinkBatch.magic + [UplinkBatch.version, 1])
        bomb.unsigned(UInt64(UplinkLimits().maxDecodedBytes))
        bomb.raw(Deflate.compress([UInt8](repeating: 0, count: 64 << 20)))
        let exploded = try await centre.send(centre.request(body: bomb.bytes))
        #expect(exploded?.status == 400)
        // A million track points in a few KB: refused whole for the record limit.
        let start = HostileCentre.nowMilliseconds()
        let million = (1...1_000_000).map { TrackRecord(sequence: UInt64($0), timeMilliseconds: start, latitudeE7: 950_000_000, longitudeE7: 0) }
        let flood = try await centre.send(centre.request(body: UplinkBatch(deviceID: "car-12", trackPoints: million).encoded()))
        #expect(flood?.status == 400)
        #expect(flood?.text.contains("records") == true)
        // The most a batch may carry, every point refused: the answer is one range, not a list.
        let most = Array(million.prefix(UplinkLimits.maxRecordsPerBatch))
        let refused = try await centre.send(centre.request(body: UplinkBatch(deviceID: "car-12", trackPoints: most).encoded()))
        #expect(refused?.status == 200)
        #expect((refused?.body.count ?? .max) < 1024)
        #expect(centre.isUp)
        let peak = try #require(centre.peakResident)
        #expect(peak < idle + Self.memoryBound, "RSS peaked at \(peak >> 20) MiB from \(idle >> 20) MiB")
        // And gives the memory back: a moment later it is near its idle size again.
        try await Task.sleep(for: .seconds(1))
        let after = try #require(centre.resident)
        print("centre RSS: idle \(idle >> 20) MiB, peak \(peak >> 20) MiB, a second after the last batch \(after >> 20) MiB")
        #expect(after < idle + Self.memoryReturned, "RSS stays at \(after >> 20) MiB after the batches, from \(idle >> 20) MiB")
        try await centre.expectAlarmCommitted(sequence: 1)
    }

    @Test func bodiesAreNotReadBeforeTheHeadersAuthenticate() async throws {
        let centre = try HostileCentre()
        // Unknown device, stale time: refused at once, without waiting for the 4 MiB announced.
        for request in [centre.request(device: "nobody", body: [], contentLength: 4 << 20),
                        centre.request(timestamp: HostileCentre.nowMilliseconds() - 3_600_000, body: [], contentLength: 4 << 20)] {
            let connection = try RawHTTPConnection(port: centre.process.port, timeout: 1.5)
            connection.send(request)
            let response = await connection.readResponse()
            #expect(response?.status == 401)
            #expect(await connection.isClosedByPeer())
        }
        // A device sending a body over max_body_bytes reads the 413 (the runner then sends less).
        let tooLarge = try RawHTTPConnection(port: centre.process.port, timeout: 5)
        tooLarge.send(centre.request(body: [UInt8](repeating: 0, count: (4 << 20) + 1)))
        #expect(await tooLarge.readResponse()?.status == 413)
        #expect(centre.isUp)
    }

    @Test func manyStalledBodiesHoldOnlyTheBudget() async throws {
        let centre = try HostileCentre()
        let idle = try #require(centre.peakResident)
        // 40 peers with a known device id and a junk signature each send all but one byte of a
        // 4 MiB body and stall: 160 MiB if buffered. The budget (8 MiB) takes two; the rest get 503.
        let body = [UInt8](repeating: 7, count: 4 << 20)
        var stalled: [RawHTTPConnection] = []
        var busy = 0
        for _ in 0..<40 {
            let connection = try RawHTTPConnection(port: centre.process.port, timeout: 5)
            connection.send(centre.request(body: [], contentLength: body.count, signature: String(repeating: "0", count: 64)))
            connection.send(body.dropLast())
            stalled.append(connection)
        }
        let peak = try #require(centre.peakResident)
        #expect(peak < idle + Self.memoryBound, "RSS peaked at \(peak >> 20) MiB from \(idle >> 20) MiB")
        try await centre.expectAlarmCommitted(sequence: 1)
        for connection in stalled where await connection.readResponse()?.status == 503 { busy += 1 }
        #expect(busy >= 30)
        #expect(centre.isUp)
    }

    @Test func slowHeadersAndBodiesAreTimedOut() async throws {
        let centre = try HostileCentre()
        // Headers one byte at a time, never finished: closed at the header timeout (2 s), although
        // bytes keep coming.
        let trickle = try RawHTTPConnection(port: centre.process.port, timeout: 0.3)
        let started = Date()
        var closed = false
        for byte in Array("POST /v1/ingest HTTP/1.1\r\nX-Padding: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 100) {
            guard trickle.send([byte]) else {
                closed = true
                break
            }
            if await trickle.isClosedByPeer() {
                closed = true
                break
            }
        }
        #expect(closed)
        #expect(Date().timeIntervalSince(started) < 6)
        // A small body that stops half way: closed at the body timeout (2 s).
        let stall = try RawHTTPConnection(port: centre.process.port, timeout: 6)
        stall.send(centre.request(body: [UInt8](repeating: 1, count: 1000), signature: String(repeating: "0", count: 64)).dropLast(500))
        #expect(await stall.isClosedByPeer())
        #expect(centre.isUp)
    }

    @Test func slowlorisBeyondTheFileLimitDoesNotLockDevicesOut() async throws {
        // 256 files: room for 192 connections. 400 clients trickle headers and never finish, with a
        // header timeout long enough that only the connection limit can let a device in.
        let centre = try HostileCentre(headerTimeoutSeconds: 60, openFileLimit: 256)
        var slow: [RawHTTPConnection] = []
        for _ in 0..<400 {
            guard let connection = try? RawHTTPConnection(port: centre.process.port, timeout: 2) else { continue }
            connection.send("POST /v1/ingest HTTP/1.1\r\nX-Slow: ")
            slow.append(connection)
        }
        for connection in slow { connection.send("a") }
        try await centre.expectAlarmCommitted(sequence: 1, within: 5)
        #expect(centre.isUp)
    }
}

/// A real centre with small limits, a registered device `car-12`, and what the tests send it.
private struct HostileCentre {
    let folder: TemporaryDirectory
    let process: CentreProcess
    let key: [UInt8]

    init(headerTimeoutSeconds: Int = 2, openFileLimit: Int? = nil) throws {
        folder = try TemporaryDirectory(prefix: "centre-hostile")
        try FileManager.default.createDirectory(atPath: folder.file("centre"), withIntermediateDirectories: true)
        process = try CentreProcess(folder: folder.file("centre"), settings: """
            [limits]
            max_body_bytes = \(4 << 20)
            max_buffered_body_bytes = \(8 << 20)
            header_timeout_seconds = \(headerTimeoutSeconds)
            body_timeout_seconds = 2
            """, openFileLimit: openFileLimit)
        key = try #require(Hex.decode(try process.addDevice("car-12")))
        try process.start()
    }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func alarm(sequence: UInt64) -> UplinkEvent {
        UplinkEvent(sequence: sequence, kind: EventKind.panic(silent: false).code, time: UTCTime(millisecondsSinceEpoch: nowMilliseconds()),
                    timeSource: "gnss", buttonID: "panic", payloadJSON: "")
    }

    /// A POST /v1/ingest as the agent sends it, signed with the device's key unless `signature`
    /// is given; `contentLength` may announce more than `body`.
    func request(device: String = "car-12", timestamp: Int64 = HostileCentre.nowMilliseconds(), body: [UInt8], contentLength: Int? = nil,
                 signature: String? = nil) -> [UInt8] {
        var random = SystemRandomNumberGenerator()
        let nonce = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &random) })
        let signature = signature ?? RequestSignature.signature(key: key, method: "POST", path: "/v1/ingest",
                                                                timestampMilliseconds: timestamp, nonce: nonce, body: body)
        let head = "POST /v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(UplinkBatch.contentType)\r\n"
            + "Content-Length: \(contentLength ?? body.count)\r\n\(RequestSignature.deviceHeader): \(device)\r\n"
            + "\(RequestSignature.timestampHeader): \(timestamp)\r\n\(RequestSignature.nonceHeader): \(nonce)\r\n"
            + "\(RequestSignature.signatureHeader): \(signature)\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// Sends `request` on a new connection and reads the answer.
    func send(_ request: [UInt8], timeout: Double = 10) async throws -> RawHTTPConnection.Response? {
        let connection = try RawHTTPConnection(port: process.port, timeout: timeout)
        connection.send(request)
        return await connection.readResponse()
    }

    /// A valid device's panic gets its answer and is in the database within `seconds`.
    func expectAlarmCommitted(sequence: UInt64, within seconds: Double = 5) async throws {
        let started = Date()
        let batch = UplinkBatch(deviceID: "car-12", events: [Self.alarm(sequence: sequence)])
        let response = try await send(request(body: batch.encoded()), timeout: seconds)
        #expect(response?.status == 200, "the valid device's alarm got \(response.map { "\($0.status) \($0.text)" } ?? "no answer")")
        #expect(Date().timeIntervalSince(started) < seconds)
        #expect(try process.query("SELECT count(*) FROM events WHERE device = 'car-12' AND sequence = \(sequence)") == ["1"])
    }

    var isUp: Bool { process.process.map { !$0.hasExited } ?? false }

    var resident: Int? { process.process.flatMap { residentBytes(of: $0.pid) } }

    var peakResident: Int? { process.process.flatMap { peakResidentBytes(of: $0.pid) } }
}
