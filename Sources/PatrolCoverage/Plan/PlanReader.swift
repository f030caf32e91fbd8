import PatrolCore

/// Reads a plan file (TOML, documented in Config/plan.example.toml) and checks it as a whole:
/// every problem is reported at once with its line and key, as the agent's and centre's configs are.
///
/// No I/O: a referenced `.geojson` file is read through `readFile`, which the caller resolves
/// relative to the plan's folder; `time_zone` names a zone whose compiled file (TZif) `readZone`
/// returns (the centre reads the system's zone database).
public enum PlanReader {
    public static func read(_ text: String, file: String, readFile: (String) throws -> String,
                            readZone: (String) throws -> [UInt8] = { _ in [] }) throws(ConfigError) -> PatrolPlan {
        let table: TOMLTable
        do { table = try TOMLParser.parse(text) } catch {
            throw ConfigError(file: file, problems: [ConfigProblem(line: error.line, key: "-", message: error.message)])
        }
        let reader = ConfigReader(table)
        let name = reader.string("name", default: "patrol plan")
        let street = reader.string("street")
        if let street, !(1...UplinkLimits.maxDeviceIDBytes).contains(street.utf8.count) || street.contains(where: \.isWhitespace) {
            reader.problem("street", "'\(street)' is not a street id; write it as `devices add --street` names it (1 to 64 bytes, no spaces)")
        }
        let timeZone = readTimeZone(reader, readZone: readZone)
        let rules = readRules(reader.table("rules"))

        let areaReaders = reader.tables("area")
        let outlines = areaReaders.map { readOutline($0, readFile: readFile) }
        let gridReader = reader.table("grid")
        let cellSize = gridReader.number("cell_size", default: 100, in: 10...1000)
        let origin = gridReader.has("origin") ? readCoordinate(gridReader, "origin") : nil
        let grid = CellGrid(origin: origin ?? defaultOrigin(outlines.flatMap { $0 ?? [] }), cellSize: cellSize)

        var areas: [PatrolArea] = []
        var areaIDs: [String] = []
        for (areaReader, outline) in zip(areaReaders, outlines) {
            guard let id = requiredID(areaReader, "id", seen: areaIDs) else { continue }
            areaIDs.append(id)
            guard let outline else { continue }
            if let area = makeArea(id: id, outline: outline, grid: grid, reader: areaReader) { areas.append(area) }
        }
        if areaReaders.isEmpty { reader.problem("area", "a plan needs at least one [[area]]") }

        var checkpoints: [PlannedCheckpoint] = []
        var checkpointIDs: [String] = []
        for checkpointReader in reader.tables("checkpoint") {
            guard let id = requiredID(checkpointReader, "id", seen: checkpointIDs) else { continue }
            checkpointIDs.append(id)
            if let checkpoint = readCheckpoint(id: id, checkpointReader, grid: grid, areas: areas) { checkpoints.append(checkpoint) }
        }

        var units: [PatrolUnit] = []
        for unitReader in reader.tables("unit") {
            if let unit = readUnit(unitReader, areaIDs: areaIDs,
                                   checkpointIDs: checkpointIDs, seen: units.map(\.device)) {
                units.append(unit)
            }
        }
        if !reader.has("unit") { reader.problem("unit", "a plan needs at least one [[unit]] with its shifts") }

        var posts: [PatrolPost] = []
        for postReader in reader.tables("post") {
            if let post = readPost(postReader, areaIDs: areaIDs, seen: posts.map(\.id)) { posts.append(post) }
        }
        var persons: [PlannedPerson] = []
        for personReader in reader.tables("person") {
            if let person = readPerson(personReader, postIDs: posts.map(\.id), seen: persons) { persons.append(person) }
        }
        var dutyRules = DutyRules()
        dutyRules.dayMinimumMinutes = reader.table("duty").number("day_minimum_minutes", default: dutyRules.dayMinimumMinutes, in: 1...1440)

        try reader.finish(file: file)
        var plan = PatrolPlan(name: name, grid: grid, rules: rules, areas: areas, checkpoints: checkpoints, units: units,
                              timeZone: timeZone)
        plan.posts = posts
        plan.persons = persons
        plan.dutyRules = dutyRules
        plan.street = street
        return plan
    }

    /// `[[post]] id, areas, units`: what a person scheduled to it patrols, and with which units.
    private static func readPost(_ reader: ConfigReader, areaIDs: [String], seen: [String]) -> PatrolPost? {
        let id = requiredID(reader, "id", seen: seen)
        let areas = reader.strings("areas") ?? []
        let devices = reader.strings("units") ?? []
        for area in areas where !areaIDs.contains(area) { reader.problem("areas", "no [[area]] has id '\(area)'") }
        for device in devices where device.isEmpty { reader.problem("units", "a unit is named by its non-empty device id") }
        if areas.isEmpty && devices.isEmpty {
            reader.problem("areas", "a post needs areas (patrolled), units (a fixed post such as a booth) or both")
        }
        guard let id else { return nil }
        return PatrolPost(id: id, areaIDs: areas, devices: devices)
    }

    /// `[[person]] id, name, badges, posts, min_hours_per_week, min_days_per_month`.
    private static func readPerson(_ reader: ConfigReader, postIDs: [String], seen: [PlannedPerson]) -> PlannedPerson? {
        let id = requiredID(reader, "id", seen: seen.map(\.id))
        let name = reader.string("name")
        let badges = reader.strings("badges") ?? []
        let posts = reader.strings("posts") ?? []
        if !reader.has("badges") {
            reader.problem("badges", "a person needs badges = [\"…\"]: the ids their badge reads as at a unit's duty reader")
        }
        var ownBadges: Set<String> = []
        for badge in badges {
            if badge.isEmpty || badge.utf8.count > UplinkLimits.maxShortStringBytes {
                reader.problem("badges", "'\(badge)' is not a badge id; write it as the reader reports it, e.g. \"62E3086CED\"")
            } else if !ownBadges.insert(badge).inserted {
                reader.problem("badges", "badge '\(badge)' is listed twice")
            } else if let owner = seen.first(where: { $0.badges.contains(badge) }) {
                reader.problem("badges", "badge '\(badge)' already belongs to person '\(owner.id)'; a badge signs on one person")
            }
        }
        if posts.isEmpty { reader.problem("posts", "a person needs posts = [\"…\"]: the [[post]]s they are scheduled to") }
        for post in posts where !postIDs.contains(post) { reader.problem("posts", "no [[post]] has id '\(post)'") }
        let hours = reader.number("min_hours_per_week", default: nil, in: 0...168)
        let days = reader.has("min_days_per_month") ? reader.integer("min_days_per_month", default: 0, in: 0...31) : nil
        guard let id else { return nil }
        return PlannedPerson(id: id, name: name, badges: badges, postIDs: posts,
                             quota: DutyQuota(minimumHoursPerWeek: hours, minimumDaysPerMonth: days))
    }

    /// `time_zone = "Asia/Shanghai"` (an IANA name); UTC when absent.
    /// Whether `name` looks like an IANA zone name (`Asia/Shanghai`): letters, digits and `/_-+`,
    /// neither absolute nor climbing out of the zone database with `..`.
    public static func isZoneName(_ name: String) -> Bool {
        let nameCharacters = name.utf8.allSatisfy { ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || "/_-+".utf8.contains($0) }
        return nameCharacters && !name.hasPrefix("/") && !name.contains("..")
    }

    private static func readTimeZone(_ reader: ConfigReader, readZone: (String) throws -> [UInt8]) -> TimeZoneRules {
        guard let name = reader.string("time_zone"), name != "UTC" else { return .utc }
        guard isZoneName(name) else {
            reader.problem("time_zone", "'\(name)' is not a time zone name; write an IANA name such as \"Asia/Shanghai\"")
            return .utc
        }
        do {
            return try TimeZoneRules.parse(try readZone(name), name: name)
        } catch {
            reader.problem("time_zone", "'\(name)' cannot be used: \(error). Check the name (e.g. \"Asia/Shanghai\") and that the "
                           + "zone database is installed (Debian package tzdata)")
            return .utc
        }
    }

    private static func readRules(_ reader: ConfigReader) -> CoverageRules {
        var rules = CoverageRules()
        rules.interpolateMaxGapSeconds = reader.number("interpolate_max_gap_seconds", default: rules.interpolateMaxGapSeconds, in: 1...3600)
        rules.fixGapSeconds = reader.number("fix_gap_seconds", default: rules.fixGapSeconds, in: 1...86_400)
        rules.silentAfterSeconds = reader.number("silent_after_seconds", default: rules.silentAfterSeconds, in: 1...86_400)
        rules.maxHDOP = reader.number("max_hdop", default: rules.maxHDOP, in: 0.5...100)
        rules.stationarySpeed = reader.number("stationary_speed", default: rules.stationarySpeed, in: 0...10)
        return rules
    }

    /// `{ lat = …, lon = … }`
    private static func readCoordinate(_ reader: ConfigReader, _ key: String) -> Coordinate? {
        let position = reader.table(key)
        let latitude = position.number("lat", default: nil, in: -90...90)
        let longitude = position.number("lon", default: nil, in: -180...180)
        if !position.has("lat") || !position.has("lon") {
            reader.problem(key, "write the position as { lat = 52.52, lon = 13.40 }")
        }
        guard let latitude, let longitude else { return nil }
        return Coordinate(latitude: latitude, longitude: longitude)
    }

    /// The south-west corner of everything, rounded down to 0.01°: stable while the areas stay
    /// inside the same 0.01° squares. Set `[grid] origin` to make cell ids independent of the areas.
    private static func defaultOrigin(_ polygons: [[[Coordinate]]]) -> Coordinate {
        let corners = polygons.flatMap { $0.first ?? [] }
        guard !corners.isEmpty else { return Coordinate(latitude: 0, longitude: 0) }
        func floored(_ value: Double) -> Double { (value * 100).rounded(.down) / 100 }
        return Coordinate(latitude: floored(corners.map(\.latitude).min()!), longitude: floored(corners.map(\.longitude).min()!))
    }

    private static func readOutline(_ reader: ConfigReader, readFile: (String) throws -> String) -> [[[Coordinate]]]? {
        let inline = reader.string("geojson"), path = reader.string("geojson_file")
        switch (inline, path) {
        case (let text?, nil):
            do { return try GeoJSONPolygons.read(text) } catch { reader.problem("geojson", error.message) }
        case (nil, let path?):
            let text: String
            do { text = try readFile(path) } catch {
                reader.problem("geojson_file", "cannot read \(path): \(error)")
                return nil
            }
            do { return try GeoJSONPolygons.read(text) } catch { reader.problem("geojson_file", "\(path): \(error.message)") }
        case (nil, nil):
            reader.problem("geojson", "an area needs geojson = '{\"type\":\"Polygon\",…}' or geojson_file = \"FILE.geojson\"")
        case (_?, _?):
            reader.problem("geojson_file", "set geojson or geojson_file, not both")
        }
        return nil
    }

    /// A bound on the cells one area may span (a 100 km square of 100 m cells), so a polygon
    /// drawn around a whole country is an error, not minutes of work and gigabytes of cells.
    static let maximumCellsPerArea = 1_000_000

    private static func makeArea(id: String, outline: [[[Coordinate]]], grid: CellGrid, reader: ConfigReader) -> PatrolArea? {
        let key = reader.has("geojson") ? "geojson" : "geojson_file"
        let polygons = outline.map { PlanePolygon(rings: $0.map { $0.map(grid.project) }) }
        for (index, polygon) in polygons.enumerated() {
            if let crossing = polygon.firstCrossing() {
                func edge(_ e: (ring: Int, edge: Int)) -> String {
                    "ring \(e.ring) edge \(e.edge + 1) (\(format(outline[index][e.ring][e.edge])))"
                }
                reader.problem(key, "polygon \(index + 1) of area '\(id)' intersects itself: \(edge(crossing.first)) crosses \(edge(crossing.second))")
                return nil
            }
        }
        var cells: [CellIndex] = []
        for polygon in polygons {
            let bounds = polygon.bounds
            let low = grid.cell(containing: bounds.min), high = grid.cell(containing: bounds.max)
            let candidates = (Int(high.row) - Int(low.row) + 1) * (Int(high.column) - Int(low.column) + 1)
            guard candidates <= maximumCellsPerArea else {
                reader.problem(key, "area '\(id)' spans \(candidates) cells of \(FixedDecimal.format(grid.cellSize, decimals: 1)) m, more than \(maximumCellsPerArea); draw smaller areas or make [grid] cell_size larger")
                return nil
            }
            for row in low.row...high.row {
                for column in low.column...high.column {
                    let cell = CellIndex(column: column, row: row)
                    if polygon.contains(grid.centre(of: cell)) { cells.append(cell) }
                }
            }
        }
        guard !cells.isEmpty else {
            reader.problem(key, "area '\(id)' holds no cell centre of the \(FixedDecimal.format(grid.cellSize, decimals: 1)) m grid; draw it larger or make [grid] cell_size smaller")
            return nil
        }
        return PatrolArea(id: id, outlines: outline, polygons: polygons, cells: Array(Set(cells)).sorted())
    }

    private static func readCheckpoint(id: String, _ reader: ConfigReader, grid: CellGrid, areas: [PatrolArea]) -> PlannedCheckpoint? {
        let position = reader.has("position") ? readCoordinate(reader, "position") : nil
        if !reader.has("position") { reader.problem("position", "a checkpoint needs position = { lat = …, lon = … }") }
        let radius = reader.number("radius", default: 30, in: 1...1000)
        let tag = reader.string("tag")
        let dwell = reader.number("min_dwell_seconds", default: 60, in: 0...3600)
        let windows = reader.strings("windows")
        let every = reader.has("every_minutes") ? reader.integer("every_minutes", default: 60, in: 5...1440) : nil
        var schedule: VisitSchedule?
        switch (windows, every) {
        case (let texts?, nil):
            var spans: [DailySpan] = []
            for text in texts {
                guard let span = parseSpan(text) else {
                    reader.problem("windows", "'\(text)' is not a window; write \"HH:MM-HH:MM\" (local time of the plan's time_zone)")
                    continue
                }
                spans.append(span)
            }
            if texts.isEmpty { reader.problem("windows", "list at least one window, or use every_minutes") }
            schedule = .windows(spans)
        case (nil, let minutes?): schedule = .every(minutes: minutes)
        case (nil, nil): reader.problem("windows", "a checkpoint needs windows = [\"HH:MM-HH:MM\", …] or every_minutes = N")
        case (_?, _?): reader.problem("every_minutes", "set windows or every_minutes, not both")
        }
        guard let position, let schedule else { return nil }
        let planePosition = grid.project(position)
        if !areas.isEmpty, !areas.contains(where: { $0.polygons.contains { $0.contains(planePosition) } }) {
            reader.problem("position", "checkpoint '\(id)' at \(format(position)) is outside every area")
        }
        return PlannedCheckpoint(id: id, position: position, planePosition: planePosition, radius: radius, tagID: tag,
                          schedule: schedule, minimumDwellSeconds: dwell)
    }

    /// A shift's required local time of day `key` ("HH:MM") in minutes; nil, with the problem
    /// recorded, when it is missing or not a time.
    private static func readClock(_ reader: ConfigReader, _ key: String) -> Int? {
        guard reader.has(key) else {
            reader.problem(key, "a shift needs \(key) = \"HH:MM\" (local time of the plan's time_zone)")
            return nil
        }
        return reader.string(key).flatMap { text in
            parseClock(text) ?? { reader.problem(key, "'\(text)' is not a time of day; write \"HH:MM\""); return nil }()
        }
    }

    static let weekdayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// One `[[unit.shift]]` (or a shift of an override): start, end, areas, checkpoints, days.
    private static func readShift(_ reader: ConfigReader, areaIDs: [String], checkpointIDs: [String], daysAllowed: Bool) -> ShiftPlan? {
        let start = readClock(reader, "start")
        let end = readClock(reader, "end")
        let areas = reader.strings("areas") ?? []
        let checkpoints = reader.strings("checkpoints") ?? []
        for area in areas where !areaIDs.contains(area) { reader.problem("areas", "no [[area]] has id '\(area)'") }
        for checkpoint in checkpoints where !checkpointIDs.contains(checkpoint) {
            reader.problem("checkpoints", "no [[checkpoint]] has id '\(checkpoint)'")
        }
        if areas.isEmpty && checkpoints.isEmpty { reader.problem("areas", "a shift needs areas, checkpoints or both") }
        var weekdays: Set<Int>?
        if daysAllowed, let days = reader.strings("days") {
            weekdays = Set(days.compactMap { day in
                weekdayNames.firstIndex(of: day.lowercased()) ?? {
                    reader.problem("days", "'\(day)' is not a weekday; write \"mon\", \"tue\", … \"sun\"")
                    return nil
                }()
            })
            if days.isEmpty { reader.problem("days", "an empty list would never be worked; leave days out for every day") }
        }
        guard let start, let end else { return nil }
        return ShiftPlan(span: DailySpan(startMinute: start, endMinute: end), areaIDs: areas, checkpointIDs: checkpoints, weekdays: weekdays)
    }

    /// `[[unit.override]] date = "2026-10-01"` with `off = true` or its own `[[unit.override.shift]]`s.
    private static func readOverride(_ reader: ConfigReader, areaIDs: [String], checkpointIDs: [String], seen: [Int]) -> ShiftOverride? {
        let dateText = reader.string("date")
        let off = reader.bool("off", default: false)
        let shiftReaders = reader.tables("shift")
        let shifts = shiftReaders.compactMap { readShift($0, areaIDs: areaIDs, checkpointIDs: checkpointIDs, daysAllowed: false) }
        if off == !shiftReaders.isEmpty {
            reader.problem("off", "an override is either a day off (off = true) or has its own [[unit.override.shift]]s")
        }
        guard let dateText else {
            reader.problem("date", "an override needs date = \"YYYY-MM-DD\" (the local date its shifts start on)")
            return nil
        }
        guard let day = parseDate(dateText) else {
            reader.problem("date", "'\(dateText)' is not a date; write \"YYYY-MM-DD\"")
            return nil
        }
        guard !seen.contains(day) else {
            reader.problem("date", "\(dateText) is overridden twice; put its shifts in one override")
            return nil
        }
        return ShiftOverride(day: day, shifts: shifts)
    }

    private static func readUnit(_ reader: ConfigReader, areaIDs: [String], checkpointIDs: [String], seen: [String]) -> PatrolUnit? {
        let device = requiredID(reader, "device", seen: seen)
        let name = reader.string("name")
        var shifts: [ShiftPlan] = []
        let shiftReaders = reader.tables("shift")
        for shiftReader in shiftReaders {
            guard let shift = readShift(shiftReader, areaIDs: areaIDs, checkpointIDs: checkpointIDs, daysAllowed: true) else { continue }
            // Shifts on weekdays that never meet do not overlap; a daily shift meets every other.
            let allDays = Set(0..<7)
            if let other = shifts.first(where: {
                $0.span.overlaps(shift.span) && !($0.weekdays ?? allDays).isDisjoint(with: shift.weekdays ?? allDays)
            }) {
                shiftReader.problem("start", "shift \(shift.span) overlaps shift \(other.span) of the same unit")
            }
            shifts.append(shift)
        }
        var overrides: [ShiftOverride] = []
        for overrideReader in reader.tables("override") {
            if let override = readOverride(overrideReader, areaIDs: areaIDs, checkpointIDs: checkpointIDs, seen: overrides.map(\.day)) {
                overrides.append(override)
            }
        }
        guard let device else { return nil }
        if shiftReaders.isEmpty { reader.problem("device", "unit '\(device)' has no [[unit.shift]]") }
        return PatrolUnit(device: device, name: name, shifts: shifts, overrides: overrides)
    }

    /// A non-empty id not used before in the same list.
    private static func requiredID(_ reader: ConfigReader, _ key: String, seen: [String]) -> String? {
        guard let id = reader.string(key), !id.isEmpty else {
            reader.problem(key, "missing or empty")
            return nil
        }
        guard !seen.contains(id) else {
            reader.problem(key, "'\(id)' is used twice")
            return nil
        }
        return id
    }

    /// "YYYY-MM-DD" to days since 1970-01-01; nil for anything else, 30 February included.
    static func parseDate(_ text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        let days = CivilDate.daysSinceEpoch(year: year, month: month, day: day)
        let back = CivilDate.fromDaysSinceEpoch(days)
        return back.year == year && back.month == month && back.day == day ? days : nil
    }

    /// "HH:MM" to minutes after midnight.
    static func parseClock(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let hours = Int(parts[0]), let minutes = Int(parts[1]),
              (0..<24).contains(hours), (0..<60).contains(minutes) else { return nil }
        return hours * 60 + minutes
    }

    /// "HH:MM-HH:MM"; an empty span is refused.
    static func parseSpan(_ text: String) -> DailySpan? {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let start = parseClock(String(parts[0])), let end = parseClock(String(parts[1])), start != end else { return nil }
        return DailySpan(startMinute: start, endMinute: end)
    }

    private static func format(_ coordinate: Coordinate) -> String {
        "lat \(FixedDecimal.format(coordinate.latitude, decimals: 6)), lon \(FixedDecimal.format(coordinate.longitude, decimals: 6))"
    }
}
