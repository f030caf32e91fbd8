import CPlatform
import Glibc
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import PatrolCore

/// Builds the centre's HTTP application from its parts, so `serve` and the tests run the same thing.
public enum CentreApplication {
    /// The router with every route; exposed so tests can compare its routes with the OpenAPI document.
    /// `changes` hears of every committed batch and acknowledgement; `serve` hands the same feed to
    /// the console it mounts on this router.
    public static func router(storage: any CentreStorage, configuration: CentreConfig, clock: CentreClock = .system,
                              changes: CentreChanges = CentreChanges(), logger: Logger) -> Router<CentreRequestContext> {
        let router = Router(context: CentreRequestContext.self)
        CentreRoutes(storage: storage, configuration: configuration, clock: clock, changes: changes, logger: logger)
            .register(on: router)
        return router
    }

    /// The application: HTTPS when the configuration names a certificate (asking clients for
    /// theirs when it names a client CA), otherwise plain HTTP,
    /// which `CentreConfig` only allows on a loopback address (checked again here for callers that
    /// build a configuration in code).
    public static func make(storage: any CentreStorage, configuration: CentreConfig, clock: CentreClock = .system,
                            logger: Logger) throws -> some ApplicationProtocol {
        try make(router: router(storage: storage, configuration: configuration, clock: clock, logger: logger),
                 configuration: configuration, logger: logger)
    }

    /// The application serving `router` (the centre's routes, and whatever else was mounted on it: the console).
    public static func make(router: Router<CentreRequestContext>, configuration: CentreConfig,
                            logger: Logger) throws -> some ApplicationProtocol {
        // A hostile batch must not leave the server at its peak size for good (issue 9).
        patrol_return_freed_memory_promptly()
        let address = ApplicationConfiguration(address: .hostname(configuration.address, port: configuration.port),
                                               serverName: "patrol-centre")
        let connections = ConnectionRegistry(limits: try configuration.connectionLimits(openFileLimit: openFileLimit()), logger: logger)
        let server: HTTPServerBuilder
        if let tls = try configuration.serverTLSConfiguration() {
            let tlsRefusals = RefusalLog(logger: logger)
            server = try .tls(.http1(configuration: .init(additionalChannelHandlers: [
                ConnectionGuard(registry: connections), TLSRefusalLog(refusals: tlsRefusals),
            ])), tlsConfiguration: tls)
        } else {
            guard CentreConfig.isLoopback(configuration.address) else {
                throw CentreError(.internalServerError, code: "plain-http-refused",
                                  message: "refusing plain HTTP on \(configuration.address): configure [tls] or listen on 127.0.0.1")
            }
            server = .http1(configuration: .init(additionalChannelHandlers: [ConnectionGuard(registry: connections)]))
        }
        return Application(router: router, server: server, configuration: address, logger: logger)
    }

    /// The process's soft limit on open files (`RLIMIT_NOFILE`), which bounds its connections.
    static func openFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Int(clamping: limit.rlim_cur)
    }
}
