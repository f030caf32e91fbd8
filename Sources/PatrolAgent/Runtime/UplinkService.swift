import Logging
import PatrolCore
import PatrolEdgeSupport
import PatrolStore
import PatrolUplink
import ServiceLifecycle

/// Runs one `UplinkRunner` per configured output until shutdown. Started after the store and
/// before the inputs, so it stops after them and before the store closes.
struct UplinkService: Service {
    let runners: [UplinkRunner]

    func run() async throws {
        let runners = runners
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for runner in runners { group.addTask { await runner.run() } }
            }
        }
    }

    /// The runners for `config`'s `[[uplink]]` tables; fails naming the file when a key or a TLS
    /// file cannot be used, so a misconfigured board says so at start instead of never delivering.
    /// Outputs no longer configured are forgotten, so their progress stops holding retention back.
    static func makeRunners(_ config: AgentConfig, store: AgentStore, observer: AgentUplinkObserver,
                            logger: Logger) throws -> [UplinkRunner] {
        let runners = try config.uplinks.map { uplink in
            let output: any UplinkOutput
            do {
                output = try uplink.makeOutput(deviceID: config.deviceID)
            } catch {
                throw FileAccessError(description: "\(error)")
            }
            return UplinkRunner(output: output, store: store, settings: uplink.settings, observer: observer, logger: logger,
                                systemTime: SystemClocks.systemTime, monotonicMilliseconds: SystemClocks.monotonicMilliseconds)
        }
        for name in try store.forgetOutputs(except: Set(config.uplinks.map(\.name))) {
            logger.notice("uplink \(name) is no longer configured: its delivery progress is forgotten and no longer holds back retention")
        }
        return runners
    }
}

/// Where the runners' news goes: feedback on the input that raised an event, status, and the
/// board's own fault events when an output's link fails supervision.
struct AgentUplinkObserver: UplinkObserver {
    let journal: EventJournal
    let board: StatusBoard
    /// The output whose delivery the guard's box shows as "delivered".
    let primaryOutput: String?

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
