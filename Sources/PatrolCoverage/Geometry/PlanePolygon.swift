/// A polygon on the grid's plane: an outer ring and optional holes, each closed implicitly (the
/// first point is not repeated at the end).
public struct PlanePolygon: Sendable, Equatable {
    public var rings: [[PlanePoint]]

    public init(rings: [[PlanePoint]]) {
        self.rings = rings
    }

    /// Even-odd rule over all rings, so a point inside a hole is outside the polygon.
    public func contains(_ point: PlanePoint) -> Bool {
        var inside = false
        for ring in rings {
            var previous = ring[ring.count - 1]
            for current in ring {
                if (current.y > point.y) != (previous.y > point.y) {
                    let crossingX = previous.x + (point.y - previous.y) * (current.x - previous.x) / (current.y - previous.y)
                    if point.x < crossingX { inside.toggle() }
                }
                previous = current
            }
        }
        return inside
    }

    /// The smallest rectangle holding the outer ring: (south-west, north-east).
    public var bounds: (min: PlanePoint, max: PlanePoint) {
        var low = PlanePoint(x: .infinity, y: .infinity), high = PlanePoint(x: -.infinity, y: -.infinity)
        for point in rings[0] {
            low = PlanePoint(x: min(low.x, point.x), y: min(low.y, point.y))
            high = PlanePoint(x: max(high.x, point.x), y: max(high.y, point.y))
        }
        return (low, high)
    }

    /// Two edges that cross or overlap, anywhere in any ring or between rings, as (ring, edge)
    /// pairs; nil when the polygon is simple. Edges that merely share their common vertex do not count.
    public func firstCrossing() -> (first: (ring: Int, edge: Int), second: (ring: Int, edge: Int))? {
        let edges = rings.enumerated().flatMap { ringIndex, ring in
            ring.indices.map { (ring: ringIndex, edge: $0, a: ring[$0], b: ring[($0 + 1) % ring.count], count: ring.count) }
        }
        for i in edges.indices {
            for j in edges.indices where j > i {
                let e = edges[i], f = edges[j]
                if e.ring == f.ring {
                    let adjacent = f.edge == e.edge + 1 || (e.edge == 0 && f.edge == e.count - 1)
                    if adjacent { continue }
                }
                if Self.segmentsIntersect(e.a, e.b, f.a, f.b) { return ((e.ring, e.edge), (f.ring, f.edge)) }
            }
        }
        return nil
    }

    private static func segmentsIntersect(_ p1: PlanePoint, _ p2: PlanePoint, _ q1: PlanePoint, _ q2: PlanePoint) -> Bool {
        func orientation(_ a: PlanePoint, _ b: PlanePoint, _ c: PlanePoint) -> Double {
            (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
        }
        func onSegment(_ a: PlanePoint, _ b: PlanePoint, _ c: PlanePoint) -> Bool {
            min(a.x, b.x) <= c.x && c.x <= max(a.x, b.x) && min(a.y, b.y) <= c.y && c.y <= max(a.y, b.y)
        }
        let d1 = orientation(q1, q2, p1), d2 = orientation(q1, q2, p2)
        let d3 = orientation(p1, p2, q1), d4 = orientation(p1, p2, q2)
        if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) { return true }
        return (d1 == 0 && onSegment(q1, q2, p1)) || (d2 == 0 && onSegment(q1, q2, p2))
            || (d3 == 0 && onSegment(p1, p2, q1)) || (d4 == 0 && onSegment(p1, p2, q2))
    }
}
