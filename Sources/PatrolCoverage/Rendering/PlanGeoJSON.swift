import PatrolCore

/// A plan's areas and grid cells as GeoJSON FeatureCollections, for maps that draw the plan itself
/// (the console's live map and coverage page), in the same shapes as the coverage report's GeoJSON.
public enum PlanGeoJSON {
    /// One MultiPolygon feature per area: `{"layer":"area","area":id}`.
    public static func areas(_ plan: PatrolPlan) -> String {
        collection(plan.areas.map { area in
            var properties = JSONObjectWriter()
            properties.add("layer", "area")
            properties.add("area", area.id)
            // GeoJSON rings are closed; a plan's outline need not repeat its first corner.
            let polygons = area.outlines.map { rings in
                ReportJSON.array(rings.map { ring in ReportJSON.positions(ring.first.map { ring.last == $0 ? ring : ring + [$0] } ?? ring) })
            }
            return ReportJSON.feature(#"{"type":"MultiPolygon","coordinates":\#(ReportJSON.array(polygons))}"#, properties)
        })
    }

    /// One Polygon feature per cell of any area: `{"layer":"cell","cell":"E37N104","areas":[ids]}`.
    public static func cells(_ plan: PatrolPlan) -> String {
        collection(plan.cells().sorted().map { cell in
            var properties = JSONObjectWriter()
            properties.add("layer", "cell")
            properties.add("cell", cell.description)
            properties.addRaw("areas", ReportJSON.array(plan.areas.filter { $0.cells.contains(cell) }.map { JSONObjectWriter.quoted($0.id) }))
            let ring = ReportJSON.positions(ReportJSON.cellRing(cell, plan.grid))
            return ReportJSON.feature(#"{"type":"Polygon","coordinates":[\#(ring)]}"#, properties)
        })
    }

    private static func collection(_ features: [String]) -> String {
        #"{"type":"FeatureCollection","features":["# + features.joined(separator: ",") + "]}"
    }
}
