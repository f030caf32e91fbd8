import Hummingbird
import NIOCore

/// The context of every centre request: Hummingbird's basics and the client's address, which the
/// console's sign-in lockout counts failures by and the audit log records.
public struct CentreRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text (`127.0.0.1`, `::1`), or `-` when unknown.
    public var clientAddress: String { remoteAddress?.ipAddress ?? "-" }
}
