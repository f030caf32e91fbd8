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
        guard let jt808 = configuration.jt808 else { return try await app.runService() }
        let listener = JT808Listener(settings: jt808, storage: storage, changes: changes, logger: logger)
        try await ServiceGroup(configuration: .init(services: [app, listener], gracefulShutdownSignals: [.sigterm, .sigint],
                                                    logger: logger)).run()
    }
}
