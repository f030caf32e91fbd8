import FoundationEssentials
import PatrolCore
import PatrolUplink
import Synchronization

/// The PatrolLink centre: `POST /v1/ingest`, HMAC-signed, as `Docs/uplink-protocol.md` describes.
///
/// Boards have no real-time clock, so the output keeps the offset the centre reports on a
/// `clock-skew` refusal and signs with the corrected time from then on (one immediate retry).
///
/// The centre's downlink messages are this protocol's business: the output confirms the highest
/// message id it has passed on in its next batch (the centre resends later ones until then), and
/// hands the runner the alarm acknowledgements among them.
public final class CentreHTTPOutput: UplinkOutput {
    public let name: String
    public let deviceID: String
    public let streams: Set<StoreStream> = [.event, .track]
    private let key: [UInt8]
    private let endpoint: HTTPEndpoint
    private let connection: HTTPConnection
    private let timeout: Duration
    private let systemMilliseconds: @Sendable () -> Int64
    /// Centre time minus the board's system time, learned from the centre.
    private let clockOffset = Mutex<Int64>(0)
    /// The highest downlink message id passed on to the runner.
    private let downlinkHandled = Mutex<UInt64>(0)

    /// - Parameters:
    ///   - key: the device key (`patrol-centre devices add` prints it in hex).
    ///   - timeout: how long a request may take, from sending to the end of the answer.
    public init(name: String, deviceID: String, key: [UInt8], endpoint: HTTPEndpoint, tls: TLSFiles = TLSFiles(),
                timeout: Duration = .seconds(30),
                systemMilliseconds: @escaping @Sendable () -> Int64) throws(UplinkLinkError) {
        self.name = name
        self.deviceID = deviceID
        self.key = key
        self.endpoint = endpoint
        self.timeout = timeout
        self.systemMilliseconds = systemMilliseconds
        connection = try HTTPConnection(endpoint: endpoint, tls: endpoint.usesTLS ? tls : nil)
    }

    public var target: String { endpoint.basePath + "/v1/ingest" }

    public var destination: String { endpoint.description }

    public func send(_ batch: OutboundBatch) async throws(UplinkLinkError) -> UplinkVerdict {
        let body = wireBatch(batch).encoded()
        var reply = try await post(body)
        if reply.status == 401, let error = try? JSONDecoder().decode(ErrorReply.self, from: Data(reply.body)),
           error.error == "clock-skew", let centreTime = error.centreTimeMs {
            clockOffset.withLock { $0 = centreTime - systemMilliseconds() }
            reply = try await post(body)
        }
        return try verdict(reply)
    }

    /// The round in the centre's batch format: typed events become `UplinkEvent`s (kind code,
    /// detail and fix label in the payload), a heartbeat round a heartbeat record.
    func wireBatch(_ batch: OutboundBatch) -> UplinkBatch {
        var wire = UplinkBatch(deviceID: deviceID, downlinkAcknowledgedThrough: downlinkHandled.withLock { $0 },
                               trackPoints: batch.track + (batch.live.map { [$0] } ?? []),
                               events: batch.events.map(UplinkEvent.init))
        if batch.isHeartbeat {
            let now = UTCTime(millisecondsSinceEpoch: systemMilliseconds())
            // The time is the heartbeat's identity: unique per device without keeping a counter.
            wire.heartbeats = [UplinkHeartbeat(sequence: UInt64(max(0, now.millisecondsSinceEpoch)), time: now, timeSource: "system",
                                               pendingRecords: UInt64(max(0, batch.pendingRecords)))]
        }
        return wire
    }

    private func post(_ body: [UInt8]) async throws(UplinkLinkError) -> HTTPReply {
        let timestamp = systemMilliseconds() + clockOffset.withLock { $0 }
        var random = SystemRandomNumberGenerator()
        let nonce = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &random) })
        let signature = RequestSignature.signature(key: key, method: "POST", path: target, timestampMilliseconds: timestamp,
                                                   nonce: nonce, body: body)
        return try await connection.post(target: target, headers: [
            ("Content-Type", UplinkBatch.contentType),
            (RequestSignature.deviceHeader, deviceID),
            (RequestSignature.timestampHeader, String(timestamp)),
            (RequestSignature.nonceHeader, nonce),
            (RequestSignature.signatureHeader, signature),
        ], body: body, timeout: timeout)
    }

    /// Reads the centre's answer. Only a well-formed 200 tells what was stored; 400 and 413 are
    /// about this batch and will never change; everything else leaves the batch's fate unknown.
    private func verdict(_ reply: HTTPReply) throws(UplinkLinkError) -> UplinkVerdict {
        let decoder = JSONDecoder()
        switch reply.status {
        case 200:
            guard let answer = try? decoder.decode(IngestResponse.self, from: Data(reply.body)) else {
                throw UplinkLinkError("the centre answered 200 with a body that is not an ingest answer (\(reply.body.count) bytes)")
            }
            return .answered(answer.answer(after: downlinkHandled))
        case 400, 413:
            let error = try? decoder.decode(ErrorReply.self, from: Data(reply.body))
            return .refused(reason: "HTTP \(reply.status) \(error?.error ?? ""): \(error?.message ?? "no reason given")")
        default:
            let error = try? decoder.decode(ErrorReply.self, from: Data(reply.body))
            let detail = error.map { "\($0.error): \($0.message ?? "")" } ?? "\(reply.body.count) bytes that are not a centre error"
            throw UplinkLinkError("the centre answered HTTP \(reply.status) (\(detail))")
        }
    }

    /// Closes the kept-alive connection.
    public func close() async {
        await connection.close()
    }
}

extension IngestResponse {
    /// The answer as the uplink runner takes it; unknown stream names and malformed ranges are
    /// left out (so the records they would cover are sent again, never wrongly settled). Downlink
    /// messages after `handled` are passed on once (acknowledgements) and `handled` moves past
    /// them; a message of a type this agent does not know is confirmed all the same, so the
    /// centre stops resending it.
    func answer(after handled: borrowing Mutex<UInt64>) -> UplinkAnswer {
        var ranges: [StoreStream: [ClosedRange<UInt64>]] = [:]
        for (name, pairs) in accepted {
            guard let stream = StoreStream(rawValue: name) else { continue }
            ranges[stream] = pairs.compactMap { $0.count == 2 && $0[0] <= $0[1] ? $0[0]...$0[1] : nil }
        }
        let acknowledgements = handled.withLock { handled in
            var acknowledgements: [UplinkAcknowledgement] = []
            for message in downlink where message.id > 0 && UInt64(message.id) > handled {
                if message.type == "alarm-acknowledged", let alarm = message.alarmSequence, let sequence = Int64(exactly: alarm) {
                    acknowledgements.append(UplinkAcknowledgement(eventSequence: sequence, acknowledgedBy: message.by, text: message.text))
                }
                handled = UInt64(message.id)
            }
            return acknowledgements
        }
        return UplinkAnswer(
            accepted: ranges,
            rejected: rejected.compactMap { rejection in
                guard rejection.first <= rejection.last, let stream = StoreStream(rawValue: rejection.stream.rawValue) else { return nil }
                return UplinkAnswer.Rejection(stream: stream, sequences: rejection.sequences, reason: rejection.reason)
            },
            acknowledgements: acknowledgements)
    }
}

extension UplinkEvent {
    /// The stored event as the centre's wire carries it.
    init(_ stored: StoredEvent) {
        let event = stored.event
        let position = event.position.coordinate.map {
            UplinkEventPosition(latitudeE7: Int64(($0.latitude * 1e7).rounded()), longitudeE7: Int64(($0.longitude * 1e7).rounded()),
                                fixAgeMilliseconds: UInt64(max(0, event.position.ageMilliseconds ?? 0)))
        }
        self.init(sequence: UInt64(stored.sequence), kind: event.kind.code, time: event.time.utc, timeSource: event.time.source.rawValue,
                  position: position, buttonID: event.inputID, payloadJSON: event.payloadJSON)
    }
}

/// Body of every centre error.
private struct ErrorReply: Decodable {
    var error: String
    var message: String?
    var centreTimeMs: Int64?
}
