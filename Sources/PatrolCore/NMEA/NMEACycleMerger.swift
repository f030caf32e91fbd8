/// Merges the sentences of one reporting cycle into one `Fix`, following gpsd 3.22
/// (`driver_nmea0183.c` and `gpsd_poll`), so that our fixes match what gpsd reports.
///
/// How gpsd does it, and so how we do it:
/// - A cycle starts when a sentence carries a time of day different from the last one seen
///   (RMC with a valid status, GGA, GLL, GNS, ZDA). The previous cycle's fix is then final and
///   the merged fix is cleared.
/// - A fix has a time only once a date is known: RMC and ZDA supply it, GGA/GLL/GNS only the
///   time of day. A receiver that never sends a date produces no fixes.
/// - The mode comes from GSA when present; otherwise from the position sentences, using
///   altitude and the number of satellites as hints for 3D, and never downgraded from 3D
///   while altitude keeps coming.
/// - Sentences decide with the fix merged so far, which for the sentence that starts a cycle
///   is still the previous cycle's (a leading RMC inherits 3D from the last cycle's GGA).
struct NMEACycleMerger {
    private let rollover: WeekRollover
    /// The date of the current day, once RMC or ZDA supplied one.
    private var date: NMEADate?
    /// The last hour merged, to roll the date over at midnight between two dated sentences.
    private var lastHour = 0
    /// The time of day that identifies the current cycle.
    private var cycleTimeOfDay: Int?
    /// The fix merged so far in this cycle.
    private var fix = Fix()
    /// The fix of the previous cycle, as it was when the cycle ended.
    private var previousCycleFix = Fix()
    private var lastEmittedTime: UTCTime?
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
        switch sentence {
        case .gga(let gga): applyGGA(gga, talker: talker, to: &update)
        case .rmc(let rmc): applyRMC(rmc, to: &update)
        case .gns(let gns): applyGNS(gns, to: &update)
        case .gll(let gll): applyGLL(gll, to: &update)
        case .vtg(let vtg):
            update.track = vtg.track
            update.speed = vtg.speedKnots * NMEACycleMerger.metresPerSecondPerKnot
        case .gsa(let gsa): applyGSA(gsa, to: &update)
        case .zda(let zda):
            mergeTimeOfDay(zda.timeOfDay)
            date = zda.date
            setTime(zda.timeOfDay, in: &update)
        }
        if case .gsa = sentence {} else { lastGSATalker = 0 }
        finish(update, onFix: onFix)
    }

    /// A sentence we do not decode still separates GSA groups, as in gpsd.
    mutating func noteOtherSentence() {
        lastGSATalker = 0
    }

    /// Emits the last cycle at the end of input.
    mutating func finish(onFix: (Fix) -> Void) {
        endCycle(onFix: onFix)
        fix = Fix()
        cycleTimeOfDay = nil
    }

    static let metresPerSecondPerKnot = 1852.0 / 3600.0

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
        if gga.quality == 0, gga.timeOfDay == nil {
            clearTime(in: &update)
        }
        if let time = gga.timeOfDay {
            mergeTimeOfDay(time)
            setTime(time, in: &update)
        }
        if let position = gga.position {
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
    private mutating func applyGSA(_ gsa: NMEASentence.GSA, to update: inout Update) {
        var mode: FixMode?
        if gsa.isComplete, !modeLatched {
            mode = gsa.mode
            update.hdop = gsa.hdop
            if lastGSATalker == 0 || (gsa.talker == lastGSATalker && gsa.talker != ASCII.n) {
                gsaSatellitesUsed = 0
            }
            lastGSATalker = gsa.talker
            if gsa.talker != ASCII.p { seenNonGPSGSA = true }
            gsaSatellitesUsed += gsa.satellitesUsed
            update.satellitesUsed = gsaSatellitesUsed
        }
        if seenNonGPSGSA, gsa.talker == ASCII.p {
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
    }

    // MARK: Cycle

    private mutating func finish(_ update: Update, onFix: (Fix) -> Void) {
        var update = update
        // Don't downgrade a 3D fix to 2D while altitude keeps coming (RMC or GLL after GGA).
        if let mode = update.mode, mode != .noFix, fix.mode == .threeD,
           previousCycleFix.altitudeMSL != nil || fix.altitudeMSL != nil {
            update.mode = .threeD
        }
        if let timeOfDay = update.cycleTimeOfDay, timeOfDay != cycleTimeOfDay {
            endCycle(onFix: onFix)
            previousCycleFix = fix
            fix = Fix()
            cycleTimeOfDay = timeOfDay
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
    }

    private mutating func endCycle(onFix: (Fix) -> Void) {
        guard let time = fix.time, time != lastEmittedTime else { return }
        lastEmittedTime = time
        onFix(fix)
    }
}
