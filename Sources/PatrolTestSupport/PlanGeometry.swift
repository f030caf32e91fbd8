import PatrolCore
import PatrolCoverage

/// Plan text for shapes drawn in a grid's metres, as the tests of coverage (pure and from a store)
/// write their plans.
extension CellGrid {
    /// A plan's `geojson` polygon through `corners` (metres east and north of the origin), closed
    /// back to the first corner.
    public func polygonGeoJSON(_ corners: [(Double, Double)]) -> String {
        let positions = (corners + [corners[0]]).map { corner in
            let c = coordinate(of: PlanePoint(x: corner.0, y: corner.1))
            return "[\(FixedDecimal.format(c.longitude, decimals: 9)),\(FixedDecimal.format(c.latitude, decimals: 9))]"
        }
        return #"{"type":"Polygon","coordinates":[[\#(positions.joined(separator: ","))]]}"#
    }

    /// A plan's `position` table of the point (x, y) metres east and north of the origin.
    public func positionTOML(_ x: Double, _ y: Double) -> String {
        let c = coordinate(of: PlanePoint(x: x, y: y))
        return "{ lat = \(FixedDecimal.format(c.latitude, decimals: 9)), lon = \(FixedDecimal.format(c.longitude, decimals: 9)) }"
    }
}
