import Logging
import PatrolCore
import PatrolEdgeSupport
import PatrolStore
import PatrolUplink
import ServiceLifecycle
import Synchronization

/// Runs one `UplinkRunner` per configured output until shutdown. Started after the store and
/// before the inputs, so it stops after them and before the store closes. A reload adds, stops
/// and restarts runners; delivery progress is in the store, so a restarted one goes on from there.
struct UplinkService: Service {
    let runners: RunningParts<UplinkConfig, UplinkRunner>

    func run() async throws {
        await runners.runUntilShutdown()
    }

    /// The runners' parts; every commit wakes the runners configured at that moment.
    static func parts(store: AgentStore) -> RunningParts<UplinkConfig, UplinkRunner> {
        let runners = RunningParts<UplinkConfig, UplinkRunner> { runner in
            await runner.run()
            await runner.output.close()
        }
        store.onCommit { stream in
            for runner in runners.parts { runner.wake(for: stream) }
        }
        return runners
    }

    /// Makes `config`'s `[[uplink]]` outputs run (those already running with an equal table go
    /// on); fails naming the file when a key or a TLS file cannot be used, so a misconfigured board
    /// says so at start, or refuses the reload, instead of never delivering.
    @discardableResult
    static func configure(_ runners: RunningParts<UplinkConfig, UplinkRunner>, _ config: AgentConfig, store: AgentStore,
                          observer: AgentUplinkObserver, board: StatusBoard, logger: Logger) async throws
        -> (stopped: [UplinkConfig], started: [UplinkConfig]) {
        try await runners.replace(with: config.uplinks, make: { uplink in
            let output: any UplinkOutput
            do {
                output = try uplink.makeOutput(deviceID: config.deviceID)
            } catch {
                throw FileAccessError(description: "\(error)")
            }
            return UplinkRunner(output: output, store: store, settings: uplink.settings, observer: observer, logger: logger,
                                systemTime: SystemClocks.systemTime, monotonicMilliseconds: SystemClocks.monotonicMilliseconds)
        }, configured: { _ in
            observer.primaryOutput = config.primaryUplink
            board.uplinksConfigured(config.uplinks.map { ($0.name, $0.destination) })
        })
    }

    /// Forgets the delivery progress of outputs `config` does not name, so that it stops holding
    /// retention back.
    static func forgetUnconfigured(_ config: AgentConfig, store: AgentStore, logger: Logger) throws {
        for name in try store.forgetOutputs(except: Set(config.uplinks.map(\.name))) {
            logger.notice("uplink \(name) is no longer configured: its delivery progress is forgotten and no longer holds back retention")
        }
    }
}

/// Where the runners' news goes: feedback on the input that raised an event, status, and the
/// board's own fault events when an output's link fails supervision.
final class AgentUplinkObserver: UplinkObserver {
    let journal: EventJournal
    let board: StatusBoard
    private let primary: Mutex<String?>

    init(journal: EventJournal, board: StatusBoard, primaryOutput: String?) {
        self.journal = journal
        self.board = board
        primary = Mutex(primaryOutput)
    }

    /// The output whose delivery the guard's box shows as "delivered"; a reload may name another.
    var primaryOutput: String? {
        get { primary.withLock { $0 } }
        set { primary.withLock { $0 = newValue } }
    }

    func eventsDelivered(_ sequences: [Int64], output: String) async {
        for sequence in sequences {
            board.eventDelivered(sequence, output: output)
            if output == primaryOutput { await journal.show(.delivered, eventSequence: sequence) }
        }
    }

    func alarmAcknowledged(_ acknowledgement: UplinkAcknowledgement, output: String) async {
        board.eventAcknowledged(acknowledgement.eventSequence, output: output)
        await journal.show(.acknowledged, eventSequence: acknowledgement.eventSequence)
    }

    func outputChanged(_ status: UplinkOutputStatus) {
        board.uplinkChanged(status)
    }

    func messageReceived(_ message: UplinkMessage, output: String) async {
        board.uplinkMessage(message, output: output)
    }

    func supervisionChanged(output: String, failed: Bool, at monotonicMilliseconds: Int64) async {
        let kind: EventKind = failed ? .fault(.uplinkDown) : .faultRestore(.uplinkDown)
        await journal.record(DetectedEvent(kind, inputID: output, at: monotonicMilliseconds), from: nil)
    }
}
