import PatrolCentre
import PatrolCore

extension TerminalReport {
    /// A JT/T 808 location report in the centre's units, with the identity that makes a resend
    /// (after a lost 0x8001, a reconnect, or a blind-area batch repeating live reports) stored once.
    ///
    /// JT/T 808 reports carry no record number (the header's serial restarts with every connection),
    /// so the identity is the report itself: `sequence` = the report's second since 1970 × 65,536 plus
    /// a 16-bit fold of its latitude, longitude and hemispheres. The same time and position give
    /// the same sequence, so `(device, sequence)` stores them once; two different positions in the
    /// same second (a terminal with a stuck clock) are both kept, unless their folds collide (1 in 65,536).
    /// A report without time (all-zero BCD) is taken at `receivedAt`; it has no stable identity,
    /// so it joins the track only when it also has a fix, and a resend of it may be stored again.
    init(jt808 position: JT808Position, phone: String, serial: UInt16, receivedAt: UTCTime) {
        let time = position.time ?? receivedAt
        let seconds = UInt64(clamping: time.millisecondsSinceEpoch / 1000)
        let mix = position.latitudeE6 &* 0x9E37_79B1 ^ position.longitudeE6 ^ (position.status & 0b1100) << 28
        let sequence = seconds << 16 | UInt64(UInt16(truncatingIfNeeded: mix ^ mix >> 16))
        let sign = { (negative: Bool) -> Int64 in negative ? -10 : 10 }
        var point: TrackRecord? = TrackRecord(
            sequence: sequence, timeMilliseconds: Int64(clamping: seconds) * 1000,
            latitudeE7: Int64(position.latitudeE6) * sign(position.status & JT808Position.southStatus != 0),
            longitudeE7: Int64(position.longitudeE6) * sign(position.status & JT808Position.westStatus != 0),
            // The standard says "positioned", not 2D or 3D; an altitude says the receiver had a 3D fix.
            mode: position.altitudeMetres > 0 ? .threeD : .twoD,
            altitudeDecimetres: position.altitudeMetres > 0 ? Int64(position.altitudeMetres) * 10 : nil,
            // 0.1 km/h = 100 m / 3600 s = 2.78 cm/s, rounded.
            speedCentimetresPerSecond: (Int64(position.speedTenthsKmh) * 10_000 + 1800) / 3600,
            trackCentidegrees: Int64(position.heading % 360) * 100,
            satellitesUsed: position.satellites.map(Int64.init))
        if !position.isPositioned || position.time == nil || point?.problem != nil { point = nil }
        let details = "{\"source\":\"jt808\",\"phone\":\"\(phone)\",\"serial\":\(serial),\"alarm\":\(position.alarm),\"status\":\(position.status)}"
        self.init(sequence: sequence, time: time, point: point,
                  emergency: position.alarm & JT808Position.emergencyAlarm != 0, detailsJSON: details)
    }
}
