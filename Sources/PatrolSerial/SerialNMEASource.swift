import Dispatch
import Logging
import PatrolCore
import PatrolEdgeSupport

/// Fixes from an NMEA receiver on a serial port, decoded by the agent itself (no gpsd).
///
/// Receivers get unplugged: on a hang-up, end of file or I/O error the source says once that the
/// receiver is lost, reports `.down`, and reopens the same path with a doubling delay until the
/// device is back (point the path at a stable name such as /dev/serial/by-id/…, which udev
/// re-creates on re-plug). Port calls block in poll(2), so they run on a queue of their own.
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

    public var name: String { "serial \(path)" }

    public init(path: String, baud: Int = 9600, opener: SerialPortOpener = SerialPortOpener(),
                logger: Logger,
                reconnectDelay: ClosedRange<Duration> = .milliseconds(500) ... .seconds(30),
                readTimeout: Duration = .milliseconds(250),
                makeDecoder: @escaping @Sendable () -> Decoder) {
        self.path = path
        self.baud = baud
        self.opener = opener
        self.makeDecoder = makeDecoder
        self.logger = logger
        self.reconnectDelay = reconnectDelay
        self.readTimeout = readTimeout
    }

    public func run(deliver: @escaping @Sendable (Fix) async -> Void,
                    stateChanged: @escaping @Sendable (GPSSourceState) async -> Void) async {
        let queue = DispatchQueue(label: "PatrolLink.\(name)")
        var supervisor = ConnectionSupervisor(sourceName: name, logger: logger, reconnectDelay: reconnectDelay,
                                              stateChanged: stateChanged)
        var lastTime: UTCTime?
        await supervisor.starting()
        while !Task.isCancelled {
            let link = DecodingLink<Decoder>()
            do throws(SerialPortError) {
                try await queue.perform { [opener, path, baud, makeDecoder] () throws(SerialPortError) in
                    try link.open(opener.open(path: path, baud: baud), decoder: makeDecoder())
                }
                while !Task.isCancelled {
                    let fixes = try await queue.perform { [readTimeout] () throws(SerialPortError) in
                        try link.readFixes(timeout: readTimeout)
                    }
                    await supervisor.working()
                    // One fix per epoch: a fix without a time has no epoch, a repeated time is the same epoch.
                    for fix in fixes {
                        guard let time = fix.time, time != lastTime else { continue }
                        lastTime = time
                        await deliver(fix)
                    }
                }
            } catch {
                await supervisor.failed(error.message)
            }
            await queue.perform { link.close() }
            await supervisor.pauseBeforeRetry()
        }
    }
}

/// An open port and the decoder fed from it, confined to the source's queue.
private final class DecodingLink<Decoder: ByteStreamDecoder>: @unchecked Sendable {
    private var port: (any SerialPort)?
    private var decoder: Decoder?

    func open(_ port: any SerialPort, decoder: Decoder) {
        self.port = port
        self.decoder = decoder
    }

    /// Waits up to `timeout` for bytes and returns the fixes they completed.
    func readFixes(timeout: Duration) throws(SerialPortError) -> [Fix] {
        guard let port, var decoder else { return [] }
        let bytes = try port.read(maxCount: 4096, timeout: timeout)
        var fixes: [Fix] = []
        bytes.withUnsafeBytes { decoder.consume($0) { fixes.append($0) } }
        self.decoder = decoder
        return fixes
    }

    func close() {
        port?.close()
        port = nil
        decoder = nil
    }
}

/// Our NMEA decoder is what a serial receiver is read with in the agent.
extension NMEADecoder: ByteStreamDecoder {}
