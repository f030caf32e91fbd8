import ArgumentParser
import Hummingbird
import Logging
import PatrolCentre
import PatrolCentreJT808
import PatrolConsole
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the centre's HTTPS server, its web console (/console/) and, with [jt808], its JT/T 808 listener.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let (configuration, storage) = try await options.openStorage()
        var logger = Logger(label: "patrol-centre")
        logger.logLevel = .info
        let changes = CentreChanges()
        let router = CentreApplication.router(storage: storage, configuration: configuration, changes: changes, logger: logger)
        ConsoleRoutes(storage: storage, configuration: configuration, changes: changes, logger: logger).register(on: router)
        let app = try CentreApplication.make(router: router, configuration: configuration, logger: logger)
        var services: [any Service] = [app]
        if let jt808 = configuration.jt808 {
            services.append(JT808Listener(settings: jt808, storage: storage, changes: changes, logger: logger))
        }
        if let relay = storage as? any CentreChangeRelay { services.append(ChangeRelayService(relay: relay, changes: changes)) }
        try await ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
    }
}

/// Runs a storage's `CentreChangeRelay` beside the server until the centre stops, so its consoles
/// see what other instances commit.
struct ChangeRelayService: Service {
    let relay: any CentreChangeRelay
    let changes: CentreChanges

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await relay.relayChanges(to: changes) }
    }
}
