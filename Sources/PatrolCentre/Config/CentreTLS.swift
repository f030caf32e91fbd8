import Foundation
import NIOSSL
import PatrolCore
import PatrolTLS

extension CentreConfig {
    /// The server's TLS settings from the `[tls]` files, or nil for plain HTTP.
    ///
    /// The files are read here, when the server starts, not when the configuration is read: the
    /// other commands (`devices`, `alarms`, …) need no certificate. Every file that cannot be used
    /// is reported at once with the key and line that named it, in words instead of NIOSSL's bare
    /// `failedToLoadCertificate`.
    public func serverTLSConfiguration() throws(ConfigError) -> TLSConfiguration? {
        guard let certificatePath = tlsCertificatePath, let keyPath = tlsPrivateKeyPath else { return nil }
        var problems: [ConfigProblem] = []
        /// The parsed contents of `path`, or nil with a problem for `key`.
        func read<T>(_ key: String, _ path: String, expecting contents: String, _ parse: ([UInt8]) throws -> T?) -> T? {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
                problems.append(origin.problem(key, "cannot read \(path): \(reason)"))
                return nil
            }
            guard let value = try? parse(Array(bytes)) else {
                problems.append(origin.problem(key, "\(path) does not hold \(contents)"))
                return nil
            }
            return value
        }
        let chain = read("tls.certificate", certificatePath, expecting: "a PEM certificate (-----BEGIN CERTIFICATE-----)") {
            try NIOSSLCertificate.fromPEMBytes($0).nonEmpty
        }
        let key = read("tls.private_key", keyPath, expecting: "an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)") {
            try NIOSSLPrivateKey(bytes: $0, format: .pem)
        }
        let clientAuthorities = tlsClientCAPath.flatMap { path in
            read("tls.client_ca", path, expecting: "PEM CA certificates (-----BEGIN CERTIFICATE-----)") {
                try NIOSSLCertificate.fromPEMBytes($0).nonEmpty
            }
        }
        guard problems.isEmpty, let chain, let key else { throw ConfigError(file: origin.file, problems: problems) }

        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(key))
        TLSProfile.apply(to: &configuration)
        if let clientAuthorities {
            // Clients are not known by host name: the chain to client_ca is what is checked. This
            // mode also makes the handshake fail when a client sends no certificate.
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(clientAuthorities)
        }
        // Built once here so that a key of another certificate is reported as such, not as a
        // failure deep in the server's start.
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigError(file: origin.file, problems: [
                origin.problem("tls.private_key", "\(keyPath) is not the key of the certificate in \(certificatePath) (\(error))"),
            ])
        }
        return configuration
    }
}

extension Array {
    /// Self, or nil when empty: a PEM file without a single certificate is as unusable as a missing one.
    fileprivate var nonEmpty: Self? { isEmpty ? nil : self }
}
