extension PatrolEvent {
    /// The event as one compact JSON object for the store's payload column and the uplink.
    ///
    /// Field names are short and stable: `kind`, `priority`, `time`, `timeSource`, `fix`
    /// (`current`/`last-known`/`none`), `lat`/`lon` (9 decimals, as gpsd) and `fixAgeMs` when
    /// there is a position, `device`, `input`, `tag` or `checkpoint` for check-ins, and `badge` for duty sign-on and sign-off.
    public var payloadJSON: String {
        var w = JSONObjectWriter()
        w.add("kind", kind.code)
        w.add("priority", priority.label)
        w.add("time", time.utc.iso8601)
        w.add("timeSource", time.source.rawValue)
        w.add("fix", position.label)
        if let coordinate = position.coordinate, let age = position.ageMilliseconds {
            w.add("lat", coordinate.latitude, decimals: 9)
            w.add("lon", coordinate.longitude, decimals: 9)
            w.add("fixAgeMs", age)
        }
        w.add("device", deviceID)
        if let inputID { w.add("input", inputID) }
        switch kind {
        case .checkIn(.tag(let id)): w.add("tag", id)
        case .checkIn(.geofence(let checkpointID)): w.add("checkpoint", checkpointID)
        case .duty(_, let badge): w.add("badge", badge)
        default: break
        }
        return w.json
    }
}
