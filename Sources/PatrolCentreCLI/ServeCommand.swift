import ArgumentParser
import Hummingbird
import Logging
import PatrolCentre
import PatrolConsole

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the centre's HTTPS server and its web console (/console/).")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let (configuration, storage) = try await options.openStorage()
        var logger = Logger(label: "patrol-centre")
        logger.logLevel = .info
        let changes = CentreChanges()
        let router = CentreApplication.router(storage: storage, configuration: configuration, changes: changes, logger: logger)
        ConsoleRoutes(storage: storage, configuration: configuration, changes: changes, logger: logger).register(on: router)
        let app = try CentreApplication.make(router: router, configuration: configuration, logger: logger)
        try await app.runService()
    }
}
