/// Merges the sentences of one reporting cycle into one `Fix`, following gpsd 3.22
/// (`driver_nmea0183.c` and `gpsd_poll`), so that our fixes match what gpsd reports.
///
/// How gpsd does it, and so how we do it:
/// - A cycle starts when a timed sentence (valid RMC, GGA, GLL, GNS, GBS) carries a time of day
///   more than 10 ms from the previous one; the merged fix is then cleared. ZDA sets the date
///   and time but does not start a cycle.
/// - A fix has a time only once a date is known: RMC and ZDA supply it, GGA/GLL/GNS only the
///   time of day. A receiver that never sends a date produces no fixes.
/// - The mode comes from GSA when present; otherwise from the position sentences, using
///   altitude and the number of satellites as hints for 3D, and never downgraded from 3D
///   while altitude keeps coming.
/// - Sentences decide with the fix merged so far, which for the sentence that starts a cycle
///   is still the previous cycle's (a leading RMC inherits 3D from the last cycle's GGA).
/// - gpsd learns which sentence type ends a cycle (the last timed one before the time changes)
///   and reports the fix when that type arrives; sentences after it with the same time are
///   not in that time's report. A cycle's fix is its last report.
///
/// Deliberate differences, each with a test saying why: a cycle that was never reported (its
/// ender sentence missing, or the last cycle of the input) is emitted as merged, where gpsd
/// drops it; fixes without a date are not emitted; a GGA flagged invalid gives no position;
/// a sentence with an impossible field is rejected whole (see `NMEASentence`).
struct NMEACycleMerger {
    private let rollover: WeekRollover
    /// The date of the current day, once RMC or ZDA supplied one.
    private var date: NMEADate?
    /// The last hour merged, to roll the date over at midnight between two dated sentences.
    private var lastHour = 0
    /// The time of day of the last timed sentence, which identifies the current cycle.
    private var cycleTimeOfDay: Int?
    /// The fix merged so far in this cycle.
    private var fix = Fix()
    /// The fix of the previous cycle, as it was when the cycle ended.
    private var previousCycleFix = Fix()
    /// The fix as last reported in the current cycle, not yet emitted.
    private var reported: Fix?
    /// The current cycle has been reported at least once.
    private var cycleReported = false
    private var lastEmittedTime: UTCTime?
    private(set) var fixesEmitted = 0
    /// Sentence types (`CycleTag` bits) learned to end a cycle.
    private var cycleEnders: UInt16 = 0
    private var cycleEndIsReliable = false
    /// The type of the last sentence that carried a time of day.
    private var lastTimedTag: CycleTag?
    /// gpsd's `cycle_continue`: once a depth sentence is seen, untimed sentences extend cycles.
    private var cycleContinues = false
    /// Satellites counted across the GSA sentences of a cycle (one per constellation).
    private var gsaSatellitesUsed = 0
    /// Talker letter of the GSA just before this sentence, 0 after any other sentence.
    private var lastGSATalker: UInt8 = 0
    /// A GSA from another constellation than GPS was seen: a GPGSA then no longer sets the mode.
    private var seenNonGPSGSA = false
    private var lastGGATalker: UInt8 = 0
    /// The time field of the last GGA that did not repeat its predecessor's time (nil: empty).
    private var lastGGATimeOfDay: Int?
    /// The last GGA repeated the previous GGA's time: the receiver has lost lock and
    /// keeps sending a stale fix, so the GSA that follows is not trusted either.
    private var modeLatched = false

    init(rollover: WeekRollover) {
        self.rollover = rollover
    }

    /// What one sentence contributes, as gpsd's `newdata` plus its change mask.
    private struct Update {
        var cycleTimeOfDay: Int?
        /// A receiver without time forces a report (gpsd's `REPORT_IS` for `$GPRMC,,V,…`).
        var forcesReport = false
        /// The sentence sets the time; nil time means "no valid time" (gpsd's time zero).
        var setsTime = false
        var time: UTCTime?
        var mode: FixMode?
        var position: NMEASentence.Position?
        var altitudeMSL: Double?
        var speed: Double?
        var track: Double?
        var hdop: Double?
        var satellitesUsed: Int?
    }

    /// Merges one decoded sentence from `talker` (the second talker letter: `P` for GP, `N` for GN…);
    /// calls `onFix` when the sentence closes the previous cycle.
    mutating func apply(_ sentence: NMEASentence, talker: UInt8, onFix: (Fix) -> Void) {
        var update = Update()
        let tag: CycleTag
        switch sentence {
        case .gga(let gga):
            tag = .gga
            applyGGA(gga, talker: talker, to: &update)
        case .rmc(let rmc):
            tag = .rmc
            applyRMC(rmc, to: &update)
        case .gns(let gns):
            tag = .gns
            applyGNS(gns, to: &update)
        case .gll(let gll):
            tag = .gll
            applyGLL(gll, to: &update)
        case .vtg(let vtg):
            tag = .vtg
            update.track = vtg.track
            update.speed = vtg.speedKnots.map { $0 * NMEACycleMerger.metresPerSecondPerKnot }
        case .gsa(let gsa):
            tag = gsa.isComplete ? .gsa : .none
            applyGSA(gsa, talker: talker, to: &update)
        case .zda(let zda):
            tag = .zda
            mergeTimeOfDay(zda.timeOfDay)
            date = zda.date
            // gpsd takes ZDA's time but, unlike the other timed sentences, not as a cycle boundary.
            setTime(zda.timeOfDay, in: &update)
            update.cycleTimeOfDay = nil
        }
        if tag != .gsa { lastGSATalker = 0 }
        merge(update, tag: tag, onFix: onFix)
    }

    /// A sentence we do not decode still counts for gpsd's cycle detection: it separates GSA
    /// groups, and on marine multiplexers (a depth sounder's DBT was seen) the sentences gpsd
    /// decodes extend the cycle and each one reports. `gpsdDecodes` says whether gpsd has a
    /// decoder for it; `isDepth` marks DBT; `errorEstimateTime` is the time of day of a GBS,
    /// which gpsd uses as a cycle boundary like any position sentence.
    mutating func noteOtherSentence(gpsdDecodes: Bool, isDepth: Bool, errorEstimateTime: Int?,
                                    onFix: (Fix) -> Void) {
        lastGSATalker = 0
        if isDepth { cycleContinues = true }
        var update = Update()
        update.cycleTimeOfDay = errorEstimateTime
        let tag: CycleTag = errorEstimateTime != nil ? .gbs : gpsdDecodes ? .other : .none
        merge(update, tag: tag, onFix: onFix)
    }

    /// Emits the last reported fix at the end of input.
    mutating func finish(onFix: (Fix) -> Void) {
        if !cycleReported { report(onFix: onFix) }
        emitReported(onFix: onFix)
        reported = nil
    }

    static let metresPerSecondPerKnot = 1852.0 / 3600.0
    static let cycleJitterMilliseconds = 10

    // MARK: Sentences

    private mutating func applyGGA(_ gga: NMEASentence.GGA, talker: UInt8, to update: inout Update) {
        let previousTalker = lastGGATalker
        lastGGATalker = talker
        modeLatched = (previousTalker == 0 || previousTalker == talker) && gga.timeOfDay == lastGGATimeOfDay
        if modeLatched {
            update.mode = .noFix
        } else {
            lastGGATimeOfDay = gga.timeOfDay
        }
        if gga.quality == 0, gga.timeOfDay == nil { // `$GPGGA,,,,,,0,…`: the receiver has no clock
            clearTime(in: &update)
        }
        if let time = gga.timeOfDay {
            mergeTimeOfDay(time)
            setTime(time, in: &update)
        }
        // Unlike gpsd, a position flagged invalid (quality 0, a stale last position on some
        // receivers) is not used. Fewer than 3 satellites cannot give a fix at all.
        if let position = gga.position, gga.quality != 0 {
            update.position = position
            update.mode = .twoD
            if let altitude = gga.altitudeMSL {
                update.altitudeMSL = altitude
                if gga.satellitesUsed >= 4 { update.mode = .threeD }
            }
            if gga.satellitesUsed < 3 { update.mode = .noFix }
        } else {
            update.mode = .noFix
        }
        update.hdop = gga.hdop
        update.satellitesUsed = gga.satellitesUsed
    }

    private mutating func applyRMC(_ rmc: NMEASentence.RMC, to update: inout Update) {
        guard rmc.isValid else {
            update.mode = .noFix
            if rmc.lacksTimeOrDate { clearTime(in: &update) }
            return
        }
        if let time = rmc.timeOfDay, let rmcDate = rmc.date {
            mergeTimeOfDay(time)
            date = rmcDate
            setTime(time, in: &update)
        }
        if let position = rmc.position {
            update.position = position
            update.mode = previousCycleFix.mode == .threeD ? .threeD : .twoD
        } else {
            update.mode = .noFix
        }
        if let knots = rmc.speedKnots { update.speed = knots * NMEACycleMerger.metresPerSecondPerKnot }
        update.track = rmc.track
        // RMC has no dimension: gpsd calls it 3D with four GSA satellites or a known altitude.
        if gsaSatellitesUsed > 3 || fix.altitudeMSL != nil { update.mode = .threeD }
    }

    private mutating func applyGLL(_ gll: NMEASentence.GLL, to update: inout Update) {
        if let time = gll.timeOfDay {
            mergeTimeOfDay(time)
            setTime(time, in: &update)
        }
        guard gll.isValid, let position = gll.position else {
            update.mode = .noFix
            return
        }
        update.position = position
        if fix.altitudeMSL != nil || gsaSatellitesUsed > 3 {
            update.mode = .threeD
        } else if fix.mode < .twoD || previousCycleFix.altitudeMSL == nil {
            update.mode = .twoD
        } else {
            update.mode = fix.mode
        }
    }

    private mutating func applyGNS(_ gns: NMEASentence.GNS, to update: inout Update) {
        if let time = gns.timeOfDay {
            mergeTimeOfDay(time)
            setTime(time, in: &update)
        }
        guard gns.mode != 0, gns.mode != ASCII.n else {
            update.mode = .noFix
            return
        }
        guard gns.navigationStatus != ASCII.u, gns.navigationStatus != ASCII.v else { return }
        if let position = gns.position {
            update.position = position
            update.mode = .twoD
            if let altitude = gns.altitudeMSL {
                update.altitudeMSL = altitude
                if gns.satellitesUsed > 3 { update.mode = .threeD }
            }
        } else {
            update.mode = .noFix
        }
        update.hdop = gns.hdop
        update.satellitesUsed = gns.satellitesUsed
    }

    /// GSA: receivers send one per constellation (GP+GL, or several GN); the satellites add up,
    /// and once other constellations have been seen a GPGSA alone no longer decides the mode.
    private mutating func applyGSA(_ gsa: NMEASentence.GSA, talker: UInt8, to update: inout Update) {
        var mode: FixMode?
        if gsa.isComplete, !modeLatched {
            mode = gsa.mode
            update.hdop = gsa.hdop
            if lastGSATalker == 0 || (talker == lastGSATalker && talker != ASCII.n) {
                gsaSatellitesUsed = 0
            }
            lastGSATalker = talker
            if talker != ASCII.p { seenNonGPSGSA = true }
            gsaSatellitesUsed += gsa.satellitesUsed
            update.satellitesUsed = gsaSatellitesUsed
        }
        if seenNonGPSGSA, talker == ASCII.p {
            update.hdop = nil
            update.satellitesUsed = nil
        } else {
            update.mode = mode
        }
    }

    // MARK: Time

    /// Rolls the date over when the hour goes backwards (midnight), as gpsd does.
    private mutating func mergeTimeOfDay(_ milliseconds: Int) {
        let hour = milliseconds / 3_600_000
        if hour < lastHour, let current = date {
            date = NMEADate(daysSinceEpoch: current.daysSinceEpoch + 1)
        }
        lastHour = hour
    }

    private mutating func setTime(_ timeOfDay: Int, in update: inout Update) {
        update.cycleTimeOfDay = timeOfDay
        guard let date else { return }
        update.setsTime = true
        let milliseconds = Int64(date.daysSinceEpoch) * 86_400_000 + Int64(timeOfDay)
        update.time = rollover.corrected(UTCTime(millisecondsSinceEpoch: milliseconds))
    }

    /// A receiver without any time (`$GPRMC,,V,…`) invalidates the date it gave before.
    private mutating func clearTime(in update: inout Update) {
        date = nil
        lastHour = 0
        update.setsTime = true
        update.time = nil
        update.forcesReport = true
    }

    // MARK: Cycle

    /// Sentence types as gpsd's end-of-cycle detector tells them apart: ours, GBS (timed),
    /// `other` for the untimed sentences only gpsd decodes, `none` for those nobody decodes.
    enum CycleTag: UInt16 {
        case none = 1, gga = 2, rmc = 4, gns = 8, gll = 16, vtg = 32, gsa = 64, zda = 128, gbs = 256, other = 512
    }

    /// gpsd's detector: when the time of day changes, the last timed sentence type before the
    /// change is learned as a cycle ender, and from then on the fix is reported when an ender
    /// arrives. Until one is learned, every sentence that sets position or mode reports.
    private mutating func merge(_ update: Update, tag: CycleTag, onFix: (Fix) -> Void) {
        var update = update
        var startsCycle = false
        var reports = update.forcesReport
        if let timeOfDay = update.cycleTimeOfDay {
            defer { cycleTimeOfDay = timeOfDay }
            // gpsd compares with the previous timed sentence and allows 10 ms of jitter
            // (a GLL at .295 and a GGA at .30 belong to one cycle).
            if abs(timeOfDay - (cycleTimeOfDay ?? -1_000)) > NMEACycleMerger.cycleJitterMilliseconds {
                startsCycle = true
                if let last = lastTimedTag, cycleEnders & last.rawValue == 0, !cycleContinues {
                    cycleEnders |= last.rawValue
                    cycleEndIsReliable = true
                }
            }
        } else if cycleContinues {
            if let last = lastTimedTag { cycleEnders &= ~last.rawValue }
            cycleEnders |= tag.rawValue
            cycleEndIsReliable = true
        }
        if tag != .none, update.cycleTimeOfDay != nil || cycleContinues, cycleEnders & tag.rawValue != 0 {
            reports = true
        }
        if update.cycleTimeOfDay != nil { lastTimedTag = tag }

        // Don't downgrade a 3D fix to 2D while altitude keeps coming (RMC or GLL after GGA).
        if let mode = update.mode, mode != .noFix, fix.mode == .threeD,
           previousCycleFix.altitudeMSL != nil || fix.altitudeMSL != nil {
            update.mode = .threeD
        }
        if startsCycle {
            if !cycleReported { report(onFix: onFix) }
            cycleReported = false
            previousCycleFix = fix
            fix = Fix()
        }
        if update.setsTime { fix.time = update.time }
        if let mode = update.mode { fix.mode = mode }
        if let position = update.position {
            fix.latitude = position.latitude
            fix.longitude = position.longitude
        }
        if let altitude = update.altitudeMSL { fix.altitudeMSL = altitude }
        if let speed = update.speed { fix.speed = speed }
        if let track = update.track { fix.track = track }
        if let hdop = update.hdop { fix.hdop = hdop }
        if let satellites = update.satellitesUsed { fix.satellitesUsed = satellites }

        if !cycleEndIsReliable, update.position != nil || update.mode != nil { reports = true }
        if reports { report(onFix: onFix) }
    }

    /// gpsd reports the merged fix; the last report for a time is that time's fix, so a report
    /// is held until one with another time replaces it.
    private mutating func report(onFix: (Fix) -> Void) {
        cycleReported = true
        if let reported, reported.time != fix.time { emitReported(onFix: onFix) }
        reported = fix
    }

    private mutating func emitReported(onFix: (Fix) -> Void) {
        guard let reported, let time = reported.time, time != lastEmittedTime else { return }
        lastEmittedTime = time
        fixesEmitted += 1
        onFix(reported)
    }
}
