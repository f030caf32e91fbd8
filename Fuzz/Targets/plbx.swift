import PatrolCore

/// A button box's serial line: arbitrary bytes through the session (line splitting, frame decoding,
/// repeat and reboot detection, press logic). Each 0xFF byte in the input advances the clock by the
/// next byte's value × 50 ms, so silence, holds and long presses are reached too. Every frame that
/// decodes must come out the same after encoding it again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzButtonBox(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var session = ButtonBoxSession(inputID: "box", buttons: [
        1: ButtonConfig(id: "panic", role: .panic, debounceMilliseconds: 0, minimumHoldMilliseconds: 50,
                        longPress: LongPress(afterMilliseconds: 3000, action: .cancel), maximumHoldMilliseconds: 20_000),
        2: ButtonConfig(id: "check-in", role: .checkIn),
    ], startedAt: 0)
    var now: Int64 = 0
    var chunks = bytes.split(separator: 0xFF, omittingEmptySubsequences: false)[...]
    var splitter = LineSplitter(maximumLength: 82)
    while let chunk = chunks.popFirst() {
        // PLBX 2 presses the input would record as finished, and answer STORED for.
        for press in session.receive(chunk, at: now).finishedPresses { _ = session.finishCommitted(press) }
        for line in splitter.append(chunk) {
            guard let frame = ButtonBoxFrame(line: line) else { continue }
            let again = ButtonBoxFrame(line: Array(frame.line.utf8.dropLast(2)))
            check(again == frame, "\(frame) encodes as \(frame.line), which decodes as \(String(describing: again))")
        }
        now += 50 * Int64(chunks.first?.first ?? 1)
        _ = session.tick(at: now)
    }
    _ = session.nextDeadline
    _ = session.command(.led(index: 1, pattern: .steady))
    return 0
}
