import PatrolCore

/// NMEA from a serial receiver, and everything a fix goes through on the board: arbitrary bytes,
/// split at an arbitrary point (the input's first byte chooses it), through the decoder, the
/// filter, the recorder, the wire quantisation and the `nmea decode` and export encoders.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNMEA(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let first = bytes.first else { return 0 }
    let input = bytes.dropFirst()
    let cut = input.startIndex + Int(first) % (input.count + 1)
    var decoder = NMEADecoder()
    var fixes: [Fix] = []
    decoder.consume(input[..<cut]) { fixes.append($0) }
    decoder.consume(input[cut...]) { fixes.append($0) }
    decoder.finish { fixes.append($0) }
    check(decoder.statistics.fixesEmitted == fixes.count, "statistics count \(decoder.statistics.fixesEmitted) fixes, \(fixes.count) came out")

    var filter = FixFilter()
    var recorder = TrackRecorder(profile: .everyFix)
    var export = TrackExporter(format: .gpx) { _ in }
    export.begin(name: "fuzz")
    for (index, fix) in fixes.enumerated() {
        _ = fix.tpvJSON
        guard filter.check(fix) == nil, let point = recorder.record(fix) else { continue }
        let wire = TrackRecord(sequence: UInt64(index), point: point)
        // A recorded time the centre refuses would also make every later fix look older.
        check(UplinkLimits.plausibleTimes.contains(wire.timeMilliseconds), "recorded a point the centre refuses: \(fix)")
        export.add(point)
    }
    export.end()
    return 0
}
