import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PatrolCore

/// The HTTP API: device ingest (HMAC-signed) and the staff API (bearer tokens).
/// `Docs/openapi.json` describes every route registered here; `OpenAPITests` keeps the two equal.
struct CentreRoutes: Sendable {
    let storage: any CentreStorage
    let configuration: CentreConfig
    let clock: CentreClock
    let devices: DeviceAuthenticator
    let staff: StaffAuthenticator
    let requestLimit = DeviceRequestLimit()
    let logger: Logger

    init(storage: any CentreStorage, configuration: CentreConfig, clock: CentreClock, logger: Logger) {
        self.storage = storage
        self.configuration = configuration
        self.clock = clock
        self.devices = DeviceAuthenticator(storage: storage, clock: clock, clockSkewSeconds: configuration.clockSkewSeconds, logger: logger)
        self.staff = StaffAuthenticator(storage: storage, logger: logger)
        self.logger = logger
    }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/v1/health") { _, _ in HealthView(status: "ok", centreTimeMs: clock.now().millisecondsSinceEpoch) }
        router.post("/v1/ingest", use: ingest)
        router.get("/v1/alarms", use: listAlarms)
        router.post("/v1/alarms/{id}/ack", use: acknowledgeAlarm)
        router.get("/v1/devices", use: listDevices)
    }

    // MARK: Devices

    @Sendable func ingest(_ request: Request, context: BasicRequestContext) async throws -> IngestResponse {
        if let claimed = HTTPField.Name(RequestSignature.deviceHeader).flatMap({ request.headers[$0] }) {
            try await requestLimit.refuseEarly(claimedDevice: claimed)
        }
        let body = try await collectBody(request)
        let deviceID = try await devices.authenticate(request, body: body)
        try requestLimit.admit(deviceID)
        defer { requestLimit.release(deviceID) }
        guard request.headers[.contentType] == UplinkBatch.contentType else {
            throw CentreError(.unsupportedMediaType, code: "unsupported-media-type",
                              message: "send the body as \(UplinkBatch.contentType) (see Docs/uplink-protocol.md)")
        }
        let batch: UplinkBatch
        do {
            batch = try UplinkBatch.decode(body, limits: UplinkLimits(maxDecodedBytes: configuration.maxBodyBytes * 16))
        } catch {
            logger.warning("refused malformed batch", metadata: ["device": "\(deviceID)", "problem": "\(error)"])
            throw CentreError(.badRequest, code: "malformed-batch", message: error.message, field: error.field, offset: error.offset)
        }
        guard batch.deviceID == deviceID else {
            logger.warning("refused batch for another device", metadata: ["device": "\(deviceID)", "claimed": "\(batch.deviceID)"])
            throw CentreError(.forbidden, code: "device-mismatch",
                              message: "the batch is for device '\(batch.deviceID)' but the request is signed by '\(deviceID)'",
                              field: "deviceID")
        }
        let check = BatchCheck(batch)
        let downlink = try await storage.ingest(check.accepted, at: clock.now())
        return IngestResponse(centreTimeMs: clock.now().millisecondsSinceEpoch, accepted: check.acceptedRanges,
                              rejected: check.rejected, downlink: downlink.map(DownlinkView.init))
    }

    /// The whole body, or 413 naming the limit: the signature covers the body, so it must be read whole.
    private func collectBody(_ request: Request) async throws -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            logger.warning("refused oversized body", metadata: ["path": "\(request.uri.path)"])
            throw CentreError(.contentTooLarge, code: "body-too-large",
                              message: "the body exceeds limits.max_body_bytes = \(configuration.maxBodyBytes) bytes; send smaller batches")
        }
    }

    // MARK: Staff

    @Sendable func listAlarms(_ request: Request, context: BasicRequestContext) async throws -> AlarmList {
        _ = try await staff.authenticate(request)
        let openOnly = request.uri.queryParameters.get("open") == "true"
        return AlarmList(alarms: try await storage.alarms(openOnly: openOnly).map(AlarmView.init))
    }

    @Sendable func acknowledgeAlarm(_ request: Request, context: BasicRequestContext) async throws -> AlarmView {
        let name = try await staff.authenticate(request)
        guard let id = context.parameters.get("id", as: Int64.self) else {
            throw CentreError(.badRequest, code: "bad-alarm-id", message: "the alarm id must be a whole number", field: "id")
        }
        switch try await storage.acknowledgeAlarm(id: id, by: name, at: clock.now()) {
        case .acknowledged(let alarm):
            logger.info("alarm acknowledged", metadata: ["alarm": "\(id)", "by": "\(name)"])
            return AlarmView(alarm)
        case .alreadyAcknowledged(let alarm):
            throw CentreError(.conflict, code: "already-acknowledged",
                              message: "alarm \(id) was acknowledged by \(alarm.acknowledgedBy ?? "?") at \(alarm.acknowledgedAt?.iso8601 ?? "?")")
        case .notFound:
            throw CentreError(.notFound, code: "no-such-alarm", message: "there is no alarm \(id)")
        }
    }

    @Sendable func listDevices(_ request: Request, context: BasicRequestContext) async throws -> DeviceList {
        _ = try await staff.authenticate(request)
        let now = clock.now()
        let devices = try await storage.devices().map {
            DeviceView($0, now: now, silentAfterSeconds: configuration.silentAfterSeconds)
        }
        return DeviceList(silentAfterSeconds: configuration.silentAfterSeconds, devices: devices)
    }
}
