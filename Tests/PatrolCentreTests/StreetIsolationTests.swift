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

/// Street A's staff against street B's data, through every route the centre serves (the /v1 API and
/// the console, as `serve` mounts them, on both backends): an id of B's answers exactly as an id
/// that does not exist, a list never names B's units, alarms, plans or staff, and the live feed
/// never carries B's alarm. The routes are read from the router itself: a route added later without
/// a probe here fails `everyRegisteredRouteIsProbed`.
@Suite(.serialized) struct StreetIsolationTests {
    /// What street A's admin does with a route, and what must hold.
    enum Probe {
        /// With B's id and with an id nobody has: the same status and body (the id itself aside).
        case sameAsMissing(method: HTTPRequest.Method, withB: String, withMissing: String, foreign: String, missing: String, body: String?)
        /// A list or page: it must not name any of B's things.
        case omitsB(method: HTTPRequest.Method, uri: String, body: String?)
        /// Carries nothing of a street (device ingest, health, sign-in, the page's files), or is
        /// checked on its own (the live feed): why.
        case noStreetData(String)
    }

    static let missingAlarm: Int64 = 987_654
    /// What of street B's a response to A's staff must never contain.
    static let namesOfB = ["car-b", "south", "bert", "south-plan"]

    /// Every route, by `METHOD path` as the router lists it, with its probe. `bAlarm` is B's alarm's id.
    static func probes(bAlarm: Int64) -> [String: Probe] {
        let day = "from=2026-03-01&to=2026-03-02"
        return [
            "GET /v1/health": .noStreetData("the centre's clock"),
            "POST /v1/ingest": .noStreetData("device-facing: a device's own batch, signed with its key"),
            "GET /v1/alarms": .omitsB(method: .get, uri: "/v1/alarms", body: nil),
            "POST /v1/alarms/{id}/ack": .sameAsMissing(method: .post, withB: "/v1/alarms/\(bAlarm)/ack", withMissing: "/v1/alarms/\(missingAlarm)/ack",
                                                      foreign: "\(bAlarm)", missing: "\(missingAlarm)", body: nil),
            "GET /v1/devices": .omitsB(method: .get, uri: "/v1/devices", body: nil),
            "GET /": .noStreetData("a redirect to /console/"),
            "GET /console": .noStreetData("the page"),
            "GET /console/assets/**": .noStreetData("the page's files"),
            "POST /console/api/session": .noStreetData("sign-in; answers the signed-in member's own street"),
            "GET /console/api/session": .omitsB(method: .get, uri: "/console/api/session", body: nil),
            "DELETE /console/api/session": .noStreetData("sign-out"),
            "GET /console/api/config": .omitsB(method: .get, uri: "/console/api/config", body: nil),
            "GET /console/api/units": .omitsB(method: .get, uri: "/console/api/units", body: nil),
            "GET /console/api/alarms": .omitsB(method: .get, uri: "/console/api/alarms", body: nil),
            "GET /console/api/alarms/{id}": .sameAsMissing(method: .get, withB: "/console/api/alarms/\(bAlarm)",
                                                          withMissing: "/console/api/alarms/\(missingAlarm)", foreign: "\(bAlarm)",
                                                          missing: "\(missingAlarm)", body: nil),
            "POST /console/api/alarms/{id}/ack": .sameAsMissing(method: .post, withB: "/console/api/alarms/\(bAlarm)/ack",
                                                               withMissing: "/console/api/alarms/\(missingAlarm)/ack", foreign: "\(bAlarm)",
                                                               missing: "\(missingAlarm)", body: #"{"note":"mine now"}"#),
            "POST /console/api/alarms/{id}/escalate": .sameAsMissing(method: .post, withB: "/console/api/alarms/\(bAlarm)/escalate",
                                                                    withMissing: "/console/api/alarms/\(missingAlarm)/escalate",
                                                                    foreign: "\(bAlarm)", missing: "\(missingAlarm)", body: #"{"note":"help"}"#),
            "GET /console/api/events": .noStreetData("checked by reading the stream: B's alarm never arrives"),
            "GET /console/api/plans/{name}": .sameAsMissing(method: .get, withB: "/console/api/plans/south-plan", withMissing: "/console/api/plans/nope",
                                                           foreign: "south-plan", missing: "nope", body: nil),
            "GET /console/api/coverage": .sameAsMissing(method: .get, withB: "/console/api/coverage?plan=south-plan&\(day)",
                                                       withMissing: "/console/api/coverage?plan=nope&\(day)", foreign: "south-plan", missing: "nope",
                                                       body: nil),
            "GET /console/api/tracks/{device}": .sameAsMissing(method: .get, withB: "/console/api/tracks/car-b?\(day)",
                                                              withMissing: "/console/api/tracks/car-x?\(day)", foreign: "car-b", missing: "car-x", body: nil),
            "GET /console/api/devices": .omitsB(method: .get, uri: "/console/api/devices", body: nil),
            "POST /console/api/devices": .omitsB(method: .post, uri: "/console/api/devices", body: #"{"name":"car-a2"}"#),
            "POST /console/api/devices/{name}/revoke": .sameAsMissing(method: .post, withB: "/console/api/devices/car-b/revoke",
                                                                     withMissing: "/console/api/devices/car-x/revoke", foreign: "car-b",
                                                                     missing: "car-x", body: nil),
            "GET /console/api/staff": .omitsB(method: .get, uri: "/console/api/staff", body: nil),
        ]
    }

    /// The router `serve` builds: the centre's routes and the console's.
    static func registeredRoutes(_ centre: CentreHarness) -> Set<String> {
        let router = centre.router()
        ConsoleRoutes(storage: centre.storage, configuration: centre.configuration, clock: centre.clock, changes: CentreChanges(),
                      logger: Logger(label: "test-centre")).register(on: router)
        return Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" })
    }

    @Test func everyRegisteredRouteIsProbed() throws {
        let registered = Self.registeredRoutes(try CentreHarness())
        let probed = Set(Self.probes(bAlarm: 1).keys)
        #expect(registered.subtracting(probed).isEmpty, "routes without an isolation probe: \(registered.subtracting(probed).sorted())")
        #expect(probed.subtracting(registered).isEmpty, "probes of routes that no longer exist: \(probed.subtracting(registered).sorted())")
    }

    /// Streets north (A: car-a, anna) and south (B: car-b, bert, south-plan), each with an open alarm.
    static func district(_ backend: StorageKind) async throws -> (CentreHarness, console: ConsoleSettings, annaToken: String, keys: [String: [UInt8]]) {
        let centre = try await CentreHarness(backend: backend)
        var keys: [String: [UInt8]] = [:]
        for (device, street) in [("car-a", "north"), ("car-b", "south")] {
            keys[device] = Secrets.randomBytes()
            _ = try await centre.storage.addDevice(id: device, key: keys[device]!, street: street, at: centre.now)
        }
        let annaToken = Secrets.newStaffToken()
        for (name, street, token) in [("anna", "north", annaToken), ("bert", "south", Secrets.newStaffToken()), ("dora", nil, Secrets.newStaffToken())] {
            let member = StaffMember(name: name, role: .admin, passwordHash: try PasswordHash.make("\(name) password"), createdAt: centre.now, street: street)
            _ = try await centre.storage.addStaff(member, tokenHash: Secrets.staffTokenHash(token))
        }
        let plans = centre.folder
        let area = #"geojson = '{"type":"Polygon","coordinates":[[[5.3070,52.8470],[5.3110,52.8470],[5.3110,52.8510],[5.3070,52.8510],[5.3070,52.8470]]]}'"#
        for (name, street, device) in [("north-plan", "north", "car-a"), ("south-plan", "south", "car-b")] {
            try """
            name = "\(name)"
            street = "\(street)"
            [[area]]
            id = "harbour"
            \(area)
            [[unit]]
            device = "\(device)"
            [[unit.shift]]
            start = "09:00"
            end = "11:00"
            areas = ["harbour"]
            """.write(toFile: "\(plans)/\(name).toml", atomically: true, encoding: .utf8)
        }
        var console = ConsoleSettings()
        console.planPaths = ["\(plans)/north-plan.toml", "\(plans)/south-plan.toml"]
        return (centre, console, annaToken, keys)
    }

    @Test(arguments: StorageKind.available)
    func streetAsStaffGetNothingOfStreetBThroughAnyRoute(backend: StorageKind) async throws {
        let (centre, console, annaToken, keys) = try await Self.district(backend)
        try await centre.consoleLive(console: console) { client in
            // The feed first, so it would carry B's alarm if it leaked.
            let anna = try await ConsoleSignIn(client, "anna", "anna password")
            let stream = try RawHTTPConnection(port: try #require(client.port), timeout: 5)
            stream.send("GET /console/api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: \(anna.cookie)\r\n\r\n")
            #expect(await stream.readUntil(": connected\n\n")?.hasPrefix("HTTP/1.1 200") == true)
            for device in ["car-b", "car-a"] {
                let batch = UplinkBatch(deviceID: device, trackPoints: Sample.track(1...2, from: centre.now), events: [Sample.alarm(1, at: centre.now)])
                #expect(try await SignedRequest(device: device, key: keys[device]!, batch: batch, time: centre.now).send(client).status == .ok)
            }
            // The feed is in commit order: everything B's batch made would come before A's alarm and unit.
            var fed = ""
            while !fed.contains("event: unit\n") || !fed.contains("car-a") {
                fed += try #require(await stream.readUntil("\n\n"), "A's alarm never arrived; the feed so far: \(fed)")
            }
            #expect(fed.contains("event: alarm\n"))
            for name in Self.namesOfB { #expect(!fed.contains(name), "the feed carried \(name): \(fed)") }

            let bAlarm = try #require(try await centre.storage.alarms(openOnly: true, in: .street("south")).first?.id)
            let bearer: HTTPFields = [.authorization: "Bearer \(annaToken)", .contentType: "application/json"]
            for (route, probe) in Self.probes(bAlarm: bAlarm).sorted(by: { $0.key < $1.key }) {
                let headers = route.contains(" /v1/") ? bearer : anna.headers()
                switch probe {
                case .sameAsMissing(let method, let withB, let withMissing, let foreign, let missing, let body):
                    let b = try await client.execute(uri: withB, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
                    let none = try await client.execute(uri: withMissing, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
                    #expect(b.status == none.status, "\(route): \(b.status) for B's, \(none.status) for none")
                    #expect(b.status.code >= 400, "\(route) answered \(b.status) for B's id")
                    let bText = Self.withoutClock(String(buffer: b.body)).replacing(foreign, with: "ID")
                    let noneText = Self.withoutClock(String(buffer: none.body)).replacing(missing, with: "ID")
                    #expect(bText == noneText, "\(route)")
                case .omitsB(let method, let uri, let body):
                    let response = try await client.execute(uri: uri, method: method, headers: headers.merging([.acceptEncoding: "identity"]),
                                                            body: body.map { ByteBuffer(string: $0) })
                    #expect(response.status == .ok, "\(route): \(response.status) \(String(buffer: response.body))")
                    for name in Self.namesOfB { #expect(!String(buffer: response.body).contains(name), "\(route) named \(name)") }
                case .noStreetData: continue
                }
            }
            // A's own are there, so the lists above were not just empty.
            #expect(String(buffer: try await anna.get(client, "/console/api/units").body).contains("car-a"))
            #expect(try await anna.get(client, "/console/api/config").json["plans"] as? [String] == ["north-plan"])
            #expect(try await anna.get(client, "/console/api/plans/north-plan").status == .ok)
        }
        #expect(try await centre.storage.alarms(openOnly: true, in: .street("south")).count == 1, "B's alarm is still open")
        #expect(try await centre.storage.device(id: "car-b")?.revokedAt == nil, "B's device is not revoked")
        #expect(try await centre.storage.device(id: "car-a2")?.street == "north", "a street admin's new device is theirs")
    }

    /// `centreTimeMs` differs between two answers a few milliseconds apart.
    static func withoutClock(_ text: String) -> String {
        text.replacing(/"centreTimeMs":\d+/, with: "")
    }

    @Test(arguments: StorageKind.available)
    func districtStaffSeeEveryStreet(backend: StorageKind) async throws {
        let (centre, console, _, keys) = try await Self.district(backend)
        try await centre.consoleLive(console: console) { client in
            for device in ["car-a", "car-b"] {
                let batch = UplinkBatch(deviceID: device, events: [Sample.alarm(1, at: centre.now)])
                #expect(try await SignedRequest(device: device, key: keys[device]!, batch: batch, time: centre.now).send(client).status == .ok)
            }
            let dora = try await ConsoleSignIn(client, "dora", "dora password")
            let alarms = try #require(try await dora.get(client, "/console/api/alarms").json["alarms"] as? [[String: Any]])
            #expect(alarms.map { "\($0["device"] ?? "") \($0["street"] ?? "")" } == ["car-a north", "car-b south"])
            #expect(try await dora.get(client, "/console/api/config").json["plans"] as? [String] == ["north-plan", "south-plan"])
            let staff = try #require(try await dora.get(client, "/console/api/staff").json["staff"] as? [[String: Any]])
            #expect(staff.compactMap { $0["name"] as? String } == ["anna", "bert", "dora"])
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var fields = self
        for field in other { fields[field.name] = field.value }
        return fields
    }
}
