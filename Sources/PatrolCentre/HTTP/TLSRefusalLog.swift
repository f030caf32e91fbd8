import NIOCore
import NIOTLS

/// Logs a connection whose TLS handshake failed, with the reason in words: NIOSSL closes such a
/// connection without a word, and an operator looking for a board that never delivers would find
/// nothing. One line per refused connection (boards retry with backoff, at most one a minute),
/// throttled by `RefusalLog` against a client that opens handshakes as fast as it can.
///
/// Sits after the HTTP handlers, which pass errors and events on; handshake failures reach it
/// before any request does.
final class TLSRefusalLog: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let refusals: RefusalLog
    private var handshakeCompleted = false

    init(refusals: RefusalLog) {
        self.refusals = refusals
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event { handshakeCompleted = true }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !handshakeCompleted {
            let peer = context.remoteAddress.flatMap { address in address.ipAddress.map { "\($0):\(address.port ?? 0)" } } ?? "a client"
            refusals.refused("refused the TLS handshake with \(peer): \(Self.reason(error))", reason: "tls-handshake", level: .notice)
        }
        context.fireErrorCaught(error)
    }

    /// BoringSSL's reason names, which NIOSSL's errors carry in their text, said for an operator.
    static func reason(_ error: any Error) -> String {
        let text = String(describing: error)
        let reasons = [
            ("PEER_DID_NOT_RETURN_A_CERTIFICATE", "the client sent no certificate, and [tls] client_ca asks for one"),
            ("CERTIFICATE_VERIFY_FAILED", "the client's certificate does not chain to a CA in [tls] client_ca"),
            ("ALERT_UNKNOWN_CA", "the client does not trust the centre's certificate (its ca_file lacks the centre's CA)"),
            ("ALERT_BAD_CERTIFICATE", "the client does not accept the centre's certificate"),
            ("ALERT_CERTIFICATE_UNKNOWN", "the client does not accept the centre's certificate"),
            ("HTTP_REQUEST", "the client speaks plain HTTP to the TLS port (an http:// url?)"),
            ("WRONG_VERSION_NUMBER", "the client does not speak TLS"),
        ]
        return reasons.first { text.contains($0.0) }?.1 ?? text
    }
}
