import Logging
import PatrolCore

/// A tag reader on a serial port: EM4100 hex or decimal reads in, one check-in per tag visit out,
/// or with the `duty` role one sign-on or sign-off per badge visit (``TagReaderInput`` decodes,
/// removes repeats and tells sign-on from sign-off).
///
/// The repeat window outlives a reconnect, so a tag lying on a reader whose cable is reseated
/// stays one check-in. Readers have no LED or buzzer the agent drives; they beep by themselves.
public struct SerialTagReaderInput: EventInput {
    public var readerID: String
    public var role: TagReaderRole
    public var path: String
    public var baud: Int
    public var format: TagReaderFormat
    /// Reads of the same tag closer together than this are one check-in.
    public var repeatWindowMilliseconds: Int64
    /// For a `duty` reader: the badges signed on when the agent (re)started (see ``TagReaderInput``).
    public var signedOnBadges: Set<String>
    public var opener: SerialPortOpener
    public var logger: Logger
    /// First and longest delay between attempts to reopen the port.
    public var reconnectDelay: ClosedRange<Duration>
    /// Longest time one read may block; bounds how long cancellation takes to be noticed.
    public var readTimeout: Duration
    public var now: @Sendable () -> Int64

    public var name: String { "tag reader \(readerID) \(path)" }

    public init(readerID: String, role: TagReaderRole = .checkpoint, path: String, baud: Int = 9600, format: TagReaderFormat,
                repeatWindowMilliseconds: Int64 = 10_000, signedOnBadges: Set<String> = [], opener: SerialPortOpener = SerialPortOpener(),
                logger: Logger, reconnectDelay: ClosedRange<Duration> = .milliseconds(500) ... .seconds(30),
                readTimeout: Duration = .milliseconds(250),
                now: @escaping @Sendable () -> Int64 = MonotonicClock.milliseconds) {
        self.readerID = readerID
        self.role = role
        self.path = path
        self.baud = baud
        self.format = format
        self.repeatWindowMilliseconds = repeatWindowMilliseconds
        self.signedOnBadges = signedOnBadges
        self.opener = opener
        self.logger = logger
        self.reconnectDelay = reconnectDelay
        self.readTimeout = readTimeout
        self.now = now
    }

    public func run(emit: @escaping @Sendable (InputReport) async -> ReportOutcome,
                    stateChanged: @escaping @Sendable (InputState) async -> Void) async {
        let loop = SerialConnectionLoop(name: name, path: path, baud: baud, opener: opener, logger: logger,
                                        reconnectDelay: reconnectDelay)
        var reader = TagReaderInput(readerID: readerID, role: role, format: format,
                                    repeatWindowMilliseconds: repeatWindowMilliseconds, signedOnBadges: signedOnBadges)
        let faults = PortFaultReporter(inputID: readerID, emit: { _ = await emit(.event($0)) }, now: now)
        await loop.run(stateChanged: stateChanged, portFaults: faults) { link, working, _ throws(SerialPortError) in
            while !Task.isCancelled {
                let bytes = try await link.perform { [readTimeout] port throws(SerialPortError) in
                    try port.read(maxCount: 256, timeout: readTimeout)
                }
                await working()
                for event in reader.receive(bytes, at: now()) { _ = await emit(.event(event)) }
            }
        }
    }

    public func indicate(_ cue: FeedbackCue) async {}
}
