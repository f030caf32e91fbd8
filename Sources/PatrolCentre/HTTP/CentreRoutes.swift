import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PatrolCore

/// The HTTP API: device ingest (HMAC-signed) and the staff API (bearer tokens), each staff route
/// within the token's staff member's scope (`StaffMember.scope`).
/// `Docs/openapi.json` describes every route registered here; `OpenAPITests` keeps the two equal.
struct CentreRoutes: Sendable {
    let storage: any CentreStorage
    let configuration: CentreConfig
    let clock: CentreClock
    let devices: DeviceAuthenticator
    let staff: StaffAuthenticator
    let bodyBudget: BodyBudget
    let requestLimit: DeviceRequestLimit
    /// Told of every committed batch and acknowledgement (the console's live feed listens).
    let changes: CentreChanges
    /// Refusals are logged through this, throttled: a hostile client must not flood the log.
    let refusals: RefusalLog
    let logger: Logger

    init(storage: any CentreStorage, configuration: CentreConfig, clock: CentreClock, changes: CentreChanges, logger: Logger) {
        self.storage = storage
        self.changes = changes
        self.configuration = configuration
        self.clock = clock
        let refusals = RefusalLog(logger: logger)
        self.refusals = refusals
        self.devices = DeviceAuthenticator(storage: storage, clock: clock, clockSkewSeconds: configuration.clockSkewSeconds,
                                           refusals: refusals)
        self.staff = StaffAuthenticator(storage: storage, refusals: refusals)
        self.requestLimit = DeviceRequestLimit(refusals: refusals)
        self.bodyBudget = BodyBudget(totalBytes: configuration.maxBufferedBodyBytes)
        self.logger = logger
    }

    func register(on router: Router<CentreRequestContext>) {
        router.get("/v1/health") { _, _ in HealthView(status: "ok", centreTimeMs: clock.now().millisecondsSinceEpoch) }
        router.post("/v1/ingest", use: ingest)
        router.get("/v1/alarms", use: listAlarms)
        router.post("/v1/alarms/{id}/ack", use: acknowledgeAlarm)
        router.get("/v1/devices", use: listDevices)
    }

    // MARK: Devices

    @Sendable func ingest(_ request: Request, context: CentreRequestContext) async throws -> IngestResponse {
        // Everything the headers can decide is decided before a byte of the body is read.
        let signed = try await devices.authenticateHeaders(request)
        try await requestLimit.refuseEarly(claimedDevice: signed.deviceID)
        guard request.headers[.contentType] == UplinkBatch.contentType else {
            throw CentreError(.unsupportedMediaType, code: "unsupported-media-type",
                              message: "send the body as \(UplinkBatch.contentType) (see Docs/uplink-protocol.md)")
        }
        // The reservation covers the body until the answer: it is held through decoding and storing.
        let length = try declaredLength(request)
        guard bodyBudget.reserve(length) else {
            refusals.refused("refused a body: the budget for request bodies is spent", reason: "busy", metadata: ["length": "\(length)"])
            var error = CentreError(.serviceUnavailable, code: "busy",
                                    message: "the centre holds limits.max_buffered_body_bytes of request bodies already; retry shortly")
            error.retryAfterSeconds = 1
            throw error
        }
        defer { bodyBudget.release(length) }
        let body = try await collectBody(request, length: length)
        let nonce = try devices.verify(signed, body: body)
        let deviceID = signed.deviceID
        try requestLimit.admit(deviceID)
        defer { requestLimit.release(deviceID) }
        let batch: UplinkBatch
        do {
            // A body deflates a batch 2–4×; 16× is a bomb, whatever the protocol's own ceiling.
            batch = try UplinkBatch.decode(body, limits: UplinkLimits(maxDecodedBytes: min(UplinkLimits().maxDecodedBytes,
                                                                                           configuration.maxBodyBytes * 16)))
        } catch {
            refusals.refused("refused malformed batch", reason: "malformed-batch", metadata: ["device": "\(deviceID)", "problem": "\(error)"])
            throw CentreError(.badRequest, code: "malformed-batch", message: error.message, field: error.field, offset: error.offset)
        }
        guard batch.deviceID == deviceID else {
            refusals.refused("refused batch for another device", reason: "device-mismatch",
                             metadata: ["device": "\(deviceID)", "claimed": "\(RefusalLog.quoted(batch.deviceID))"])
            throw CentreError(.forbidden, code: "device-mismatch",
                              message: "the batch is for device '\(batch.deviceID)' but the request is signed by '\(deviceID)'",
                              field: "deviceID")
        }
        let check = BatchCheck(batch)
        guard case .stored(let downlink) = try await storage.ingest(check.accepted, usingUp: nonce, at: clock.now()) else {
            throw devices.replayed(device: deviceID)
        }
        let committedAt = clock.now()
        changes.publish(.ingested(device: deviceID, events: check.accepted.events, committedAt: committedAt))
        return IngestResponse(centreTimeMs: committedAt.millisecondsSinceEpoch, accepted: check.acceptedRanges,
                              rejected: check.rejected, downlink: downlink.map(DownlinkView.init))
    }

    /// The body's declared length, within `max_body_bytes` (else 413, before reading it); a body
    /// must declare it, so that it can be reserved from the budget of bytes all requests may hold.
    private func declaredLength(_ request: Request) throws -> Int {
        guard let lengthText = request.headers[.contentLength] else {
            throw CentreError(.lengthRequired, code: "length-required", message: "send the body with a Content-Length header")
        }
        guard let length = Int64(strictDecimal: lengthText).map(Int.init), length <= configuration.maxBodyBytes else {
            refusals.refused("refused oversized body", reason: "body-too-large",
                             metadata: ["path": "\(RefusalLog.quoted(request.uri.path))", "length": "\(RefusalLog.quoted(lengthText))"])
            throw CentreError(.contentTooLarge, code: "body-too-large",
                              message: "the body exceeds limits.max_body_bytes = \(configuration.maxBodyBytes) bytes; send smaller batches")
        }
        return length
    }

    /// The whole body (the signature covers it), `length` bytes reserved from the budget. The
    /// connection guard times out a slow body.
    private func collectBody(_ request: Request, length: Int) async throws -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: length)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw CentreError(.badRequest, code: "body-too-long", message: "the body is longer than its Content-Length")
        }
    }

    // MARK: Staff

    @Sendable func listAlarms(_ request: Request, context: CentreRequestContext) async throws -> AlarmList {
        let member = try await staff.authenticate(request, as: .operator)
        let openOnly = request.uri.queryParameters.get("open") == "true"
        return AlarmList(alarms: try await storage.alarms(openOnly: openOnly, in: member.scope).map(AlarmView.init))
    }

    @Sendable func acknowledgeAlarm(_ request: Request, context: CentreRequestContext) async throws -> AlarmView {
        let member = try await staff.authenticate(request, as: .operator)
        let name = member.name
        let id = try context.alarmID()
        let alarm = try await storage.acknowledge(alarm: id, by: name, scope: member.scope, note: nil, address: context.clientAddress,
                                                  at: clock.now(), changes: changes).acknowledgedAlarm(id: id)
        logger.info("alarm acknowledged", metadata: ["alarm": "\(id)", "by": "\(name)"])
        return AlarmView(alarm)
    }

    @Sendable func listDevices(_ request: Request, context: CentreRequestContext) async throws -> DeviceList {
        let member = try await staff.authenticate(request, as: .admin)
        let now = clock.now()
        let devices = try await storage.devices(in: member.scope).map {
            DeviceView($0, now: now, silentAfterSeconds: configuration.silentAfterSeconds)
        }
        return DeviceList(silentAfterSeconds: configuration.silentAfterSeconds, devices: devices)
    }
}
