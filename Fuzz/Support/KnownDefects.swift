import PatrolCore

/// Defects known and being fixed on another branch; inputs that only reproduce them are skipped
/// (libFuzzer does not add them to the corpus) so a run finds new defects. Remove each check when
/// its fix lands.
enum KnownDefects {
    /// Issue 9, item 2: `abs` in the record checks traps on a latitude or longitude of Int64.min.
    static func batchHoldsInt64Min(_ batch: UplinkBatch) -> Bool {
        batch.trackPoints.contains { $0.latitudeE7 == .min || $0.longitudeE7 == .min }
            || batch.events.contains { $0.position.map { $0.latitudeE7 == .min || $0.longitudeE7 == .min } ?? false }
    }
}
