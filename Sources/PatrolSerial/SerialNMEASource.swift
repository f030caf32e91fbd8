import Logging
import PatrolCore

/// Fixes from an NMEA receiver on a serial port, decoded by the agent itself (no gpsd).
///
/// Receivers get unplugged: ``SerialConnectionLoop`` says so once, reports `.down`, and reopens
/// the same path with a doubling delay until the device is back (point the path at a stable name
/// such as /dev/serial/by-id/…, which udev re-creates on re-plug).
public struct SerialNMEASource<Decoder: ByteStreamDecoder & SendableMetatype>: FixSource {
    public var path: String
    public var baud: Int
    public var opener: SerialPortOpener
    /// Makes a fresh decoder for each opening, so a sentence cut by an unplug is not glued to the next.
    public var makeDecoder: @Sendable () -> Decoder
    public var logger: Logger
    /// First and longest delay between attempts to reopen the port.
    public var reconnectDelay: ClosedRange<Duration>
    /// Longest time one read may block; bounds how long cancellation takes to be noticed.
    public var readTimeout: Duration
    /// How long an open port may bring no NMEA from the receiver before the source is down;
    /// receivers talk every second, with or without a fix.
    public var receiverSilenceLimit: Duration

    public var name: String { "serial \(path)" }

    public init(path: String, baud: Int = 9600, opener: SerialPortOpener = SerialPortOpener(),
                logger: Logger,
                reconnectDelay: ClosedRange<Duration> = .milliseconds(500) ... .seconds(30),
                readTimeout: Duration = .milliseconds(250), receiverSilenceLimit: Duration = .seconds(10),
                makeDecoder: @escaping @Sendable () -> Decoder) {
        self.path = path
        self.baud = baud
        self.opener = opener
        self.makeDecoder = makeDecoder
        self.logger = logger
        self.reconnectDelay = reconnectDelay
        self.readTimeout = readTimeout
        self.receiverSilenceLimit = receiverSilenceLimit
    }

    public func run(deliver: @escaping @Sendable (Fix) async -> Void,
                    stateChanged: @escaping @Sendable (GPSSourceState) async -> Void) async {
        let silence = (limit: receiverSilenceLimit,
                       reason: "open, but no NMEA from the receiver for \(receiverSilenceLimit) "
                           + "(is the receiver powered, and the baud rate (\(baud)) its own?)")
        let loop = SerialConnectionLoop(name: name, path: path, baud: baud, opener: opener, logger: logger,
                                        reconnectDelay: reconnectDelay, silence: silence)
        var lastTime: UTCTime?
        await loop.run(stateChanged: stateChanged, portFaults: nil) { link, working, nothingHeard throws(SerialPortError) in
            let decoding = DecodingState(makeDecoder())
            while !Task.isCancelled {
                let (fixes, heard) = try await link.perform { [readTimeout] port throws(SerialPortError) in
                    try decoding.decode(port.read(maxCount: 4096, timeout: readTimeout))
                }
                // Bytes alone prove nothing: at a wrong baud rate a receiver's bytes are noise.
                if heard { await working() } else { await nothingHeard() }
                // One fix per epoch: a fix without a time has no epoch, a repeated time is the same epoch.
                for fix in fixes {
                    guard let time = fix.time, time != lastTime else { continue }
                    lastTime = time
                    await deliver(fix)
                }
            }
        }
    }
}

/// The decoder of one opening, confined to the connection's queue.
private final class DecodingState<Decoder: ByteStreamDecoder>: @unchecked Sendable {
    private var decoder: Decoder

    init(_ decoder: Decoder) {
        self.decoder = decoder
    }

    /// The fixes `bytes` completed, and whether they held an intact sentence.
    func decode(_ bytes: [UInt8]) -> (fixes: [Fix], heard: Bool) {
        let intactBefore = decoder.intactSentences
        var fixes: [Fix] = []
        bytes.withUnsafeBytes { decoder.consume($0) { fixes.append($0) } }
        return (fixes, decoder.intactSentences > intactBefore)
    }
}

/// Our NMEA decoder is what a serial receiver is read with in the agent.
extension NMEADecoder: ByteStreamDecoder {
    public var intactSentences: Int { statistics.intactSentences }
}
