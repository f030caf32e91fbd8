extension AgentConfig {
    /// The settings a running agent takes only when it starts, by the keys that set them, whose
    /// values differ in `newer`. A reload (SIGHUP) that changes one is refused as a whole, saying
    /// "restart to apply", rather than applied in part: the store and the status folder stay open,
    /// the journal keeps its checkpoints and GPS-lost clock, the log its level.
    ///
    /// Everything else is applied by a reload: the GPS input, the filter and the track rules, the
    /// event inputs (`InputConfig`) and the uplinks (`UplinkConfig`), each kept running when equal.
    public func keysNeedingRestart(toApply newer: AgentConfig) -> [String] {
        var keys: [String] = []
        func compare<Value: Equatable>(_ old: Value, _ new: Value, _ key: String) {
            if old != new { keys.append(key) }
        }
        compare(deviceID, newer.deviceID, "[device] id")
        compare(rollover, newer.rollover, "[gps] rollover_pivot")
        compare(store.path, newer.store.path, "[store] path")
        compare(store.commitWindow, newer.store.commitWindow, "[store] commit_window")
        compare(store.retention.maxDatabaseBytes, newer.store.retention.maxDatabaseBytes, "[store] max_size_mb")
        compare(store.retention.maxAge, newer.store.retention.maxAge, "[store] max_age_days")
        compare(runtimeDirectory, newer.runtimeDirectory, "[status] runtime_dir")
        compare(statusInterval, newer.statusInterval, "[status] interval")
        compare(logLevel, newer.logLevel, "[log] level")
        compare(inputs.checkpoints, newer.inputs.checkpoints, "[[checkpoint]]")
        compare(inputs.gpsLostAfterMilliseconds, newer.inputs.gpsLostAfterMilliseconds, "[events] gps_lost_after_s")
        return keys
    }
}
