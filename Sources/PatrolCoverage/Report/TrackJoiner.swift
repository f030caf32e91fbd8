import PatrolCore

/// The join rule, one definition for shift reports and cell histories: which consecutive fixes
/// are joined by a straight line, and when the device was silent.
///
/// Consecutive usable fixes are joined when nothing between them is a data gap (no "device
/// silent" stretch, at most `fixGapSeconds` apart) and they are at most `interpolateMaxGapSeconds`
/// apart or the unit stayed put between them (moved slower than `stationarySpeed`). A fix with
/// HDOP above `maxHDOP` is not usable; it only proves the device alive. Nothing from the device
/// (point, heartbeat, event) for over `silentAfterSeconds` is a "device silent" stretch.
struct TrackJoiner {
    let rules: CoverageRules
    let grid: CellGrid
    /// Heartbeat and event times, sorted; merged with the points as they arrive.
    private let lifeSigns: [UTCTime]
    private var nextLifeSign = 0
    private var lastHeard: UTCTime
    private(set) var silences: [Range<UTCTime>] = []
    private(set) var lastFix: Fix?

    /// A usable fix where the joiner saw it.
    struct Fix {
        var time: UTCTime
        var point: PlanePoint
        var speed: Double?
    }

    /// How a usable fix relates to the one before it.
    struct Step {
        var fix: Fix
        var previous: Fix?
        /// No data gap since the previous fix (a stay may continue across it).
        var withoutDataGap: Bool
        /// Joined by a straight line to the previous fix.
        var joined: Bool
        var seconds: Double
        var metres: Double
        /// Metres per second between the two fixes.
        var movement: Double { seconds > 0 ? metres / seconds : 0 }
    }

    /// - Parameters:
    ///   - start: where silence is counted from (the shift's or the range's start).
    ///   - lifeSigns: times of the device's heartbeats and events, any order.
    init(rules: CoverageRules, grid: CellGrid, start: UTCTime, lifeSigns: [UTCTime]) {
        self.rules = rules
        self.grid = grid
        self.lifeSigns = lifeSigns.sorted()
        lastHeard = start
    }

    func isUsable(_ point: CoveragePoint) -> Bool {
        point.hdop.map { $0 <= rules.maxHDOP } ?? true
    }

    /// Takes the next usable fix (after `heard(at:)` for its time).
    mutating func step(to point: CoveragePoint) -> Step {
        let fix = Fix(time: point.time, point: grid.project(point.coordinate), speed: point.speed)
        defer { lastFix = fix }
        guard let previous = lastFix else {
            return Step(fix: fix, previous: nil, withoutDataGap: false, joined: false, seconds: 0, metres: 0)
        }
        let seconds = previous.time.seconds(to: fix.time)
        let metres = previous.point.squaredDistance(to: fix.point).squareRoot()
        let silentSince = silences.last.map { $0.upperBound > previous.time } ?? false
        let withoutDataGap = seconds <= rules.fixGapSeconds && !silentSince
        var step = Step(fix: fix, previous: previous, withoutDataGap: withoutDataGap, joined: false, seconds: seconds, metres: metres)
        step.joined = withoutDataGap && (seconds <= rules.interpolateMaxGapSeconds || step.movement < rules.stationarySpeed)
        return step
    }

    /// Stationary between two joined fixes: the movement between them is slower than
    /// `stationarySpeed`, and no receiver speed at either end says the unit was moving. (A
    /// receiver reports speed 0 at a stop; a fix taken at a stop after a long drive must not turn
    /// the drive into a stay.) Shift reports count it as time stationary; the duty report as time
    /// not on patrol.
    func isStationary(_ step: Step) -> Bool {
        step.movement < rules.stationarySpeed && [step.previous?.speed, step.fix.speed].allSatisfy { ($0 ?? 0) < rules.stationarySpeed }
    }

    /// Every cell the step covers: the cells its line passes through when joined, else the fix's own.
    func forEachCoveredCell(of step: Step, _ body: (CellIndex) -> Void) {
        if step.joined, let previous = step.previous {
            grid.forEachCell(from: previous.point, to: step.fix.point, body)
        } else {
            body(grid.cell(containing: step.fix.point))
        }
    }

    /// Takes in every life sign up to `time`, recording silences longer than the limit.
    mutating func heard(at time: UTCTime) {
        while nextLifeSign < lifeSigns.count, lifeSigns[nextLifeSign] < time {
            noteHeard(lifeSigns[nextLifeSign])
            nextLifeSign += 1
        }
        noteHeard(time)
    }

    private mutating func noteHeard(_ time: UTCTime) {
        guard time >= lastHeard else { return }
        if lastHeard.seconds(to: time) > rules.silentAfterSeconds { silences.append(lastHeard..<time) }
        lastHeard = time
    }
}
