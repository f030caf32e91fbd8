import FoundationEssentials
import PatrolCore

/// Reads the polygons of a patrol area from GeoJSON: a Polygon or MultiPolygon geometry, a Feature
/// holding one, or a FeatureCollection of them (as QGIS and geojson.io save). Positions are
/// [longitude, latitude] as RFC 7946 says.
enum GeoJSONPolygons {
    /// Polygons, each a list of rings (outer first), each ring without the repeated closing point.
    static func read(_ text: String) throws(PlanInputError) -> [[[Coordinate]]] {
        let object: GeoJSONObject
        do { object = try JSONDecoder().decode(GeoJSONObject.self, from: Data(text.utf8)) } catch {
            throw PlanInputError("not valid GeoJSON (\(Self.reason(error)))")
        }
        return try polygons(in: object)
    }

    private static func polygons(in object: GeoJSONObject) throws(PlanInputError) -> [[[Coordinate]]] {
        switch object.type {
        case "Polygon":
            guard let rings = object.coordinates?.polygon else { throw PlanInputError("a Polygon needs \"coordinates\": [[[lon, lat], …]]") }
            return [try ringsOfPositions(rings)]
        case "MultiPolygon":
            guard let polygons = object.coordinates?.multiPolygon else { throw PlanInputError("a MultiPolygon needs \"coordinates\": [[[[lon, lat], …]]]") }
            var result: [[[Coordinate]]] = []
            for polygon in polygons { result.append(try ringsOfPositions(polygon)) }
            return result
        case "Feature":
            guard let geometry = object.geometry else { throw PlanInputError("the Feature has no geometry") }
            return try polygons(in: geometry)
        case "FeatureCollection":
            var result: [[[Coordinate]]] = []
            for feature in object.features ?? [] { result += try polygons(in: feature) }
            guard !result.isEmpty else { throw PlanInputError("the FeatureCollection holds no polygon") }
            return result
        default:
            throw PlanInputError("a patrol area must be a Polygon or MultiPolygon, not \(object.type)")
        }
    }

    private static func ringsOfPositions(_ rings: [[[Double]]]) throws(PlanInputError) -> [[Coordinate]] {
        guard !rings.isEmpty else { throw PlanInputError("a polygon needs at least its outer ring") }
        var result: [[Coordinate]] = []
        for ring in rings {
            var coordinates: [Coordinate] = []
            for position in ring {
                guard position.count >= 2 else { throw PlanInputError("a position needs [longitude, latitude]") }
                let coordinate = Coordinate(latitude: position[1], longitude: position[0])
                guard coordinate.isValid else {
                    throw PlanInputError("position [\(position[0]), \(position[1])] is not [longitude, latitude] on the globe")
                }
                coordinates.append(coordinate)
            }
            if coordinates.count > 1, coordinates.first == coordinates.last { coordinates.removeLast() }
            guard coordinates.count >= 3 else { throw PlanInputError("a ring needs at least 3 distinct corners") }
            result.append(coordinates)
        }
        return result
    }

    private static func reason(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let context)?: context.debugDescription
        case .keyNotFound(let key, _)?: "missing \"\(key.stringValue)\""
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "\(error)"
        }
    }
}

/// The GeoJSON members an area needs; anything else in the file is ignored. A class, because a
/// Feature holds a geometry of the same shape.
private final class GeoJSONObject: Decodable {
    let type: String
    let coordinates: Positions?
    let geometry: GeoJSONObject?
    let features: [GeoJSONObject]?
}

/// `coordinates` nests differently per geometry type; keep whichever depth it has.
private struct Positions: Decodable {
    var polygon: [[[Double]]]?
    var multiPolygon: [[[[Double]]]]?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        polygon = try? container.decode([[[Double]]].self)
        multiPolygon = polygon == nil ? try? container.decode([[[[Double]]]].self) : nil
    }
}

/// A problem in one value of a plan, before it is tied to a line and key.
struct PlanInputError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
