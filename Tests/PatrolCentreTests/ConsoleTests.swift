import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PatrolCentre
import PatrolConsole
import PatrolCore
import PatrolTestSupport
import Testing

extension CentreHarness {
    /// The live server with the console mounted on the centre's router, as `serve` builds it.
    func consoleLive<Value: Sendable>(console: ConsoleSettings = ConsoleSettings(),
                                      _ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        var configuration = self.configuration
        configuration.console = console
        let logger = Logger(label: "test-centre")
        let changes = CentreChanges()
        let router = CentreApplication.router(storage: storage, configuration: configuration, clock: clock, changes: changes, logger: logger)
        ConsoleRoutes(storage: storage, configuration: configuration, clock: clock, changes: changes, logger: logger).register(on: router)
        let app = try CentreApplication.make(router: router, configuration: configuration, logger: logger)
        return try await app.test(.live) { client in try await body(client) }
    }

    /// A staff member with a console password.
    func addStaff(_ name: String, role: StaffRole, password: String) async throws {
        let member = StaffMember(name: name, role: role, passwordHash: try PasswordHash.make(password), createdAt: now)
        _ = try await storage.addStaff(member, tokenHash: Secrets.staffTokenHash(Secrets.newStaffToken()))
    }

    func audit() async throws -> [AuditEntry] { try await storage.auditEntries(in: nil, limit: 1000) }
}

/// A browser's sign-in: the session cookie and the CSRF token that goes with it.
struct ConsoleSignIn: Sendable {
    var cookie: String
    var csrf: String

    static func post(_ client: any TestClientProtocol, _ name: String, _ password: String) async throws -> TestResponse {
        try await client.execute(uri: "/console/api/session", method: .post, headers: [.contentType: "application/json"],
                                 body: ByteBuffer(string: #"{"name":"\#(name)","password":"\#(password)"}"#))
    }

    init(_ client: any TestClientProtocol, _ name: String, _ password: String) async throws {
        let response = try await Self.post(client, name, password)
        try #require(response.status == .ok, "\(String(buffer: response.body))")
        cookie = try #require(response.headers[.setCookie]?.split(separator: ";").first.map(String.init))
        csrf = try #require(response.json["csrf"] as? String)
    }

    /// Headers of a request the browser makes: the cookie, and the CSRF token unless `csrf` says otherwise.
    func headers(csrf: String? = nil) -> HTTPFields {
        var fields: HTTPFields = [.cookie: cookie, .contentType: "application/json"]
        if let csrf = csrf ?? Optional(self.csrf), !csrf.isEmpty { fields[HTTPField.Name("X-CSRF-Token")!] = csrf }
        return fields
    }

    func get(_ client: any TestClientProtocol, _ uri: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: headers())
    }
}

/// The console's server side on a real centre (SQLite file, live server on loopback): sign-in,
/// sessions, CSRF, roles, the audit log, the live feed, acknowledgements and coverage.
@Suite struct ConsoleTests {
    @Test func wrongPasswordIsRefusedAndAudited() async throws {
        let centre = try CentreHarness()
        try await centre.addStaff("ann", role: .operator, password: "correct horse")
        try await centre.consoleLive { client in
            let wrong = try await ConsoleSignIn.post(client, "ann", "battery staple")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.json["error"] as? String == "bad-credentials")
            #expect(wrong.headers[.setCookie] == nil)
            let unknown = try await ConsoleSignIn.post(client, "nobody", "battery staple")
            #expect(unknown.status == .unauthorized)

            let right = try await ConsoleSignIn.post(client, "ann", "correct horse")
            #expect(right.status == .ok)
            let cookie = try #require(right.headers[.setCookie])
            for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] { #expect(cookie.contains(flag), "\(cookie)") }
            #expect(!cookie.contains("Secure"), "plain HTTP on loopback: a Secure cookie would never be sent back")
        }
        let audit = try await centre.audit()
        #expect(audit.map(\.action) == ["sign-in-failed", "sign-in-failed", "sign-in"])
        #expect(audit.first?.actor == "ann" && audit.first?.detail == "wrong password" && audit.first?.address == "127.0.0.1")
    }

    @Test func repeatedFailuresLockTheNameOutWithBackOff() async throws {
        let centre = try CentreHarness()
        try await centre.addStaff("ann", role: .operator, password: "correct horse")
        try await centre.consoleLive { client in
            for _ in 1...5 { #expect(try await ConsoleSignIn.post(client, "ann", "guess").status == .unauthorized) }
            // Locked: even the right password is not checked.
            let locked = try await ConsoleSignIn.post(client, "ann", "correct horse")
            #expect(locked.status == .tooManyRequests)
            #expect(locked.json["error"] as? String == "locked")
            #expect(locked.headers[.retryAfter] == "30")

            centre.advance(seconds: 31)
            #expect(try await ConsoleSignIn.post(client, "ann", "guess").status == .unauthorized)
            // One more failure after the lock: twice as long.
            let longer = try await ConsoleSignIn.post(client, "ann", "correct horse")
            #expect(longer.status == .tooManyRequests)
            #expect(longer.headers[.retryAfter] == "60")

            centre.advance(seconds: 61)
            #expect(try await ConsoleSignIn.post(client, "ann", "correct horse").status == .ok)
        }
        let actions = try await centre.audit().map(\.action)
        #expect(actions.contains("locked-out"))
        #expect(actions.last == "sign-in")
    }

    @Test func stateChangingRequestsNeedTheSessionsCSRFToken() async throws {
        let centre = try CentreHarness()
        try await centre.addStaff("ann", role: .operator, password: "correct horse")
        try await centre.consoleLive { client in
            let session = try await ConsoleSignIn(client, "ann", "correct horse")
            for csrf in ["", String(repeating: "0", count: 64)] {
                let ack = try await client.execute(uri: "/console/api/alarms/1/ack", method: .post, headers: session.headers(csrf: csrf),
                                                   body: ByteBuffer(string: "{}"))
                #expect(ack.status == .forbidden)
                #expect(ack.json["error"] as? String == "csrf")
                let signOut = try await client.execute(uri: "/console/api/session", method: .delete, headers: session.headers(csrf: csrf))
                #expect(signOut.status == .forbidden)
            }
            // With the token the request gets past the check (and finds no such alarm).
            let ack = try await client.execute(uri: "/console/api/alarms/1/ack", method: .post, headers: session.headers(),
                                               body: ByteBuffer(string: "{}"))
            #expect(ack.status == .notFound)
            #expect(try await client.execute(uri: "/console/api/session", method: .delete, headers: session.headers()).status == .noContent)
            #expect(try await session.get(client, "/console/api/units").status == .unauthorized)
        }
    }

    @Test func rolesAreEnforcedOnConsoleAndAPIRoutes() async throws {
        let centre = try CentreHarness()
        try await centre.addStaff("olga", role: .operator, password: "operator pass")
        try await centre.addStaff("adam", role: .admin, password: "admin pass")
        let operatorToken = try await centre.addStaff("script", role: .operator)
        _ = try await centre.addDevice("car-1")
        let heartbeats = [UplinkHeartbeat(sequence: 1, time: centre.now, timeSource: "gnss", pendingRecords: 9000),
                          UplinkHeartbeat(sequence: 2, time: centre.now.adding(seconds: 60), timeSource: "gnss", pendingRecords: 420)]
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-1", heartbeats: heartbeats), at: centre.now)
        try await centre.consoleLive { client in
            let olga = try await ConsoleSignIn(client, "olga", "operator pass")
            for uri in ["/console/api/devices", "/console/api/staff", "/console/api/coverage?plan=x&from=2026-03-01&to=2026-03-02",
                        "/console/api/tracks/car-1?from=2026-03-01&to=2026-03-02"] {
                let refused = try await olga.get(client, uri)
                #expect(refused.status == .forbidden, "\(uri)")
                #expect(refused.json["error"] as? String == "forbidden-role", "\(uri)")
            }
            let add = try await client.execute(uri: "/console/api/devices", method: .post, headers: olga.headers(),
                                               body: ByteBuffer(string: #"{"name":"car-9"}"#))
            #expect(add.status == .forbidden)
            #expect(try await olga.get(client, "/console/api/units").status == .ok)
            let bearer = try await client.execute(uri: "/v1/devices", method: .get, headers: [.authorization: "Bearer \(operatorToken)"])
            #expect(bearer.status == .forbidden)

            let adam = try await ConsoleSignIn(client, "adam", "admin pass")
            let listed = try await adam.get(client, "/console/api/devices")
            #expect(listed.status == .ok)
            let car = try #require((listed.json["devices"] as? [[String: Any]])?.first { $0["id"] as? String == "car-1" })
            #expect(car["backlog"] as? Int == 420, "the newest heartbeat's pending records")
            let added = try await client.execute(uri: "/console/api/devices", method: .post, headers: adam.headers(),
                                                 body: ByteBuffer(string: #"{"name":"car-9"}"#))
            #expect(added.status == .ok)
            #expect((added.json["key"] as? String)?.count == 64)
        }
        #expect(try await centre.audit().contains { $0.action == "device-added" && $0.subject == "car-9" && $0.actor == "adam" })
        #expect(try await centre.storage.device(id: "car-9") != nil)
    }

    @Test func expiredSessionIsRefused() async throws {
        let centre = try CentreHarness()
        try await centre.addStaff("ann", role: .operator, password: "correct horse")
        var console = ConsoleSettings()
        console.sessionMinutes = 30
        try await centre.consoleLive(console: console) { client in
            let session = try await ConsoleSignIn(client, "ann", "correct horse")
            centre.advance(seconds: 29 * 60)
            #expect(try await session.get(client, "/console/api/units").status == .ok)
            // Used at 29 min: idle until 59 min.
            centre.advance(seconds: 29 * 60)
            #expect(try await session.get(client, "/console/api/units").status == .ok)
            centre.advance(seconds: 31 * 60)
            let expired = try await session.get(client, "/console/api/units")
            #expect(expired.status == .unauthorized)
            #expect(expired.json["error"] as? String == "session-expired")
            #expect(try await session.get(client, "/console/api/units").json["error"] as? String == "signed-out")
        }
    }

    @Test func newAlarmIsPushedOverServerSentEvents() async throws {
        let centre = try CentreHarness()
        let key = try await centre.addDevice("car-12")
        try await centre.addStaff("ann", role: .operator, password: "correct horse")
        try await centre.consoleLive { client in
            let session = try await ConsoleSignIn(client, "ann", "correct horse")
            let stream = try RawHTTPConnection(port: try #require(client.port), timeout: 5)
            stream.send("GET /console/api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: \(session.cookie)\r\nAccept: text/event-stream\r\n\r\n")
            let head = try #require(await stream.readUntil(": connected\n\n"))
            #expect(head.hasPrefix("HTTP/1.1 200"))
            #expect(head.lowercased().contains("content-type: text/event-stream"))

            let batch = UplinkBatch(deviceID: "car-12", trackPoints: Sample.track(1...3, from: centre.now), events: [Sample.alarm(7, at: centre.now)])
            #expect(try await SignedRequest(device: "car-12", key: key, batch: batch, time: centre.now).send(client).status == .ok)
            let alarm = try #require(await stream.readUntil("\n\n"), "no event within 5 s")
            #expect(alarm.contains("event: alarm\n"), "\(alarm)")
            let data = try #require(alarm.split(separator: "\n").first { $0.hasPrefix("data: ") }?.dropFirst(6))
            let json = try #require(JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])
            #expect(json["device"] as? String == "car-12")
            #expect(json["kind"] as? String == "panic")
            let unit = try #require(await stream.readUntil("\n\n"))
            #expect(unit.contains("event: unit\n") && unit.contains(#""state":"alarm""#), "\(unit)")
        }
    }

    @Test func oneSignInHoldsOnlyAFewLiveStreams() async throws {
        let centre = try CentreHarness()
        try await centre.addStaff("ann", role: .operator, password: "correct horse")
        try await centre.consoleLive { client in
            let session = try await ConsoleSignIn(client, "ann", "correct horse")
            let port = try #require(client.port)
            var open: [RawHTTPConnection] = []
            for _ in 0..<4 {
                let stream = try RawHTTPConnection(port: port, timeout: 5)
                stream.send("GET /console/api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: \(session.cookie)\r\n\r\n")
                #expect(await stream.readUntil(": connected\n\n")?.hasPrefix("HTTP/1.1 200") == true)
                open.append(stream)
            }
            let refused = try await session.get(client, "/console/api/events")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.json["error"] as? String == "too-many-streams")
            open.removeAll()
        }
    }

    @Test func consoleAcknowledgementReachesTheDevice() async throws {
        let centre = try CentreHarness()
        let key = try await centre.addDevice("booth-3")
        try await centre.addStaff("ann", role: .operator, password: "correct horse")
        try await centre.consoleLive { client in
            let session = try await ConsoleSignIn(client, "ann", "correct horse")
            let alarm = UplinkBatch(deviceID: "booth-3", events: [Sample.alarm(41, at: centre.now)])
            #expect(try await SignedRequest(device: "booth-3", key: key, batch: alarm, time: centre.now).send(client).status == .ok)
            let open = try await session.get(client, "/console/api/alarms?open=true").json["alarms"] as? [[String: Any]]
            let id = try #require(open?.first?["id"] as? Int)

            let ack = try await client.execute(uri: "/console/api/alarms/\(id)/ack", method: .post, headers: session.headers(),
                                               body: ByteBuffer(string: #"{"note":"called the guard, all well"}"#))
            #expect(ack.status == .ok)
            #expect(ack.json["acknowledgedBy"] as? String == "ann")
            #expect(ack.json["note"] as? String == "called the guard, all well")
            let again = try await client.execute(uri: "/console/api/alarms/\(id)/ack", method: .post, headers: session.headers(),
                                                 body: ByteBuffer(string: "{}"))
            #expect(again.status == .conflict)

            let heartbeat = UplinkBatch(deviceID: "booth-3", heartbeats: [UplinkHeartbeat(sequence: 1, time: centre.now, timeSource: "gnss")])
            let next = try await SignedRequest(device: "booth-3", key: key, batch: heartbeat, time: centre.now).send(client)
            let message = try #require(try next.decoded(IngestResponse.self).downlink.first)
            #expect(message.alarmSequence == 41)
            #expect(message.text == "alarm 41 acknowledged by operator ann at \(centre.now.iso8601)")
        }
        let entry = try #require(try await centre.audit().first { $0.action == "alarm-acknowledged" })
        #expect(entry.actor == "ann" && entry.detail == "called the guard, all well")
    }

    @Test func coverageIsExactlyWhatTheCommandPrints() async throws {
        let (centre, config) = try await CoverageCommandTests.centreWithDemoTrack()
        try await centre.addStaff("sue", role: .supervisor, password: "supervisor pass")
        var console = ConsoleSettings()
        console.planPaths = [CoverageCommandTests.plan]
        for format in ["json", "csv", "html"] {
            let printed = try CoverageCommandTests().coverage(config, format)
            #expect(printed.status == 0, "\(printed.stderr)")
            let served = try await centre.consoleLive(console: console) { client in
                let sue = try await ConsoleSignIn(client, "sue", "supervisor pass")
                let response = try await sue.get(client, "/console/api/coverage?plan=plan.example&from=2038-04-05T09:00:00Z"
                                                    + "&to=2038-04-05T12:00:00Z&unit=demo-car&format=\(format)")
                #expect(response.status == .ok)
                if format == "html" {
                    // The printable report styles itself inline: it carries a policy that allows that and nothing else.
                    #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.hasPrefix("default-src 'none'; style-src 'unsafe-inline'") == true)
                }
                return String(buffer: response.body)
            }
            #expect(served == printed.stdout, "\(format)")
        }
    }

    @Test func planIsServedWithItsAreasAndCellsAsGeoJSON() async throws {
        let centre = try CentreHarness()
        try await centre.addStaff("olga", role: .operator, password: "operator pass")
        var console = ConsoleSettings()
        console.planPaths = [CoverageCommandTests.plan]
        let plan = try PlanFile.load(path: CoverageCommandTests.plan)
        try await centre.consoleLive(console: console) { client in
            let olga = try await ConsoleSignIn(client, "olga", "operator pass")
            #expect(try await olga.get(client, "/console/api/config").json["plans"] as? [String] == ["plan.example"])
            let json = try await olga.get(client, "/console/api/plans/plan.example").json
            let areas = try #require((json["areas"] as? [String: Any])?["features"] as? [[String: Any]])
            let cells = try #require((json["cells"] as? [String: Any])?["features"] as? [[String: Any]])
            #expect(areas.count == plan.areas.count)
            #expect(Set(cells.compactMap { ($0["properties"] as? [String: Any])?["cell"] as? String }) == Set(plan.cells().map(\.description)))
            #expect((json["units"] as? [[String: Any]])?.first?["device"] as? String == "demo-car")
            #expect(try await olga.get(client, "/console/api/plans/nope").status == .notFound)
        }
    }

    @Test func everyAssetIsServedAsItIsInTheFolder() async throws {
        let folder = Fixtures.repositoryRoot + "/Sources/PatrolConsole/Assets"
        let files = try #require(FileManager.default.subpaths(atPath: folder)).filter { path in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isFolder) && !isFolder.boolValue
        }
        #expect(files.contains("index.html"))
        let centre = try CentreHarness()
        try await centre.consoleLive { client in
            for file in files {
                let response = try await client.execute(uri: "/console/assets/" + file, method: .get)
                #expect(response.status == .ok, "\(file) is in Assets but not served: add it to ConsoleAsset.embedded")
                #expect(Data(buffer: response.body) == FileManager.default.contents(atPath: folder + "/" + file), "\(file)")
                #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'self'") == true)
            }
            let page = try await client.execute(uri: "/console/", method: .get, headers: [.acceptEncoding: "gzip, deflate"])
            #expect(page.headers[.contentEncoding] == "deflate")
            let etag = try #require(page.headers[.eTag])
            #expect(try await client.execute(uri: "/console/", method: .get, headers: [.ifNoneMatch: etag]).status == .notModified)
        }
    }
}
