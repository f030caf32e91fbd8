import Foundation
import HTTPTypes
import HummingbirdTesting
import PatrolCentre
import PatrolCore
import PatrolTestSupport
import Testing

/// Keeps `Docs/openapi.json` true: the router's routes and the document's operations are the same
/// set, every example carries its schema's required fields, and real responses do too.
@Suite struct OpenAPITests {
    static var document: [String: Any] {
        let path = Fixtures.repositoryRoot + "/Docs/openapi.json"
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    static var paths: [String: [String: Any]] { document["paths"] as? [String: [String: Any]] ?? [:] }

    @Test func documentsExactlyTheRegisteredRoutes() throws {
        let centre = try CentreHarness()
        let registered = Set(centre.router().routes.map { "\($0.method.rawValue) \($0.path.description)" })
        let documented = Set(Self.paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
        #expect(!registered.isEmpty)
        #expect(registered == documented)
    }

    @Test func everyExampleHasItsSchemasRequiredFields() {
        var checked = 0
        for (path, operations) in Self.paths {
            for (method, operation) in operations {
                let responses = (operation as? [String: Any])?["responses"] as? [String: [String: Any]] ?? [:]
                for (status, response) in responses {
                    guard let media = (response["content"] as? [String: [String: Any]])?["application/json"],
                          let schema = media["schema"] as? [String: Any] else { continue }
                    let example = media["example"]
                    #expect(example != nil, "\(method) \(path) \(status) has no example")
                    let problems = Self.problems(example as Any, schema, at: "\(method) \(path) \(status)")
                    #expect(problems.isEmpty, "\(problems)")
                    checked += 1
                }
            }
        }
        #expect(checked >= 10)
    }

    @Test func liveResponsesMatchTheDocument() async throws {
        let centre = try CentreHarness()
        let key = try await centre.addDevice("car-12")
        let token = try await centre.addStaff("ann")
        let batch = UplinkBatch(deviceID: "car-12", trackPoints: Sample.track(1...3, from: centre.now),
                                events: [Sample.alarm(1, at: centre.now)])
        try await centre.live { client in
            let staff: HTTPFields = [.authorization: "Bearer \(token)"]
            let cases: [(String, Any, String)] = [
                ("Health", try await client.execute(uri: "/v1/health", method: .get).json, "health"),
                ("IngestResponse", try await SignedRequest(device: "car-12", key: key, batch: batch, time: centre.now).send(client).json, "ingest"),
                ("AlarmList", try await client.execute(uri: "/v1/alarms", method: .get, headers: staff).json, "alarms"),
                ("DeviceList", try await client.execute(uri: "/v1/devices", method: .get, headers: staff).json, "devices"),
                ("Error", try await client.execute(uri: "/v1/devices", method: .get).json, "unauthorized"),
            ]
            for (schema, body, name) in cases {
                let problems = Self.problems(body, ["$ref": "#/components/schemas/\(schema)"], at: name)
                #expect(problems.isEmpty, "\(problems)")
            }
        }
    }

    /// Missing required fields in `value` (recursing through properties, items and `$ref`s).
    static func problems(_ value: Any, _ schema: [String: Any], at location: String) -> [String] {
        if let reference = schema["$ref"] as? String {
            let name = String(reference.split(separator: "/").last ?? "")
            let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]] ?? [:]
            guard let resolved = schemas[name] else { return ["\(location): unknown schema \(reference)"] }
            return problems(value, resolved, at: location)
        }
        if let items = schema["items"] as? [String: Any], let array = value as? [Any] {
            return array.enumerated().flatMap { problems($1, items, at: "\(location)[\($0)]") }
        }
        guard let object = value as? [String: Any] else { return [] }
        var found = ((schema["required"] as? [String]) ?? []).filter { object[$0] == nil }.map { "\(location): missing \($0)" }
        for (name, property) in schema["properties"] as? [String: [String: Any]] ?? [:] {
            if let field = object[name] { found += problems(field, property, at: "\(location).\(name)") }
        }
        return found
    }
}
