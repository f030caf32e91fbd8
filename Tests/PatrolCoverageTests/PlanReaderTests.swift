import Foundation
import PatrolCore
import PatrolTestSupport
import Testing
@testable import PatrolCoverage

@Suite struct PlanReaderTests {
    static func readFile(_ path: String) throws -> String {
        try String(contentsOfFile: Fixtures.repositoryRoot + "/Config/" + path, encoding: .utf8)
    }

    static func exampleText() throws -> String { try readFile("plan.example.toml") }

    func problems(_ text: String, files: [String: String] = [:]) -> [ConfigProblem] {
        do {
            _ = try PlanReader.read(text, file: "plan.toml") { path in
                guard let text = files[path] else { throw PlanTestError.noSuchFile }
                return text
            }
            Issue.record("a bad plan was accepted")
            return []
        } catch {
            return error.problems
        }
    }

    enum PlanTestError: Error { case noSuchFile }

    @Test func theExamplePlanReads() throws {
        let plan = try PlanReader.read(Self.exampleText(), file: "plan.example.toml", readFile: Self.readFile)
        #expect(plan.areas.map(\.id) == ["harbour-west", "harbour-east"])
        // Each 0.004° square: 270 m × 445 m; the west one holds 2 × 4 cell centres, the east one 3 × 4.
        #expect(plan.areas.map(\.cells.count) == [8, 12])
        #expect(Set(plan.areas[0].cells).isDisjoint(with: plan.areas[1].cells))
        #expect(plan.checkpoints.map(\.id) == ["jetty", "fuel-dock"])
        #expect(plan.checkpoints[1].schedule == .every(minutes: 60))
        #expect(plan.units.first?.device == "demo-car")
        #expect(plan.units.first?.shifts.map(\.span.description) == ["09:00–11:00", "22:00–02:00"])
        #expect(plan.posts.map(\.id) == ["harbour", "gate-booth"])
        #expect(plan.persons.map(\.id) == ["p-017", "v-102"])
        #expect(plan.person(badge: "0A001B2C3E")?.id == "v-102")
        #expect(plan.persons[0].quota == DutyQuota(minimumHoursPerWeek: 2, minimumDaysPerMonth: 3))
        #expect(plan.dutyRules.dayMinimumMinutes == 30)
    }

    /// Persons and posts are checked like the rest of the plan: every wrong reference, shared
    /// badge and out-of-range quota by line and key.
    @Test func personsAndPostsAreCheckedByLineAndKey() {
        let text = SyntheticPatrol.planText + """

        [[post]]
        id = "beat"
        areas = ["square", "moon"]
        [[post]]
        id = "empty"
        [[person]]
        id = "p1"
        badges = ["B1"]
        posts = ["beat"]
        min_hours_per_week = 200
        [[person]]
        id = "p2"
        badges = ["B1", "B2", "B2"]
        posts = ["night"]
        min_days_per_month = 40
        [[person]]
        id = "p1"
        posts = []
        """
        let found = problems(text).map { "\($0.line) \($0.key): \($0.message)" }
        #expect(found == [
            "29 post[0].areas: no [[area]] has id 'moon'",
            "30 post[1].areas: a post needs areas (patrolled), units (a fixed post such as a booth) or both",
            "36 person[0].min_hours_per_week: 200 is out of range; use 0 to 168",
            "39 person[1].badges: badge 'B1' already belongs to person 'p1'; a badge signs on one person",
            "39 person[1].badges: badge 'B2' is listed twice",
            "40 person[1].posts: no [[post]] has id 'night'",
            "41 person[1].min_days_per_month: 40 is out of range; use 0 to 31",
            "42 person[2].badges: a person needs badges = [\"…\"]: the ids their badge reads as at a unit's duty reader",
            "43 person[2].id: 'p1' is used twice",
            "44 person[2].posts: a person needs posts = [\"…\"]: the [[post]]s they are scheduled to",
        ])
    }

    @Test func cellsAreTheSameWhateverTheAreasAreCalledOrOrdered() throws {
        let text = try Self.exampleText()
        let plan = try PlanReader.read(text, file: "a.toml", readFile: Self.readFile)
        let renamed = try PlanReader.read(text.replacing("harbour-west", with: "zz-west"), file: "b.toml", readFile: Self.readFile)
        #expect(plan.areas[0].cells == renamed.areas[0].cells)
        #expect(plan.areas[0].cells.first?.description == "E5N8")
    }

    /// Overlapping areas share cells; a shared cell is one cell to cover, in `plan check` as in
    /// coverage (it used to count them twice: "26 cells" where coverage used 20).
    @Test func overlappingAreasCountSharedCellsOnce() throws {
        let overlap = SyntheticPatrol.ring([(300, 0), (700, 0), (700, 500), (300, 500)])
        let text = SyntheticPatrol.planText.replacing("[[checkpoint]]", with: """
            [[area]]
            id = "overlap"
            geojson = '\(overlap)'
            [[checkpoint]]
            """, maxReplacements: 1)
        let plan = try PlanReader.read(text, file: "overlap.toml") { _ in "" }
        #expect(plan.areas.map(\.cells.count) == [25, 20])
        #expect(plan.cells().count == 35, "the 10 cells of x 300–500 are counted once")
        #expect(plan.cells(ofAreas: ["square"]).count == 25)
    }

    @Test func aSelfIntersectingAreaIsRefusedWithItsLine() {
        let bowTie = SyntheticPatrol.ring([(0, 0), (500, 500), (500, 0), (0, 500)])
        let text = SyntheticPatrol.planText.replacing(SyntheticPatrol.ring([(0, 0), (500, 0), (500, 500), (0, 500)]), with: bowTie)
        let found = problems(text)
        #expect(found.map(\.key) == ["area[0].geojson"])
        #expect(found.first?.line == 7)
        #expect(found.first?.message.hasPrefix("polygon 1 of area 'square' intersects itself: ring 0 edge 1") == true)
    }

    @Test func aPlanNamesItsStreetOrBelongsToTheDistrict() throws {
        #expect(try PlanReader.read("street = \"north\"\n" + SyntheticPatrol.planText, file: "plan.toml", readFile: { _ in "" }).street == "north")
        #expect(try PlanReader.read(SyntheticPatrol.planText, file: "plan.toml", readFile: { _ in "" }).street == nil)
        let found = problems("street = \"north side\"\n" + SyntheticPatrol.planText)
        #expect(found.map(\.key) == ["street"])
        #expect(found.first?.line == 1)
        #expect(found.first?.message.contains("'north side' is not a street id") == true)
    }

    @Test func everyProblemIsReportedWithLineAndKey() {
        let text = """
        [grid]
        cell_size = 100
        colour = "red"
        [[area]]
        id = "square"
        geojson = '\(SyntheticPatrol.ring([(0, 0), (500, 0), (500, 500), (0, 500)]))'
        [[checkpoint]]
        id = "far"
        position = \(SyntheticPatrol.position(900, 900))
        every_minutes = 30
        [[unit]]
        device = "lazy"
        [[unit]]
        device = "twice"
        [[unit.shift]]
        start = "08:00"
        end = "16:00"
        areas = ["square"]
        [[unit.shift]]
        start = "15:00"
        end = "18:00"
        areas = ["nowhere"]
        """
        let found = problems(text).map { "\($0.line) \($0.key): \($0.message)" }
        #expect(found == [
            "3 grid.colour: unknown key; check the spelling against Config/*.toml",
            "9 checkpoint[0].position: checkpoint 'far' at lat 52.008094, lon 13.013147 is outside every area",
            "12 unit[0].device: unit 'lazy' has no [[unit.shift]]",
            "20 unit[1].shift[1].start: shift 15:00–18:00 overlaps shift 08:00–16:00 of the same unit",
            "22 unit[1].shift[1].areas: no [[area]] has id 'nowhere'",
        ])
    }

    @Test func overnightShiftsOverlapAcrossMidnight() {
        #expect(DailySpan(startMinute: 22 * 60, endMinute: 6 * 60).overlaps(DailySpan(startMinute: 5 * 60, endMinute: 7 * 60)))
        #expect(!DailySpan(startMinute: 22 * 60, endMinute: 6 * 60).overlaps(DailySpan(startMinute: 6 * 60, endMinute: 22 * 60)))
    }

    @Test func aMissingOrBrokenGeoJSONFileIsNamed() {
        let text = """
        [[area]]
        id = "a"
        geojson_file = "a.geojson"
        [[area]]
        id = "b"
        geojson_file = "b.geojson"
        [[unit]]
        device = "x"
        [[unit.shift]]
        start = "08:00"
        end = "09:00"
        areas = ["a"]
        """
        let found = problems(text, files: ["b.geojson": #"{"type":"LineString","coordinates":[[1,2],[3,4]]}"#])
        #expect(found.map(\.key) == ["area[0].geojson_file", "area[1].geojson_file"])
        #expect(found.map(\.line) == [3, 6])
        #expect(found[0].message.hasPrefix("cannot read a.geojson"))
        #expect(found[1].message == "b.geojson: a patrol area must be a Polygon or MultiPolygon, not LineString")
    }

    @Test func badTimesAndSchedulesAreExplained() {
        let text = SyntheticPatrol.planText
            .replacing(#"windows = ["08:00-09:00"]"#, with: #"windows = ["8-9"]"#)
            .replacing(#"start = "08:00""#, with: #"start = "25:00""#)
        let found = problems(text).map { "\($0.key): \($0.message)" }
        #expect(found == [
            "checkpoint[0].windows: '8-9' is not a window; write \"HH:MM-HH:MM\" (local time of the plan's time_zone)",
            "unit[0].shift[0].start: '25:00' is not a time of day; write \"HH:MM\"",
        ])
    }

    @Test func aCheckpointWithoutPlaceOrScheduleSaysWhatIsMissing() {
        let text = SyntheticPatrol.planText
            .replacing("position = \(SyntheticPatrol.position(250, 250))\n", with: "")
            .replacing(#"windows = ["08:00-09:00"]"#, with: "")
        let found = problems(text).map { "\($0.key): \($0.message)" }
        #expect(found == [
            "checkpoint[0].position: a checkpoint needs position = { lat = …, lon = … }",
            "checkpoint[0].windows: a checkpoint needs windows = [\"HH:MM-HH:MM\", …] or every_minutes = N",
        ])
    }

    @Test func anAreaTooLargeForTheGridIsRefused() {
        let text = SyntheticPatrol.planText
            .replacing(SyntheticPatrol.ring([(0, 0), (500, 0), (500, 500), (0, 500)]),
                       with: SyntheticPatrol.ring([(0, 0), (200_000, 0), (200_000, 200_000), (0, 200_000)]))
        let found = problems(text)
        #expect(found.map(\.key) == ["area[0].geojson"])
        #expect(found.first?.message == "area 'square' spans 4000000 cells of 100 m, more than 1000000; draw smaller areas or make [grid] cell_size larger")
    }
}
