import PatrolCore

/// Turns gpsd's TPV reports into one fix per epoch, the most complete one.
///
/// gpsd reports an epoch several times as its sentences arrive (after RMC without altitude, again
/// after GGA with it), each report a superset of the one before. Keeping the epoch's latest report
/// until the epoch is over (a report with another time, or gpsd goes quiet) delivers every time
/// once, with all gpsd knew about it, at the cost of at most one read timeout of delay.
struct EpochAssembler {
    private var pending: Fix?
    private var lastDelivered: UTCTime?

    /// Takes a report; returns the previous epoch's fix when this report starts a new epoch.
    mutating func add(_ fix: Fix) -> Fix? {
        // A late repeat of an epoch already handed over.
        guard fix.time != lastDelivered else { return nil }
        defer { pending = fix }
        guard let pending, pending.time != fix.time else { return nil }
        lastDelivered = pending.time
        return pending
    }

    /// Ends the current epoch (gpsd went quiet, or the connection ended) and returns its fix.
    mutating func finish() -> Fix? {
        defer { pending = nil }
        if let pending { lastDelivered = pending.time }
        return pending
    }
}
