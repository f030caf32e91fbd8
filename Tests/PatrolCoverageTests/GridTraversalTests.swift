import PatrolCore
import Testing
@testable import PatrolCoverage

@Suite struct GridTraversalTests {
    let grid = CellGrid(origin: Coordinate(latitude: 52, longitude: 13), cellSize: 100)

    func cells(_ ax: Double, _ ay: Double, _ bx: Double, _ by: Double) -> [CellIndex] {
        var visited: [CellIndex] = []
        grid.forEachCell(from: PlanePoint(x: ax, y: ay), to: PlanePoint(x: bx, y: by)) { visited.append($0) }
        return visited
    }

    @Test func aSegmentInsideOneCellVisitsOnlyIt() {
        #expect(cells(10, 10, 90, 90) == [CellIndex(column: 0, row: 0)])
    }

    @Test func aStraightRunWestVisitsEveryCellOnceInOrder() {
        #expect(cells(450, 50, -150, 50).map(\.column) == [4, 3, 2, 1, 0, -1, -2])
        #expect(cells(450, 50, -150, 50).allSatisfy { $0.row == 0 })
    }

    /// y = x + 10 from (50, 60): crosses the row border first (at x = 90), then the column border.
    @Test func aSlightlyOffDiagonalLineVisitsTheStaircaseOfCells() {
        let expected: [(Int32, Int32)] = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 4), (4, 4)]
        #expect(cells(50, 60, 450, 460) == expected.map { CellIndex(column: $0.0, row: $0.1) })
    }

    /// Exactly through the corners: the cells only touched at a corner are not covered.
    @Test func anExactDiagonalStepsThroughCorners() {
        #expect(cells(50, 50, 450, 450) == (0...4).map { CellIndex(column: $0, row: $0) })
    }

    /// Against a dense sampling of the segment: every cell sampled is visited and nothing else,
    /// in both directions.
    @Test(arguments: [(13.0, 7.0, 777.0, 431.0), (-250.5, 333.3, 120.2, -480.9), (0.5, 0.5, 0.5, 999.5), (612, -3, -17, 45)])
    func matchesDenseSampling(segment: (Double, Double, Double, Double)) {
        let (ax, ay, bx, by) = segment
        var sampled: Set<CellIndex> = []
        let steps = 200_000
        for i in 0...steps {
            let f = Double(i) / Double(steps)
            sampled.insert(grid.cell(containing: PlanePoint(x: ax + (bx - ax) * f, y: ay + (by - ay) * f)))
        }
        let forward = cells(ax, ay, bx, by)
        #expect(Set(forward) == sampled)
        #expect(forward.count == sampled.count, "a cell was visited twice")
        #expect(Set(cells(bx, by, ax, ay)) == sampled)
    }

    /// Ids come from origin and size only: the same place has the same id in any plan.
    @Test func cellIdsDependOnlyOnOriginAndSize() {
        let place = Coordinate(latitude: 52.0123, longitude: 13.0456)
        let cell = grid.cell(containing: grid.project(place))
        #expect(cell.description == "E\(cell.column)N\(cell.row)")
        #expect(cell == CellGrid(origin: Coordinate(latitude: 52, longitude: 13), cellSize: 100).cell(containing: grid.project(place)))
        #expect(cell.row == 13) // 0.0123° north ≈ 1368 m
        #expect(cell.column == 31) // 0.0456° east at 52° ≈ 3128 m
    }
}
