import Foundation
import Logging
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
        #expect(config.jt808?.port == 7611 && config.jt808?.address == "0.0.0.0" && config.jt808?.idleTimeoutSeconds == 180)
    }

    @Test func theJT808ListenerIsOnlyOnWithAPortAndItsProblemsHaveTheirLines() throws {
        #expect(try CentreConfig.parse("[server]\nport = 1\n", file: "centre.toml", relativeTo: "/etc").jt808 == nil)
        let on = try CentreConfig.parse("[jt808]\nport = 7611\n", file: "centre.toml", relativeTo: "/etc")
        #expect(on.jt808 == JT808ListenerSettings(address: "127.0.0.1", port: 7611), "the server's address by default")
        do {
            _ = try CentreConfig.parse("[jt808]\naddress = \"0.0.0.0\"\nidle_timeout_seconds = 1\n", file: "centre.toml", relativeTo: "/etc")
            Issue.record("a [jt808] table without a port was accepted")
        } catch {
            #expect(error.problems.map(\.key) == ["jt808.port", "jt808.idle_timeout_seconds"])
            #expect(error.problems.map(\.line) == [1, 3])
        }
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

    @Test func connectionAndBodyLimitsAreCheckedWithTheirLines() throws {
        do {
            _ = try CentreConfig.parse("""
            [limits]
            max_body_bytes = 1048576
            max_buffered_body_bytes = 4096
            header_timeout_seconds = 0
            body_timeout_seconds = 100000
            max_connections = 0
            """, file: "centre.toml", relativeTo: "/etc")
            Issue.record("bad limits were accepted")
        } catch {
            #expect(error.problems.map(\.key) == ["limits.max_buffered_body_bytes", "limits.header_timeout_seconds",
                                                 "limits.body_timeout_seconds", "limits.max_connections"])
            #expect(error.problems.map(\.line) == [3, 4, 5, 6])
        }
        // A connection limit above the open-file limit is found when the server starts, with its line.
        let config = try CentreConfig.parse("[server]\nport = 0\n[limits]\nmax_connections = 999999\n", file: "centre.toml", relativeTo: "/tmp")
        let centre = try CentreHarness()
        do {
            _ = try CentreApplication.make(storage: centre.storage, configuration: config, logger: Logger(label: "test"))
            Issue.record("a connection limit above the open-file limit was accepted")
        } catch let error as ConfigError {
            #expect(error.description.contains("centre.toml"))
            #expect(error.problems.map(\.key) == ["limits.max_connections"])
            #expect(error.problems.map(\.line) == [4])
            #expect(error.problems.first?.message.contains("LimitNOFILE") == true)
        }
    }

    @Test func relativeDatabasePathsAreTakenFromTheConfigFolder() throws {
        let config = try CentreConfig.parse("[storage]\ndatabase = \"data/centre.db\"", file: "c.toml", relativeTo: "/srv/centre")
        #expect(config.databasePath == "/srv/centre/data/centre.db")
        #expect(config.address == "127.0.0.1")
    }

    @Test func aClientCAWithoutTLSIsAProblem() {
        do {
            _ = try CentreConfig.parse("[server]\nport = 8080\n[tls]\nclient_ca = \"ca.pem\"", file: "centre.toml", relativeTo: "/etc")
            Issue.record("client_ca without a server certificate was accepted")
        } catch {
            #expect(error.problems.map(\.key) == ["tls.client_ca"])
            #expect(error.problems.map(\.line) == [4])
        }
    }

    @Test func unusableTLSFilesAreReportedWithTheirKeyAndLineWhenTheServerStarts() throws {
        let folder = try TemporaryDirectory(prefix: "centre-tls")
        defer { folder.remove() }
        let certificates = try TestCertificates(in: folder.file("pki"))
        try "not a certificate\n".write(toFile: folder.file("garbage.pem"), atomically: true, encoding: .utf8)
        func problems(key: String = "pki/server-key.pem", clientCA: String) throws -> String? {
            let config = try CentreConfig.parse("""
            [tls]
            certificate = "pki/server.pem"
            private_key = "\(key)"
            client_ca = "\(clientCA)"
            """, file: "centre.toml", relativeTo: folder.path)
            do {
                _ = try config.serverTLSConfiguration()
                return nil
            } catch {
                return error.description
            }
        }
        #expect(try problems(clientCA: "missing.pem") == "centre.toml:4: tls.client_ca: cannot read \(folder.path)/missing.pem: no such file")
        #expect(try problems(clientCA: "garbage.pem")
            == "centre.toml:4: tls.client_ca: \(folder.path)/garbage.pem does not hold PEM CA certificates (-----BEGIN CERTIFICATE-----)")
        let otherKey = try problems(key: "pki/client-key.pem", clientCA: "pki/ca.pem")
        #expect(otherKey?.hasPrefix("centre.toml:3: tls.private_key: \(certificates.clientKey) is not the key of the certificate in \(certificates.serverCertificate)") == true,
                "\(otherKey ?? "accepted")")
        #expect(try problems(clientCA: "pki/ca.pem") == nil, "the test CA's own files are usable")
    }
}
