/// The supported sentences, parsed and range-checked but not yet merged into a fix.
///
/// Parsing is strict: a field that is present but not a valid number, or a value outside the
/// physically possible range, makes the parser return nil and the decoder counts the sentence
/// as malformed. An empty field means "not reported" and is not an error.
enum NMEASentence {
    case gga(GGA)
    case rmc(RMC)
    case gns(GNS)
    case gll(GLL)
    case vtg(VTG)
    case gsa(GSA)
    case zda(ZDA)

    /// The supported sentence types, keyed by the three letters after the talker.
    enum Kind {
        case gga, rmc, gns, gll, vtg, gsa, zda

        init?(_ a: UInt8, _ b: UInt8, _ c: UInt8) {
            switch (a, b, c) {
            case (0x47, 0x47, 0x41): self = .gga // GGA
            case (0x52, 0x4D, 0x43): self = .rmc // RMC
            case (0x47, 0x4E, 0x53): self = .gns // GNS
            case (0x47, 0x4C, 0x4C): self = .gll // GLL
            case (0x56, 0x54, 0x47): self = .vtg // VTG
            case (0x47, 0x53, 0x41): self = .gsa // GSA
            case (0x5A, 0x44, 0x41): self = .zda // ZDA
            default: return nil
            }
        }
    }

    /// A validated WGS84 position.
    struct Position {
        var latitude: Double
        var longitude: Double
    }

    /// Global positioning fix data: time, position, quality, satellites, HDOP, altitude.
    struct GGA {
        var timeOfDay: Int?
        var position: Position?
        /// Fix quality (0 = invalid); nil when the field is empty.
        var quality: Int?
        var satellitesUsed: Int
        var hdop: Double?
        var altitudeMSL: Double?
    }

    /// Recommended minimum data: time, date, status, position, speed, track.
    struct RMC {
        var timeOfDay: Int?
        /// `A` (valid) or `D` (differential) mean a fix; anything else (`V`) means none.
        var isValid: Bool
        var position: Position?
        var speedKnots: Double?
        var track: Double?
        var date: NMEADate?
        /// The time or the date field was empty.
        var lacksTimeOrDate: Bool
    }

    /// GNSS fix data (NMEA 4): like GGA with a mode indicator per constellation.
    struct GNS {
        var timeOfDay: Int?
        /// First mode-indicator letter; `N` or missing means no fix.
        var mode: UInt8
        /// Navigation status (NMEA 4.1); `U` unsafe or `V` invalid means the position is not usable.
        var navigationStatus: UInt8
        var position: Position?
        var satellitesUsed: Int
        var hdop: Double?
        var altitudeMSL: Double?
    }

    /// Geographic position with time and status.
    struct GLL {
        var position: Position?
        var timeOfDay: Int?
        var isValid: Bool
    }

    /// Track and ground speed, both or neither.
    struct VTG {
        var track: Double?
        var speedKnots: Double?
    }

    /// Fix dimension and satellites used; the talker tells which constellation.
    struct GSA {
        /// 1 no fix, 2 2D, 3 3D; nil for a dead-reckoning `E` or a short sentence.
        var mode: FixMode?
        var satellitesUsed: Int
        var hdop: Double?
        /// gpsd ignores GSA sentences with fewer than 18 fields (tag included).
        var isComplete: Bool
    }

    /// Time and full date.
    struct ZDA {
        var timeOfDay: Int
        var date: NMEADate
    }
}

/// A calendar date as days since 1970-01-01.
struct NMEADate: Equatable {
    var daysSinceEpoch: Int

    /// Validates day against the month's real length (no 31 June, no 29 February 2023).
    init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= NMEADate.length(ofMonth: month, year: year) else { return nil }
        daysSinceEpoch = CivilDate.daysSinceEpoch(year: year, month: month, day: day)
    }

    init(daysSinceEpoch: Int) {
        self.daysSinceEpoch = daysSinceEpoch
    }

    static func length(ofMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension NMEASentence {
    /// Parses the fields after the address field. `fieldCount` counts all fields, address included,
    /// as gpsd counts them; each parser first checks gpsd's minimum count for its type.
    /// Returns nil for a malformed sentence.
    static func parse(_ kind: Kind, fields: inout NMEAFieldReader, fieldCount: Int) -> NMEASentence? {
        switch kind {
        case .gga: parseGGA(&fields, fieldCount).map(NMEASentence.gga)
        case .rmc: parseRMC(&fields, fieldCount).map(NMEASentence.rmc)
        case .gns: parseGNS(&fields, fieldCount).map(NMEASentence.gns)
        case .gll: parseGLL(&fields, fieldCount).map(NMEASentence.gll)
        case .vtg: parseVTG(&fields, fieldCount).map(NMEASentence.vtg)
        case .gsa: parseGSA(&fields, fieldCount).map(NMEASentence.gsa)
        case .zda: parseZDA(&fields, fieldCount).map(NMEASentence.zda)
        }
    }

    private static func parseGGA(_ f: inout NMEAFieldReader, _ count: Int) -> GGA? {
        guard count >= 13 else { return nil }
        guard let time = optionalTime(f.next()), let position = optionalPosition(&f) else { return nil }
        let qualityField = f.next(), satellitesField = f.next(), hdopField = f.next(), altitudeField = f.next()
        guard let quality = optional(qualityField, qualityField.unsignedInteger),
              let satellites = optional(satellitesField, satellitesField.unsignedInteger),
              let hdop = optional(hdopField, hdopField.decimal.flatMap(plausibleDOP)),
              let altitude = optional(altitudeField, altitudeField.decimal.flatMap(plausibleAltitude)) else { return nil }
        return GGA(timeOfDay: time, position: position, quality: quality, satellitesUsed: satellites ?? 0,
                   hdop: hdop, altitudeMSL: altitude)
    }

    private static func parseRMC(_ f: inout NMEAFieldReader, _ count: Int) -> RMC? {
        guard count >= 8 else { return nil }
        let timeField = f.next(), status = f.next().first
        guard let time = optionalTime(timeField), let position = optionalPosition(&f) else { return nil }
        let speedField = f.next(), trackField = f.next(), dateField = f.next()
        guard let speed = optional(speedField, speedField.decimal.flatMap(plausibleSpeedKnots)),
              let track = optional(trackField, trackField.decimal.flatMap(plausibleTrack)),
              let date = optional(dateField, parseDDMMYY(dateField)) else { return nil }
        return RMC(timeOfDay: time, isValid: status == ASCII.a || status == ASCII.d, position: position,
                   speedKnots: speed, track: track, date: date,
                   lacksTimeOrDate: timeField.isEmpty || dateField.isEmpty)
    }

    private static func parseGNS(_ f: inout NMEAFieldReader, _ count: Int) -> GNS? {
        guard count >= 13 else { return nil }
        guard let time = optionalTime(f.next()), let position = optionalPosition(&f) else { return nil }
        let mode = f.next().first
        let satellitesField = f.next(), hdopField = f.next(), altitudeField = f.next()
        f.skip(3) // geoid separation, age and station of differential corrections
        let navigationStatus = f.next().first
        guard let satellites = optional(satellitesField, satellitesField.unsignedInteger),
              let hdop = optional(hdopField, hdopField.decimal.flatMap(plausibleDOP)),
              let altitude = optional(altitudeField, altitudeField.decimal.flatMap(plausibleAltitude)) else { return nil }
        return GNS(timeOfDay: time, mode: mode, navigationStatus: navigationStatus, position: position,
                   satellitesUsed: satellites ?? 0, hdop: hdop, altitudeMSL: altitude)
    }

    private static func parseGLL(_ f: inout NMEAFieldReader, _ count: Int) -> GLL? {
        guard count >= 7 else { return nil }
        guard let position = optionalPosition(&f), let time = optionalTime(f.next()) else { return nil }
        let status = f.next().first, faaMode = f.next().first
        // gpsd: valid only with status A and an FAA mode other than N (not valid).
        return GLL(position: position, timeOfDay: time, isValid: status == ASCII.a && faaMode != ASCII.n)
    }

    /// A VTG without true track or knots, or flagged E (estimated) or N (not valid) in its mode
    /// field, carries nothing gpsd uses: it comes back with both values nil.
    private static func parseVTG(_ f: inout NMEAFieldReader, _ count: Int) -> VTG? {
        guard count >= 5 else { return nil }
        let trackField = f.next()
        f.skip(3) // T, magnetic track, M
        let knotsField = f.next()
        f.skip(3) // N, km/h, K
        let mode = f.next().first
        guard let track = optional(trackField, trackField.decimal.flatMap(plausibleTrack)),
              let knots = optional(knotsField, knotsField.decimal.flatMap(plausibleSpeedKnots)) else { return nil }
        guard let track, let knots, mode != ASCII.e, mode != ASCII.n else { return VTG(track: nil, speedKnots: nil) }
        return VTG(track: track, speedKnots: knots)
    }

    private static func parseGSA(_ f: inout NMEAFieldReader, _ count: Int) -> GSA? {
        _ = f.next() // selection: M manual, A automatic
        let modeField = f.next()
        let mode: FixMode?
        if modeField.first == ASCII.e {
            mode = nil
        } else {
            guard let value = modeField.unsignedInteger, let parsed = FixMode(rawValue: value) else { return nil }
            mode = parsed
        }
        // Up to 12 PRNs (some receivers send more); the three DOPs are the last three fields
        // before an optional NMEA 4.1 system ID, and gpsd only reads them in 18- or 19-field sentences.
        var satellites = 0
        for _ in 0..<12 where f.next().unsignedInteger.map({ $0 > 0 }) ?? false { satellites += 1 }
        _ = f.next() // PDOP
        let hdopField = f.next()
        let hasDOPs = count == 18 || count == 19
        guard let hdop = hasDOPs ? optional(hdopField, hdopField.decimal.flatMap(plausibleDOP)) : .some(nil) else { return nil }
        return GSA(mode: mode, satellitesUsed: satellites, hdop: hdop, isComplete: count >= 18)
    }

    private static func parseZDA(_ f: inout NMEAFieldReader, _ count: Int) -> ZDA? {
        guard count >= 5 else { return nil }
        let timeField = f.next(), dayField = f.next(), monthField = f.next(), yearField = f.next()
        guard let time = timeField.timeOfDay, let day = dayField.unsignedInteger,
              let month = monthField.unsignedInteger, yearField.bytes.count == 4, let year = yearField.unsignedInteger,
              let date = NMEADate(year: year, month: month, day: day) else { return nil }
        return ZDA(timeOfDay: time, date: date)
    }

    // MARK: Field helpers

    /// `.some(nil)` for an empty field, `.some(value)` for a valid one, nil (malformed) otherwise.
    private static func optional<T>(_ field: NMEAField, _ parsed: T?) -> T?? {
        if field.isEmpty { return .some(nil) }
        guard let parsed else { return nil }
        return .some(parsed)
    }

    private static func optionalTime(_ field: NMEAField) -> Int?? {
        optional(field, field.timeOfDay)
    }

    /// Latitude, N/S, longitude, E/W. Absent (`.some(nil)`) when any of the four is empty, as gpsd
    /// treats it; nil when present but out of range or with a bad hemisphere letter.
    private static func optionalPosition(_ f: inout NMEAFieldReader) -> Position?? {
        let latitudeField = f.next(), northSouth = f.next(), longitudeField = f.next(), eastWest = f.next()
        if latitudeField.isEmpty || northSouth.isEmpty || longitudeField.isEmpty || eastWest.isEmpty { return .some(nil) }
        guard northSouth.bytes.count == 1, eastWest.bytes.count == 1,
              northSouth.first == ASCII.n || northSouth.first == ASCII.s,
              eastWest.first == ASCII.e || eastWest.first == ASCII.w,
              let latitude = latitudeField.degreesMinutes, let longitude = longitudeField.degreesMinutes,
              latitude <= 90, longitude <= 180 else { return nil }
        return .some(Position(latitude: northSouth.first == ASCII.s ? -latitude : latitude,
                              longitude: eastWest.first == ASCII.w ? -longitude : longitude))
    }

    /// `ddmmyy`, with the century gpsd assumes: 2000–2079, else 1980–1999.
    private static func parseDDMMYY(_ field: NMEAField) -> NMEADate? {
        guard field.bytes.count == 6, let day = field.twoDigits(at: 0), let month = field.twoDigits(at: 2),
              let yy = field.twoDigits(at: 4) else { return nil }
        return NMEADate(year: yy < 80 ? 2000 + yy : 1900 + yy, month: month, day: day)
    }

    private static func plausibleDOP(_ value: Double) -> Double? { value >= 0 && value <= 100 ? value : nil }
    /// Below the Dead Sea shore is still possible; beyond 100 km is not a ground fix.
    private static func plausibleAltitude(_ value: Double) -> Double? { value >= -1_000 && value <= 100_000 ? value : nil }
    /// Up to 10,000 knots (COCOM's limit is 1,000 knots; this only rejects nonsense).
    private static func plausibleSpeedKnots(_ value: Double) -> Double? { value >= 0 && value <= 10_000 ? value : nil }
    private static func plausibleTrack(_ value: Double) -> Double? { value >= 0 && value <= 360 ? value : nil }
}
