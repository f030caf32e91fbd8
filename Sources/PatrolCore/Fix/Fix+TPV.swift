extension Fix {
    /// The fix as one gpsd TPV JSON object, gpsd's names, units and decimals, fields only where known.
    ///
    /// This is the output contract of `patrol-agent nmea decode`.
    public var tpvJSON: String {
        var w = JSONObjectWriter()
        w.add("class", "TPV")
        if let time { w.add("time", time.iso8601) }
        w.add("mode", mode.rawValue)
        if mode >= .twoD {
            if let latitude { w.add("lat", latitude, decimals: 9) }
            if let longitude { w.add("lon", longitude, decimals: 9) }
        }
        if mode == .threeD, let altitudeMSL { w.add("altMSL", altitudeMSL, decimals: 4) }
        if let speed { w.add("speed", speed, decimals: 3) }
        if let track { w.add("track", track, decimals: 4) }
        return w.json
    }
}
