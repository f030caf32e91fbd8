import Logging
import PatrolCore
import PatrolSerial
import ServiceLifecycle

/// Runs every configured event input into the journal until shutdown, with the journal's own
/// clock (GPS-lost watchdog, commit retries). Started last, so it stops first: no press arrives
/// after the GPS and the store have begun to shut down.
struct InputService: Service {
    let inputs: [any EventInput]
    let journal: EventJournal
    let board: StatusBoard
    /// Called once every input runs (systemd is then told the agent is ready).
    var started: @Sendable () -> Void = {}

    func run() async throws {
        let (inputs, journal, board, started) = (inputs, journal, board, started)
        board.inputsConfigured(inputs.map(\.name))
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await journal.run() }
                for input in inputs {
                    group.addTask {
                        await input.run(emit: { await journal.record($0, from: input) },
                                        stateChanged: { board.inputStateChanged(input.name, $0) })
                    }
                }
                started()
            }
        }
    }
}

extension InputsConfig {
    /// The inputs as configured, in the order status lists them.
    func makeInputs(logger: Logger) -> [any EventInput] {
        let modem: [any EventInput] = modemButtons.map { port in
            ModemLineButtonsInput(
                portID: port.id, path: port.port, baud: port.baud,
                buttons: port.buttons.map { ModemLineButton(config: $0.config, line: $0.line, activeLevel: $0.activeHigh) },
                supplyLines: port.supplyLines, ledLine: port.ledLine, buzzerLine: port.buzzerLine,
                opener: SerialPortOpener(driver: port.driver), logger: logger)
        }
        let boxes: [any EventInput] = buttonBoxes.map { box in
            ButtonBoxInput(boxID: box.id, path: box.port, baud: box.baud, buttons: box.buttons,
                           silenceLimitMilliseconds: box.silenceMilliseconds, feedbackLED: box.feedbackLED,
                           opener: SerialPortOpener(driver: box.driver), logger: logger)
        }
        let readers: [any EventInput] = tagReaders.map { reader in
            SerialTagReaderInput(readerID: reader.id, role: reader.role, path: reader.port, baud: reader.baud, format: reader.format,
                                 repeatWindowMilliseconds: reader.repeatWindowMilliseconds,
                                 opener: SerialPortOpener(driver: reader.driver), logger: logger)
        }
        return modem + boxes + readers
    }
}
