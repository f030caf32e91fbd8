import ArgumentParser
import Hummingbird
import Logging
import PatrolCentre
import PatrolCentreJT808
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the centre's HTTPS server (and, with [jt808], its JT/T 808 listener).")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let (configuration, storage) = try options.openStorage()
        var logger = Logger(label: "patrol-centre")
        logger.logLevel = .info
        let app = try CentreApplication.make(storage: storage, configuration: configuration, logger: logger)
        guard let jt808 = configuration.jt808 else { return try await app.runService() }
        let listener = JT808Listener(settings: jt808, storage: storage, logger: logger)
        try await ServiceGroup(configuration: .init(services: [app, listener], gracefulShutdownSignals: [.sigterm, .sigint],
                                                    logger: logger)).run()
    }
}
