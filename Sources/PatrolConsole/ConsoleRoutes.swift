import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PatrolCentre
import PatrolCore
import PatrolCoverage
import ServiceLifecycle
import Synchronization

/// The web console, mounted on the centre's router by `patrol-centre serve`: the browser's files
/// under /console/, and its JSON API and live feed under /console/api (the contract with the
/// browser is /work/notes/console-api.md). Every route names the least role that may use it, and
/// reads and acts only within the caller's scope (`StaffMember.scope`): a street's staff get their
/// street's units, alarms, plans, devices and staff, and anything else answers as if it did not exist.
public struct ConsoleRoutes: Sendable {
    /// Console request bodies are a name and a password, or a note: anything longer is refused before it is read.
    static let maxBodyBytes = 8 * 1024
    /// An acknowledgement's note, in characters.
    static let maxNoteCharacters = 1000
    /// Password checks running at once: each takes ~0.1 s of a core and 32 MiB (scrypt), so a burst
    /// of sign-ins must not starve ingest.
    static let maxPasswordChecks = 2

    let storage: any CentreStorage
    let configuration: CentreConfig
    let clock: CentreClock
    let changes: CentreChanges
    let auth: ConsoleAuth
    let views: ConsoleLiveViews
    let feed: ConsoleFeed
    let logger: Logger
    private let passwordChecks = PasswordCheckSlots()

    public init(storage: any CentreStorage, configuration: CentreConfig, clock: CentreClock = .system,
                changes: CentreChanges, logger: Logger) {
        self.storage = storage
        self.configuration = configuration
        self.clock = clock
        self.changes = changes
        self.logger = logger
        auth = ConsoleAuth(storage: storage, clock: clock, settings: configuration.console,
                           bearer: StaffAuthenticator(storage: storage, refusals: RefusalLog(logger: logger)),
                           usesTLS: configuration.usesTLS)
        views = ConsoleLiveViews(storage: storage, clock: clock, silentAfterSeconds: configuration.silentAfterSeconds)
        feed = ConsoleFeed(changes: changes, views: views, logger: logger)
    }

    public func register(on router: Router<CentreRequestContext>) {
        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/console/"]) }
        let console = router.group("/console").add(middleware: ConsoleHeaders(tileOrigin: configuration.console.tileOrigin))
        console.get("/", use: index)
        console.get("/assets/**", use: asset)
        let api = console.group("/api")
        api.post("/session", use: signIn)
        api.get("/session", use: currentSession)
        api.delete("/session", use: signOut)
        api.get("/config", use: config)
        api.get("/units", use: units)
        api.get("/alarms", use: alarms)
        api.get("/alarms/{id}", use: alarmHistory)
        api.post("/alarms/{id}/ack", use: acknowledge)
        api.post("/alarms/{id}/escalate", use: escalate)
        api.get("/events", use: events)
        api.get("/plans/{name}", use: planView)
        api.get("/coverage", use: coverage)
        api.get("/tracks/{device}", use: track)
        api.get("/devices", use: devices)
        api.post("/devices", use: addDevice)
        api.post("/devices/{name}/revoke", use: revokeDevice)
        api.get("/staff", use: staff)
    }

    // MARK: Files

    @Sendable func index(_ request: Request, context: CentreRequestContext) async throws -> Response {
        try serve("index.html", request)
    }

    @Sendable func asset(_ request: Request, context: CentreRequestContext) async throws -> Response {
        try serve(context.parameters.getCatchAll().joined(separator: "/"), request)
    }

    /// The embedded file with its type, ETag and caching; deflated when the browser accepts it.
    /// `index.html` is revalidated on every load (so a new binary's page is seen at once); the
    /// rest may be cached for an hour and are revalidated by ETag after that.
    private func serve(_ path: String, _ request: Request) throws -> Response {
        guard let asset = ConsoleAsset.all[path] else {
            throw CentreError(.notFound, code: "no-such-asset", message: "the console has no file \(path)")
        }
        var headers: HTTPFields = [.contentType: asset.contentType, .eTag: asset.etag, .vary: "Accept-Encoding",
                                   .cacheControl: path == "index.html" ? "no-cache" : "max-age=3600"]
        if request.headers[values: .ifNoneMatch].contains(where: { $0.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == asset.etag } }) {
            return Response(status: .notModified, headers: headers)
        }
        var body = asset.bytes
        if let deflated = asset.deflated, Self.accepts("deflate", request) {
            headers[.contentEncoding] = "deflate"
            body = deflated
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Whether `Accept-Encoding` names `coding` without `q=0`.
    static func accepts(_ coding: String, _ request: Request) -> Bool {
        request.headers[values: .acceptEncoding].flatMap { $0.split(separator: ",") }.contains { item in
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            return parts.first?.lowercased() == coding && !parts.dropFirst().contains { $0.replacingOccurrences(of: " ", with: "") == "q=0" }
        }
    }

    // MARK: Session

    @Sendable func signIn(_ request: Request, context: CentreRequestContext) async throws -> Response {
        let body = try await smallBody(request, as: SignInBody.self)
        let name = String(body.name.prefix(128))
        let address = context.clientAddress
        let now = clock.now()
        let keys = [(SignInThrottle.nameKey(name), SignInThrottle.freeAttempts.name),
                    (SignInThrottle.addressKey(address), SignInThrottle.freeAttempts.address)]
        for (key, freeAttempts) in keys {
            if let failures = try await storage.signInFailures(key: key),
               let until = SignInThrottle.lockedUntil(failures, freeAttempts: freeAttempts), now < until {
                var error = CentreError(.tooManyRequests, code: "locked",
                                        message: "too many failed sign-ins; try again in \(Int(now.seconds(to: until).rounded(.up))) s")
                error.retryAfterSeconds = max(1, Int(now.seconds(to: until).rounded(.up)))
                throw error
            }
        }
        guard passwordChecks.take(limit: Self.maxPasswordChecks) else {
            var error = CentreError(.serviceUnavailable, code: "busy", message: "other sign-ins are being checked; retry in a moment")
            error.retryAfterSeconds = 1
            throw error
        }
        let member: StaffMember?
        let matches: Bool
        do {
            defer { passwordChecks.release() }
            member = try await storage.staffMember(name: name)
            if let stored = member?.passwordHash {
                matches = PasswordHash.verify(body.password, against: stored)
            } else {
                PasswordHash.spendCheckTime(body.password)
                matches = false
            }
        }
        guard matches, let member else {
            try await storage.appendAudit(AuditEntry(time: now, actor: name, action: AuditEntry.Action.signInFailed, address: address,
                                                     detail: member == nil ? "no such staff member" : member?.passwordHash == nil ? "no password set" : "wrong password"))
            for (key, freeAttempts) in keys {
                let failures = try await storage.recordSignInFailure(key: key, at: now)
                if let until = SignInThrottle.lockedUntil(failures, freeAttempts: freeAttempts) {
                    try await storage.appendAudit(AuditEntry(time: now, actor: name, action: AuditEntry.Action.lockedOut, subject: key,
                                                             address: address, detail: "\(failures.count) failures; locked until \(until.iso8601)"))
                }
            }
            throw CentreError(.unauthorized, code: "bad-credentials", message: "wrong name or password")
        }
        for (key, _) in keys { try await storage.clearSignInFailures(key: key) }
        try await storage.removeSessions(idleBefore: now.adding(milliseconds: -auth.idleMilliseconds),
                                         createdBefore: now.adding(milliseconds: -ConsoleAuth.absoluteLifetimeMilliseconds))
        let sessionID = Hex.encode(Secrets.randomBytes())
        let csrf = Hex.encode(Secrets.randomBytes())
        try await storage.addSession(idHash: ConsoleAuth.hash(sessionID: sessionID), name: member.name, csrfToken: csrf, at: now)
        try await storage.appendAudit(AuditEntry(time: now, actor: member.name, action: AuditEntry.Action.signIn, address: address))
        let session = StaffSession(staff: member, csrfToken: csrf, createdAt: now, lastUsedAt: now)
        var response = try json(SessionView(name: member.name, role: member.role.rawValue, street: member.street, csrf: csrf,
                                            expiresAt: auth.deadline(of: session)?.iso8601))
        response.headers[.setCookie] = auth.cookie(sessionID: sessionID)
        return response
    }

    @Sendable func currentSession(_ request: Request, context: CentreRequestContext) async throws -> SessionView {
        let caller = try await auth.caller(request, needs: .operator)
        return SessionView(name: caller.staff.name, role: caller.staff.role.rawValue, street: caller.staff.street, csrf: caller.session?.csrfToken ?? "",
                           expiresAt: caller.session.flatMap(auth.deadline(of:))?.iso8601)
    }

    @Sendable func signOut(_ request: Request, context: CentreRequestContext) async throws -> Response {
        let caller = try await auth.caller(request, needs: .operator)
        if let idHash = caller.sessionIDHash { try await storage.removeSession(idHash: idHash) }
        try await storage.appendAudit(AuditEntry(time: clock.now(), actor: caller.staff.name, action: AuditEntry.Action.signOut,
                                                 address: context.clientAddress))
        return Response(status: .noContent, headers: [.setCookie: auth.cookie(sessionID: "")])
    }

    // MARK: Map and alarms

    @Sendable func config(_ request: Request, context: CentreRequestContext) async throws -> ConfigView {
        let caller = try await auth.caller(request, needs: .operator)
        let console = configuration.console
        return ConfigView(timeZone: console.timeZone,
                          tiles: console.tileURL.map { .init(url: $0, datum: console.tileDatum.rawValue, attribution: console.tileAttribution) },
                          plans: try planNames(in: caller.staff.scope), silentAfterSeconds: configuration.silentAfterSeconds)
    }

    @Sendable func units(_ request: Request, context: CentreRequestContext) async throws -> Response {
        let caller = try await auth.caller(request, needs: .operator)
        return try json(UnitList(units: try await views.units(in: caller.staff.scope)), for: request)
    }

    @Sendable func alarms(_ request: Request, context: CentreRequestContext) async throws -> ConsoleAlarmList {
        let caller = try await auth.caller(request, needs: .operator)
        return ConsoleAlarmList(alarms: try await views.alarms(openOnly: request.uri.queryParameters.get("open") == "true",
                                                               in: caller.staff.scope))
    }

    /// One alarm and its history (received, escalated, acknowledged with the note).
    @Sendable func alarmHistory(_ request: Request, context: CentreRequestContext) async throws -> AlarmHistoryView {
        let caller = try await auth.caller(request, needs: .operator)
        let id = try context.alarmID()
        guard let alarm = try await storage.alarm(id: id, in: caller.staff.scope) else { throw AlarmAcknowledgement.noSuchAlarm(id) }
        return AlarmHistoryView(alarm, note: try await storage.acknowledgementNotes(alarmIDs: [id])[id])
    }

    /// Street staff hand an open alarm to the district desk with a note (why it needs the district).
    @Sendable func escalate(_ request: Request, context: CentreRequestContext) async throws -> ConsoleAlarmView {
        let caller = try await auth.caller(request, needs: .operator)
        let id = try context.alarmID()
        let note = try await smallBody(request, as: EscalateBody.self).note
        guard !note.isEmpty, note.count <= Self.maxNoteCharacters else {
            throw CentreError(.badRequest, code: note.isEmpty ? "note-missing" : "note-too-long",
                              message: "say in the note why the district desk is needed, in 1 to \(Self.maxNoteCharacters) characters", field: "note")
        }
        let alarm = try await storage.escalate(alarm: id, by: caller.staff, note: note, address: context.clientAddress, at: clock.now(),
                                               changes: changes).escalatedAlarm(id: id)
        logger.info("alarm escalated", metadata: ["alarm": "\(id)", "by": "\(caller.staff.name)"])
        return ConsoleAlarmView(alarm)
    }

    @Sendable func acknowledge(_ request: Request, context: CentreRequestContext) async throws -> ConsoleAlarmView {
        let caller = try await auth.caller(request, needs: .operator)
        let id = try context.alarmID()
        let note = try await smallBody(request, as: AcknowledgeBody.self).note.flatMap { $0.isEmpty ? nil : $0 }
        if let note, note.count > Self.maxNoteCharacters {
            throw CentreError(.badRequest, code: "note-too-long", message: "the note has \(note.count) characters; keep it to \(Self.maxNoteCharacters)", field: "note")
        }
        let alarm = try await storage.acknowledge(alarm: id, by: caller.staff.name, scope: caller.staff.scope, note: note,
                                                  address: context.clientAddress, at: clock.now(), changes: changes).acknowledgedAlarm(id: id)
        logger.info("alarm acknowledged", metadata: ["alarm": "\(id)", "by": "\(caller.staff.name)"])
        return ConsoleAlarmView(alarm, note: note)
    }

    /// Server-Sent Events: `alarm`, `alarm-ack`, `alarm-escalated`, `unit` and `resync` (see
    /// `ConsoleFeed`), pushed as the centre commits them, only those of the caller's scope. The
    /// stream ends when the sign-in would expire; EventSource then reconnects, and is refused if
    /// the session really did expire.
    @Sendable func events(_ request: Request, context: CentreRequestContext) async throws -> Response {
        let caller = try await auth.caller(request, needs: .operator)
        let streamKey = caller.sessionIDHash ?? Secrets.staffTokenHash(caller.staff.name)
        guard feed.openStream(session: streamKey) else {
            throw CentreError(.tooManyRequests, code: "too-many-streams",
                              message: "this sign-in already has \(ConsoleFeed.streamsPerSession) live streams open; close a tab")
        }
        let subscription = feed.frames.subscribe()
        let deadline = caller.session.flatMap(auth.deadline(of:))
        let clock = clock
        let feed = feed
        let scope = caller.staff.scope
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-store"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer { feed.closeStream(session: streamKey) }
            try await writer.write(ByteBuffer(string: "retry: 2000\n: connected\n\n"))
            // Ends when the centre shuts down, instead of holding the shutdown until the browser leaves.
            for await frame in subscription.changes.cancelOnGracefulShutdown() where frame.isFor(scope) {
                try await writer.write(ByteBuffer(string: frame.text))
                if let deadline, clock.now() >= deadline { break }
            }
            if subscription.overflowed { try await writer.write(ByteBuffer(string: ConsoleFeed.frame(event: "resync", data: "{}"))) }
            try await writer.finish(nil)
        })
    }

    // MARK: Coverage and tracks

    /// The configured plans by name (the file's name without `.toml`).
    private var planNames: [(name: String, path: String)] {
        configuration.console.planPaths.map { path in
            let file = path.split(separator: "/").last.map(String.init) ?? path
            return (file.hasSuffix(".toml") ? String(file.dropLast(5)) : file, path)
        }
    }

    /// The plan `name` as `scope` sees it (`CentreStorage.plan(_:in:)`); a plan of another street
    /// reads as no such plan.
    func plan(named name: String, in scope: StaffScope) async throws -> PatrolPlan {
        let offered = try planNames(in: scope)
        guard let path = planNames.first(where: { $0.name == name && offered.contains(name) })?.path else {
            throw CentreError(.notFound, code: "no-such-plan",
                              message: "no plan '\(name)'; the console offers \(offered.joined(separator: ", ")) ([console] plans)")
        }
        return try await storage.plan(try loadPlan(path), in: scope)
    }

    /// The names of the plans `scope` sees: every plan for the district, a street's own for its staff.
    func planNames(in scope: StaffScope) throws -> [String] {
        guard scope != .district else { return planNames.map(\.name) }
        return try planNames.filter { scope.includes(street: try loadPlan($0.path).street) }.map(\.name)
    }

    private func loadPlan(_ path: String) throws -> PatrolPlan {
        do { return try PlanFile.load(path: path) } catch {
            throw CentreError(.internalServerError, code: "plan-unreadable", message: "\(error)")
        }
    }

    /// A plan for the map: its areas and cells as GeoJSON (PatrolCoverage's `PlanGeoJSON`), its
    /// checkpoints, and its units with their shifts (times of day in the plan's zone).
    @Sendable func planView(_ request: Request, context: CentreRequestContext) async throws -> Response {
        let caller = try await auth.caller(request, needs: .operator)
        let name = context.parameters.get("name") ?? ""
        let plan = try await plan(named: name, in: caller.staff.scope)
        var object = JSONObjectWriter()
        object.add("name", name)
        object.add("title", plan.name)
        object.add("timeZone", plan.timeZone.name)
        object.addRaw("areas", PlanGeoJSON.areas(plan))
        object.addRaw("cells", PlanGeoJSON.cells(plan))
        object.addRaw("checkpoints", "[" + plan.checkpoints.map { checkpoint in
            var item = JSONObjectWriter()
            item.add("id", checkpoint.id)
            item.add("lat", checkpoint.position.latitude, decimals: 7)
            item.add("lon", checkpoint.position.longitude, decimals: 7)
            item.add("radius", checkpoint.radius, decimals: 1)
            if let tag = checkpoint.tagID { item.add("tag", tag) }
            switch checkpoint.schedule {
            case .windows(let spans): item.addRaw("windows", "[" + spans.map { JSONObjectWriter.quoted($0.description) }.joined(separator: ",") + "]")
            case .every(let minutes): item.add("everyMinutes", minutes)
            }
            return item.json
        }.joined(separator: ",") + "]")
        object.addRaw("units", "[" + plan.units.map { unit in
            var item = JSONObjectWriter()
            item.add("device", unit.device)
            if let title = unit.name { item.add("name", title) }
            item.addRaw("shifts", "[" + unit.shifts.map { shift in
                var entry = JSONObjectWriter()
                entry.add("span", shift.span.description)
                entry.add("startMinute", shift.span.startMinute)
                entry.add("endMinute", shift.span.endMinute)
                entry.addRaw("areas", "[" + shift.areaIDs.map(JSONObjectWriter.quoted).joined(separator: ",") + "]")
                entry.addRaw("checkpoints", "[" + shift.checkpointIDs.map(JSONObjectWriter.quoted).joined(separator: ",") + "]")
                if let weekdays = shift.weekdays { entry.addRaw("weekdays", "[" + weekdays.sorted().map(String.init).joined(separator: ",") + "]") }
                return entry.json
            }.joined(separator: ",") + "]")
            return item.json
        }.joined(separator: ",") + "]")
        return compressed(Array(object.json.utf8), contentType: "application/json", for: request)
    }

    /// Exactly what `patrol-centre coverage --format json|csv|html` prints for the same plan, range and unit.
    @Sendable func coverage(_ request: Request, context: CentreRequestContext) async throws -> Response {
        let caller = try await auth.caller(request, needs: .supervisor)
        let query = request.uri.queryParameters
        let plan = try await plan(named: query.get("plan") ?? "", in: caller.staff.scope)
        let range = try Self.range(query.get("from"), query.get("to"))
        let unit = query.get("unit").flatMap { $0.isEmpty ? nil : $0 }
        if let unit, plan.unit(device: unit) == nil {
            throw CentreError(.notFound, code: "no-such-unit", message: "the plan has no unit with device '\(unit)'", field: "unit")
        }
        let formats: [String: (ReportFormat, String)] = ["json": (.json, "application/json"), "csv": (.csv, "text/csv; charset=utf-8"),
                                                         "html": (.html, "text/html; charset=utf-8")]
        guard let (format, contentType) = formats[query.get("format") ?? "json"] else {
            throw CentreError(.badRequest, code: "bad-format", message: "format must be json, csv or html", field: "format")
        }
        let report = try await CoverageQuery.report(plan: plan, storage: storage, range: range, device: unit)
        var headers: HTTPFields = [.contentType: contentType]
        if format == .html {
            // The printable report styles itself inline and loads nothing; the console may frame it.
            headers[ConsoleHeaders.policyField] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: format.render(report))))
    }

    /// A unit's track: json (thinned to `TrackThinning.maxPoints`), or gpx / geojson as `tracks export` writes them.
    @Sendable func track(_ request: Request, context: CentreRequestContext) async throws -> Response {
        let caller = try await auth.caller(request, needs: .supervisor)
        let device = context.parameters.get("device") ?? ""
        guard try await storage.device(id: device, in: caller.staff.scope) != nil else {
            throw CentreError(.notFound, code: "no-such-device", message: "there is no device \(device)")
        }
        let query = request.uri.queryParameters
        let range = try Self.range(query.get("from"), query.get("to"))
        switch query.get("format") ?? "json" {
        case "json":
            var points: [[Double]] = []
            try await storage.forEachTrackPoint(device: device, in: range) { point in
                points.append([Double(point.latitudeE7) / 1e7, Double(point.longitudeE7) / 1e7, Double(point.timeMilliseconds),
                               point.speedCentimetresPerSecond.map { Double($0) / 100 } ?? -1])
                if points.count >= 4 * TrackThinning.maxPoints { points = TrackThinning.thinned(points, to: 2 * TrackThinning.maxPoints) }
            }
            let thinned = TrackThinning.thinned(points, to: TrackThinning.maxPoints)
            return try json(TrackView(device: device, points: thinned, thinned: thinned.count < points.count || points.count > TrackThinning.maxPoints),
                            for: request)
        case let name:
            guard let format = TrackExportFormat(rawValue: name), format != .csv else {
                throw CentreError(.badRequest, code: "bad-format", message: "format must be json, gpx or geojson", field: "format")
            }
            var text = ""
            var exporter = TrackExporter(format: format) { text += $0 }
            exporter.begin(name: device)
            try await storage.forEachTrackPoint(device: device, in: range) { exporter.add($0.trackPoint) }
            exporter.end()
            let type = format == .gpx ? "application/gpx+xml" : "application/geo+json"
            return Response(status: .ok, headers: [.contentType: type, .contentDisposition: "attachment; filename=\"\(device).\(name)\""],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }

    // MARK: Devices and staff

    /// The /v1 device list, each with the backlog its newest heartbeat reported (`backlog`, `backlogReportedAt`).
    @Sendable func devices(_ request: Request, context: CentreRequestContext) async throws -> Response {
        let caller = try await auth.caller(request, needs: .admin)
        let now = clock.now()
        let backlogs = try await storage.reportedBacklogs()
        return try json(ConsoleDeviceList(silentAfterSeconds: configuration.silentAfterSeconds, devices: try await storage.devices(in: caller.staff.scope).map {
            ConsoleDeviceView(device: DeviceView($0, now: now, silentAfterSeconds: configuration.silentAfterSeconds), backlog: backlogs[$0.id])
        }), for: request)
    }

    @Sendable func addDevice(_ request: Request, context: CentreRequestContext) async throws -> AddedDeviceView {
        let caller = try await auth.caller(request, needs: .admin)
        let name = try await smallBody(request, as: AddDeviceBody.self).name
        guard Device.isValidID(name) else {
            throw CentreError(.badRequest, code: "bad-device-id",
                              message: "the id must be 1 to \(UplinkLimits.maxDeviceIDBytes) bytes without spaces", field: "name")
        }
        let key = Secrets.randomBytes()
        let now = clock.now()
        // A street's admin registers devices of their street; the district's, of the district.
        guard try await storage.addDevice(id: name, key: key, street: caller.staff.street, at: now) else {
            throw CentreError(.conflict, code: "device-exists", message: "device \(name) is already registered", field: "name")
        }
        try await storage.appendAudit(AuditEntry(time: now, actor: caller.staff.name, action: AuditEntry.Action.deviceAdded,
                                                 subject: name, address: context.clientAddress))
        return AddedDeviceView(name: name, key: Hex.encode(key))
    }

    @Sendable func revokeDevice(_ request: Request, context: CentreRequestContext) async throws -> Response {
        let caller = try await auth.caller(request, needs: .admin)
        let name = context.parameters.get("name") ?? ""
        let now = clock.now()
        guard try await storage.device(id: name, in: caller.staff.scope) != nil, try await storage.revokeDevice(id: name, at: now) else {
            throw CentreError(.notFound, code: "no-such-device", message: "there is no device \(name)")
        }
        try await storage.appendAudit(AuditEntry(time: now, actor: caller.staff.name, action: AuditEntry.Action.deviceRevoked,
                                                 subject: name, address: context.clientAddress))
        return Response(status: .noContent)
    }

    @Sendable func staff(_ request: Request, context: CentreRequestContext) async throws -> StaffList {
        let caller = try await auth.caller(request, needs: .admin)
        return StaffList(staff: try await storage.staffMembers().filter { caller.staff.scope.includes(street: $0.street) }.map {
            StaffView(name: $0.name, role: $0.role.rawValue, street: $0.street, hasPassword: $0.passwordHash != nil,
                      createdAt: $0.createdAt.iso8601)
        })
    }

    // MARK: Helpers

    /// `from` and `to` as ISO 8601 UTC, a half-open range.
    static func range(_ from: String?, _ to: String?) throws -> Range<UTCTime> {
        guard let from, let start = UTCTime(iso8601: from) else {
            throw CentreError(.badRequest, code: "bad-time", message: "from must be a date or date-time (ISO 8601, UTC)", field: "from")
        }
        guard let to, let end = UTCTime(iso8601: to) else {
            throw CentreError(.badRequest, code: "bad-time", message: "to must be a date or date-time (ISO 8601, UTC)", field: "to")
        }
        guard start < end else { throw CentreError(.badRequest, code: "bad-time", message: "from must be before to", field: "from") }
        return start..<end
    }

    /// A small JSON body (at most `maxBodyBytes`, refused with 413 before reading more), decoded.
    /// Routes read it only after `auth.caller` accepted the request.
    func smallBody<Body: Decodable>(_ request: Request, as type: Body.Type) async throws -> Body {
        let tooLarge = CentreError(.contentTooLarge, code: "body-too-large", message: "console request bodies are at most \(Self.maxBodyBytes) bytes")
        if let length = request.headers[.contentLength], (Int64(strictDecimal: length) ?? Int64.max) > Int64(Self.maxBodyBytes) { throw tooLarge }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: Self.maxBodyBytes) } catch is NIOTooManyBytesError { throw tooLarge }
        do { return try JSONDecoder().decode(Body.self, from: Data(buffer: buffer)) } catch let error as DecodingError {
            throw CentreError(.badRequest, code: "bad-json", message: Self.describe(error))
        } catch {
            throw CentreError(.badRequest, code: "bad-json", message: "the body is not JSON: \(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "the body needs the field \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "the field \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type: \(context.debugDescription)"
        case .dataCorrupted(let context): "the body is not valid JSON: \(context.debugDescription)"
        @unknown default: "the body is not what this route takes"
        }
    }

    func json(_ value: some Encodable, for request: Request? = nil) throws -> Response {
        compressed(Array(try ConsoleLiveViews.json(value).utf8), contentType: "application/json", for: request)
    }

    /// `bytes` deflated when the browser accepts it and they are worth it: the map's unit list with
    /// 1,000 units and their tails is over a megabyte of JSON, a tenth of that deflated.
    func compressed(_ bytes: [UInt8], contentType: String, for request: Request?) -> Response {
        var headers: HTTPFields = [.contentType: contentType, .vary: "Accept-Encoding"]
        var body = bytes
        if let request, bytes.count > 1024, Self.accepts("deflate", request) {
            headers[.contentEncoding] = "deflate"
            body = Deflate.compress(bytes)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// How many password checks are running, so no more than a few run at once.
final class PasswordCheckSlots: Sendable {
    private let running = Mutex(0)

    /// Takes a slot; false when `limit` are taken.
    func take(limit: Int) -> Bool {
        running.withLock { running in
            guard running < limit else { return false }
            running += 1
            return true
        }
    }

    func release() { running.withLock { $0 -= 1 } }
}

/// Headers on every console response, errors included: a strict Content-Security-Policy (the
/// page's own files only; map tiles also from the configured tile host), no framing, no MIME
/// sniffing, no referrer to other sites. A route may set a policy of its own (the printable coverage report).
struct ConsoleHeaders: RouterMiddleware {
    typealias Context = CentreRequestContext
    static let policyField = HTTPField.Name("Content-Security-Policy")!
    let policy: String

    init(tileOrigin: String?) {
        let images = ["'self'", "data:"] + (tileOrigin.map { [$0] } ?? [])
        policy = "default-src 'self'; img-src \(images.joined(separator: " ")); object-src 'none'; base-uri 'none'; "
            + "form-action 'self'; frame-ancestors 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do { response = try await next(request, context) } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        let ownPolicy = response.headers[Self.policyField] != nil
        if !ownPolicy { response.headers[Self.policyField] = policy }
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = ownPolicy ? "SAMEORIGIN" : "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return response
    }
}
