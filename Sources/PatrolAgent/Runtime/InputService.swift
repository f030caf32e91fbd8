import Logging
import PatrolCore
import PatrolSerial
import PatrolStore
import ServiceLifecycle

/// Runs every configured event input into the journal until shutdown, with the journal's own
/// clock (GPS-lost watchdog, commit retries). Started last, so it stops first: no press arrives
/// after the GPS and the store have begun to shut down. A reload changes the inputs one by one.
struct InputService: Service {
    let inputs: RunningParts<InputConfig, any EventInput>
    let journal: EventJournal
    /// Called once every input runs (systemd is then told the agent is ready).
    var started: @Sendable () -> Void = {}

    func run() async throws {
        let (inputs, journal, started) = (inputs, journal, started)
        await withDiscardingTaskGroup { group in
            group.addTask { await cancelWhenGracefulShutdown { await journal.run() } }
            group.addTask { await inputs.runUntilShutdown(started: started) }
        }
    }

    /// The inputs' parts: each reports into the journal and its state to the board.
    static func parts(journal: EventJournal, board: StatusBoard) -> RunningParts<InputConfig, any EventInput> {
        RunningParts { input in
            await input.run(emit: { await journal.record($0, from: input) },
                            stateChanged: { board.inputStateChanged(input.name, $0) })
        }
    }
}

extension InputConfig {
    /// The input this configuration describes; it opens its port when it runs. A duty reader
    /// starts from the badges `store` has signed on there.
    func makeInput(store: AgentStore, logger: Logger) -> any EventInput {
        switch self {
        case .modemButtons(let port):
            ModemLineButtonsInput(
                portID: port.id, path: port.port, baud: port.baud,
                buttons: port.buttons.map { ModemLineButton(config: $0.config, line: $0.line, activeLevel: $0.activeHigh) },
                supplyLines: port.supplyLines, ledLine: port.ledLine, buzzerLine: port.buzzerLine,
                opener: SerialPortOpener(driver: port.driver), logger: logger)
        case .buttonBox(let box):
            ButtonBoxInput(boxID: box.id, path: box.port, baud: box.baud, buttons: box.buttons,
                           silenceLimitMilliseconds: box.silenceMilliseconds, feedbackLED: box.feedbackLED,
                           opener: SerialPortOpener(driver: box.driver), logger: logger)
        case .tagReader(let reader):
            SerialTagReaderInput(readerID: reader.id, role: reader.role, path: reader.port, baud: reader.baud, format: reader.format,
                                 repeatWindowMilliseconds: reader.repeatWindowMilliseconds,
                                 signedOnBadges: reader.role == .duty ? signedOnBadges(reader.id, store: store, logger: logger) : [],
                                 opener: SerialPortOpener(driver: reader.driver), logger: logger)
        }
    }

    /// A store that cannot be read leaves the reader starting with nobody signed on (the next read
    /// of a badge signs on, and the centre's duty report shows the earlier session open), not without a reader.
    private func signedOnBadges(_ reader: String, store: AgentStore, logger: Logger) -> Set<String> {
        do {
            return try store.badgesSignedOn(reader: reader)
        } catch {
            logger.error("tag reader \(reader): cannot read who is signed on from the store (\(error)); the next read of each badge signs on")
            return []
        }
    }
}
