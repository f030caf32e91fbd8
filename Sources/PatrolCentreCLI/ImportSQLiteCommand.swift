import ArgumentParser
import Foundation
import PatrolCentre
import PatrolCentrePostgres

struct ImportSQLiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-sqlite",
        abstract: "Move a street centre's SQLite file into the district's PostgreSQL (read only; safe to run again).",
        discussion: """
            --config names the district's configuration ([storage] backend = "postgres", schema migrated). The file is \
            read in one snapshot, so the street centre may keep running; everything is written in one transaction, \
            merged on natural keys: a second run adds nothing. Console sessions and sign-in failure counts are not carried.
            """)

    @OptionGroup var options: ConfigOption
    @Option(name: .long, help: ArgumentHelp("The street centre's SQLite file ([storage] database of its configuration).", valueName: "FILE"))
    var from: String

    func run() async throws {
        let configuration = try options.load()
        guard case .postgres(let settings) = configuration.storageBackend else {
            throw CommandFailure("\(options.config): storage.backend: this configuration's storage is a SQLite file; import-sqlite moves a street's file into a district's PostgreSQL: give it the district's configuration (backend = \"postgres\")")
        }
        do {
            _ = try await SQLiteImport.run(from: from, into: settings, now: CentreClock.system.now()) { line in
                print(line)
                fflush(nil) // each line as it happens, also into a pipe or a log file
            }
        } catch let refusal as SQLiteImportRefusal {
            throw CommandFailure(refusal.description)
        }
    }
}
