import Logging
import PatrolCore
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
    static func makeRunners(_ config: AgentConfig, store: AgentStore, observer: AgentUplinkObserver,
                            logger: Logger) throws -> [UplinkRunner] {
        try config.uplinks.map { uplink in
            let key = try uplink.loadKey()
            let output: any UplinkOutput
            switch uplink.kind {
            case .centreHTTP:
                do {
                    output = try CentreHTTPOutput(name: uplink.name, deviceID: config.deviceID, key: key, endpoint: uplink.endpoint,
                                                  tls: uplink.tls, timeout: uplink.timeout,
                                                  systemMilliseconds: { SystemClocks.systemTime().millisecondsSinceEpoch })
                } catch {
                    throw FileAccessError(description: "uplink '\(uplink.name)': \(error)")
                }
            }
            return UplinkRunner(output: output, destination: uplink.endpoint.description, store: store, deviceID: config.deviceID,
                                settings: uplink.settings, observer: observer, logger: logger,
                                systemTime: SystemClocks.systemTime, monotonicMilliseconds: SystemClocks.monotonicMilliseconds)
        }
    }
}

/// Where the runners' news goes: feedback on the input that raised an event, and status.
struct AgentUplinkObserver: UplinkObserver {
    let journal: EventJournal
    let board: StatusBoard

    func eventsDelivered(_ sequences: [Int64], output: String) async {
        for sequence in sequences {
            board.eventProgressed(sequence, to: EventSummary.delivered)
            await journal.show(.delivered, eventSequence: sequence)
        }
    }

    func alarmAcknowledged(_ sequence: Int64, message: DownlinkMessage, output: String) async {
        board.eventProgressed(sequence, to: EventSummary.acknowledged)
        await journal.show(.acknowledged, eventSequence: sequence)
    }

    func outputChanged(_ status: UplinkOutputStatus) {
        board.uplinkChanged(status)
    }
}
