import Foundation

/// A throwaway certificate authority with a server certificate for this machine and a client
/// certificate, made with the `openssl` command at test time (nothing secret is kept in the repo,
/// and nothing expires between runs): `ca.pem`, `server.pem`/`server-key.pem` for 127.0.0.1 and
/// localhost, `client.pem`/`client-key.pem`, all in `folder`.
///
/// P-256 keys: made in milliseconds, and what a board would use.
public struct TestCertificates: Sendable {
    public let folder: String

    public var caCertificate: String { folder + "/ca.pem" }
    public var serverCertificate: String { folder + "/server.pem" }
    public var serverKey: String { folder + "/server-key.pem" }
    public var clientCertificate: String { folder + "/client.pem" }
    public var clientKey: String { folder + "/client-key.pem" }

    /// Makes the CA (named `authority`, so two sets in one test can be told apart) and its two
    /// certificates in `folder`, which is created when missing.
    public init(in folder: String, authority: String = "PatrolLink test CA") throws {
        self.folder = folder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                          "-subj", "/CN=\(authority)", "-addext", "basicConstraints=critical,CA:TRUE",
                          "-addext", "keyUsage=critical,keyCertSign", "-keyout", folder + "/ca-key.pem", "-out", caCertificate])
        try issue("server", subject: "localhost", extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        try issue("client", subject: "test-car", extensions: "extendedKeyUsage=clientAuth\n")
    }

    /// The certificates made earlier in `folder`.
    public init(madeIn folder: String) {
        self.folder = folder
    }

    /// `<name>.pem` and `<name>-key.pem`, signed by the CA.
    private func issue(_ name: String, subject: String, extensions: String) throws {
        let (request, extensionFile) = (folder + "/\(name).csr", folder + "/\(name).ext")
        try extensions.write(toFile: extensionFile, atomically: true, encoding: .utf8)
        try Self.openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-subj", "/CN=\(subject)", "-keyout", folder + "/\(name)-key.pem", "-out", request])
        try Self.openssl(["x509", "-req", "-in", request, "-CA", caCertificate, "-CAkey", folder + "/ca-key.pem",
                          "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "2", "-extfile", extensionFile,
                          "-out", folder + "/\(name).pem"])
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = try ChildProcess("openssl", arguments)
        guard process.waitForExitCode(timeout: 30) == 0 else {
            throw SystemCallError("openssl \(arguments.prefix(2).joined(separator: " ")): \(process.output)")
        }
    }
}
