import ArgumentParser
import Foundation
import PatrolCentre
import PatrolCentrePostgres
import PatrolCore

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
    @Option(help: "The street the file's units and staff join (those it assigns to no street); its staff then see only this street.")
    var street: String?
    @Flag(help: "The file's units and staff without a street become the district's own: its staff see every street.")
    var district = false

    /// Which one is a choice the operator makes: left out, a street's guards would silently become
    /// district staff who see every street.
    func validate() throws {
        guard (street == nil) != !district else {
            throw ValidationError("give either --street S (the file's units and staff join street S) or --district (they become the district's own, and its staff see every street)")
        }
        if let street, !StaffScope.isValidStreet(street) {
            throw ValidationError("--street \(street): a street id is 1 to \(UplinkLimits.maxDeviceIDBytes) bytes without spaces")
        }
    }

    func run() async throws {
        let configuration = try options.load()
        guard case .postgres(let settings) = configuration.storageBackend else {
            throw CommandFailure("\(options.config): storage.backend: this configuration's storage is a SQLite file; import-sqlite moves a street's file into a district's PostgreSQL: give it the district's configuration (backend = \"postgres\")")
        }
        do {
            _ = try await SQLiteImport.run(from: from, into: settings, joining: street, now: CentreClock.system.now()) { line in
                print(line)
                fflush(nil) // each line as it happens, also into a pipe or a log file
            }
        } catch let refusal as SQLiteImportRefusal {
            throw CommandFailure(refusal.description)
        }
    }
}
