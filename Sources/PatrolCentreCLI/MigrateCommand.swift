import ArgumentParser

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring the database's schema to this centre's version (run once per upgrade; `serve` refuses an older schema).")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        _ = try await options.openStorage(migrate: true)
        print("the database schema is up to date")
    }
}
