#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PatrolCore

/// A point in the grid's plane: metres east and north of the grid's origin.
public struct PlanePoint: Sendable, Equatable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    public func squaredDistance(to other: PlanePoint) -> Double {
        (x - other.x) * (x - other.x) + (y - other.y) * (y - other.y)
    }
}

/// One square cell of the grid, by column (east) and row (north) counted from the origin.
public struct CellIndex: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var column: Int32
    public var row: Int32

    public init(column: Int32, row: Int32) {
        self.column = column
        self.row = row
    }

    /// Rows south to north, then columns west to east: the order reports list cells in.
    public static func < (lhs: CellIndex, rhs: CellIndex) -> Bool {
        (lhs.row, lhs.column) < (rhs.row, rhs.column)
    }

    /// The stable id reports print, e.g. `E12N-3`: column and row from the plan's fixed origin, so
    /// the same cell has the same id on every day and in every report made with the same grid.
    public var description: String { "E\(column)N\(row)" }
}

/// Square cells of `cellSize` metres laid from a fixed origin on a local equirectangular plane.
///
/// At patrol-area scale (a few kilometres) the plane differs from the sphere by well under a metre
/// per kilometre, far below GPS noise; in exchange, cells are exact squares, a track segment is a
/// straight line, and traversal is exact. Cell ids depend only on origin and size, never on the
/// areas or the order anything was read in.
public struct CellGrid: Sendable, Equatable {
    public let origin: Coordinate
    public let cellSize: Double
    private let metresPerDegreeLatitude: Double
    private let metresPerDegreeLongitude: Double

    public init(origin: Coordinate, cellSize: Double) {
        self.origin = origin
        self.cellSize = cellSize
        metresPerDegreeLatitude = Geodesy.earthRadius * .pi / 180
        metresPerDegreeLongitude = metresPerDegreeLatitude * cos(origin.latitude * .pi / 180)
    }

    public func project(_ coordinate: Coordinate) -> PlanePoint {
        PlanePoint(x: (coordinate.longitude - origin.longitude) * metresPerDegreeLongitude,
                   y: (coordinate.latitude - origin.latitude) * metresPerDegreeLatitude)
    }

    public func coordinate(of point: PlanePoint) -> Coordinate {
        Coordinate(latitude: origin.latitude + point.y / metresPerDegreeLatitude,
                   longitude: origin.longitude + point.x / metresPerDegreeLongitude)
    }

    public func cell(containing point: PlanePoint) -> CellIndex {
        CellIndex(column: Int32(clamping: Int((point.x / cellSize).rounded(.down))),
                  row: Int32(clamping: Int((point.y / cellSize).rounded(.down))))
    }

    /// The south-west corner of a cell.
    public func corner(of cell: CellIndex) -> PlanePoint {
        PlanePoint(x: Double(cell.column) * cellSize, y: Double(cell.row) * cellSize)
    }

    public func centre(of cell: CellIndex) -> PlanePoint {
        let corner = corner(of: cell)
        return PlanePoint(x: corner.x + cellSize / 2, y: corner.y + cellSize / 2)
    }

    /// Every cell a straight segment passes through, in order from `start` to `end`, each once.
    ///
    /// Exact grid traversal (Amanatides & Woo): the segment steps into the next cell across
    /// whichever cell border it reaches first. A segment through a cell corner steps diagonally and
    /// does not count the two cells it only touches at that corner.
    public func forEachCell(from start: PlanePoint, to end: PlanePoint, _ visit: (CellIndex) -> Void) {
        var cell = self.cell(containing: start)
        let last = self.cell(containing: end)
        visit(cell)
        let dx = end.x - start.x, dy = end.y - start.y
        let stepColumn: Int32 = dx > 0 ? 1 : -1, stepRow: Int32 = dy > 0 ? 1 : -1
        // Parameter t along the segment (0 at start, 1 at end) at which the next border is crossed.
        func firstCrossing(_ position: Double, _ delta: Double, _ index: Int32) -> Double {
            guard delta != 0 else { return .infinity }
            let border = Double(index + (delta > 0 ? 1 : 0)) * cellSize
            return (border - position) / delta
        }
        var nextColumnCrossing = firstCrossing(start.x, dx, cell.column)
        var nextRowCrossing = firstCrossing(start.y, dy, cell.row)
        let columnSpacing = dx == 0 ? .infinity : cellSize / abs(dx)
        let rowSpacing = dy == 0 ? .infinity : cellSize / abs(dy)
        // The step count is known in advance, so rounding can never make the walk overshoot.
        let columnsToGo = abs(Int(last.column) - Int(cell.column))
        let rowsToGo = abs(Int(last.row) - Int(cell.row))
        var remaining = columnsToGo + rowsToGo
        while remaining > 0 {
            if nextColumnCrossing == nextRowCrossing, cell.column != last.column, cell.row != last.row {
                cell.column += stepColumn
                cell.row += stepRow
                nextColumnCrossing += columnSpacing
                nextRowCrossing += rowSpacing
                remaining -= 2
            } else if (nextColumnCrossing < nextRowCrossing && cell.column != last.column) || cell.row == last.row {
                cell.column += stepColumn
                nextColumnCrossing += columnSpacing
                remaining -= 1
            } else {
                cell.row += stepRow
                nextRowCrossing += rowSpacing
                remaining -= 1
            }
            visit(cell)
        }
    }
}
