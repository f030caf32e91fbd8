import ArgumentParser
import Hummingbird
import Logging
import PatrolCentre

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the centre's HTTPS server.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let (configuration, storage) = try await options.openStorage()
        var logger = Logger(label: "patrol-centre")
        logger.logLevel = .info
        let app = try CentreApplication.make(storage: storage, configuration: configuration, logger: logger)
        try await app.runService()
    }
}
