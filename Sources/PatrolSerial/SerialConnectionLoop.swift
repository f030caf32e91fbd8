import Dispatch
import Logging
import PatrolCore
import PatrolEdgeSupport

/// What every serial input shares: open the port, report the link's state, run the input's own
/// session on it, and after a loss close it, wait a doubling delay and open it again.
///
/// Devices get unplugged, lose power or are opened before udev fixed their permissions. Whatever
/// the cause, the loss is said once in the log and once as `.down` (``ConnectionSupervisor``),
/// and, for alarm inputs, raised once as a `port-gone` or `port-permission` fault, restored once
/// the port works again. Port calls block, so they run on a queue of the connection's own, never
/// on the cooperative pool.
struct SerialConnectionLoop: Sendable {
    var name: String
    var path: String
    var baud: Int
    var opener: SerialPortOpener
    var logger: Logger
    var reconnectDelay: ClosedRange<Duration>
    /// For a device that reports all the time (a GPS receiver): how long an open port may bring
    /// nothing before the device is down, and why, in words for the log; nil where silence is
    /// normal (a tag reader between tags).
    var silence: (limit: Duration, reason: String)?

    /// Runs until cancelled. `session` serves one opened port until it fails; it calls `working`
    /// after each successful exchange with the device, which is what ends an outage (a device
    /// node that opens and hangs up at once must not flap the log), and `nothingHeard` after a
    /// read that brought nothing from it, which counts toward `silence`.
    ///
    /// - Parameter portFaults: where port faults go; nil for a port whose loss is no alarm-system
    ///   fault (a GPS receiver, which reports through its state only).
    func run(stateChanged: @escaping @Sendable (InputState) async -> Void,
             portFaults: PortFaultReporter?,
             session: (_ link: SerialLink, _ working: () async -> Void, _ nothingHeard: () async -> Void)
                 async throws(SerialPortError) -> Void) async {
        let queue = DispatchQueue(label: "PatrolLink.\(name)")
        var supervisor = ConnectionSupervisor(sourceName: name, logger: logger, reconnectDelay: reconnectDelay,
                                              stateChanged: stateChanged)
        var faults = portFaults
        await supervisor.starting()
        while !Task.isCancelled {
            var link: SerialLink?
            do throws(SerialPortError) {
                let opened = try await queue.perform { [opener, path, baud] () throws(SerialPortError) in
                    SerialLink(port: try opener.open(path: path, baud: baud), queue: queue)
                }
                link = opened
                supervisor.opened()
                try await session(opened, {
                    await supervisor.working()
                    await faults?.restore()
                }, {
                    guard let silence else { return }
                    await supervisor.nothingHeard(limit: silence.limit, reason: silence.reason)
                })
            } catch {
                await supervisor.failed(error.message)
                await faults?.raise(for: error)
            }
            if let link { await link.perform { $0.close() } }
            await supervisor.pauseBeforeRetry()
        }
    }
}

/// An open port and the queue its blocking calls run on.
///
/// Unchecked Sendable: the port is used from `queue` only, except by sessions that document a
/// second thread (a modem-line wait); the drivers allow that for a wait beside control calls.
final class SerialLink: @unchecked Sendable {
    let port: any SerialPort
    let queue: DispatchQueue

    init(port: any SerialPort, queue: DispatchQueue) {
        self.port = port
        self.queue = queue
    }

    /// Runs blocking port work on the link's queue.
    func perform<T: Sendable, Failure: Error>(_ work: @escaping @Sendable (any SerialPort) throws(Failure) -> T)
        async throws(Failure) -> T {
        try await queue.perform { () throws(Failure) in try work(self.port) }
    }
}

/// Raises one port fault per outage and restores it once the port works again.
///
/// A permission problem is its own fault because the fix differs (the agent's user must join
/// `dialout`); every other loss, missing device, hang-up or I/O error, is `port-gone`. When an
/// outage changes its cause (re-plugged, but now with the wrong permissions), the old fault is
/// restored and the new one raised, so the centre always sees the current cause.
struct PortFaultReporter: Sendable {
    let inputID: String
    let emit: @Sendable (DetectedEvent) async -> Void
    let now: @Sendable () -> Int64
    private var activeFault: Fault?

    init(inputID: String, emit: @escaping @Sendable (DetectedEvent) async -> Void,
         now: @escaping @Sendable () -> Int64) {
        self.inputID = inputID
        self.emit = emit
        self.now = now
    }

    mutating func raise(for error: SerialPortError) async {
        let fault: Fault = error.kind == .permissionDenied ? .portPermission : .portGone
        guard fault != activeFault else { return }
        await restore()
        activeFault = fault
        await emit(DetectedEvent(.fault(fault), inputID: inputID, at: now()))
    }

    mutating func restore() async {
        guard let fault = activeFault else { return }
        activeFault = nil
        await emit(DetectedEvent(.faultRestore(fault), inputID: inputID, at: now()))
    }
}
