import PatrolCentre
import PatrolCore
import PatrolTestSupport
import Testing

@Suite struct CentreConfigTests {
    @Test func theExampleConfigReads() throws {
        let config = try CentreConfig.load(path: Fixtures.repositoryRoot + "/Config/centre.example.toml")
        #expect(config.address == "0.0.0.0")
        #expect(config.usesTLS)
        #expect(config.databasePath == "/var/lib/patrol-centre/centre.db")
        #expect(config.silentAfterSeconds == 60)
    }

    @Test func everyProblemIsReportedWithLineAndKey() {
        let text = """
        [server]
        address = "10.0.0.5"
        [storage]
        databse = "x.db"
        [limits]
        clock_skew_seconds = 0
        """
        do {
            _ = try CentreConfig.parse(text, file: "centre.toml", relativeTo: "/etc")
            Issue.record("a bad config was accepted")
        } catch {
            #expect(error.problems.map(\.key) == ["server.address", "storage.databse", "limits.clock_skew_seconds"])
            #expect(error.problems.map(\.line) == [2, 4, 6])
            #expect(error.problems[0].message.contains("plain HTTP"))
        }
    }

    @Test func relativeDatabasePathsAreTakenFromTheConfigFolder() throws {
        let config = try CentreConfig.parse("[storage]\ndatabase = \"data/centre.db\"", file: "c.toml", relativeTo: "/srv/centre")
        #expect(config.databasePath == "/srv/centre/data/centre.db")
        #expect(config.address == "127.0.0.1")
    }
}
