import FoundationEssentials

/// Reads one string member of an event's small JSON payload (e.g. the tag of a tag check-in).
enum EventPayload {
    static func string(_ name: String, in json: String) -> String? {
        guard let object = try? JSONDecoder().decode([String: JSONScalar].self, from: Data(json.utf8)),
              case .string(let value)? = object[name] else { return nil }
        return value
    }

    /// A payload member: only strings are needed, anything else is kept as "other".
    private enum JSONScalar: Decodable {
        case string(String)
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            self = (try? container.decode(String.self)).map(JSONScalar.string) ?? .other
        }
    }
}
