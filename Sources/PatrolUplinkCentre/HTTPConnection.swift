import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import PatrolTLS
import PatrolUplink

/// The answer to one HTTP request.
struct HTTPReply: Sendable {
    var status: Int
    var body: [UInt8]
}

/// TLS settings of an HTTPS output: which CA the centre's certificate must chain to, and the
/// device's own certificate when the centre asks for one.
public struct TLSFiles: Sendable, Equatable {
    /// PEM CA bundle; nil trusts the system's roots.
    public var caFile: String?
    public var clientCertificate: String?
    public var clientKey: String?

    public init(caFile: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil) {
        self.caFile = caFile
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
    }

    /// The NIOSSL context; the error names the file that could not be used.
    func makeContext() throws(UplinkLinkError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        TLSProfile.apply(to: &configuration)
        do {
            if let caFile {
                configuration.trustRoots = .certificates(try load(caFile) { try NIOSSLCertificate.fromPEMFile($0) })
            }
            if let clientCertificate {
                configuration.certificateChain = try load(clientCertificate) { try NIOSSLCertificate.fromPEMFile($0) }.map { .certificate($0) }
            }
            if let clientKey {
                configuration.privateKey = .privateKey(try load(clientKey) { try NIOSSLPrivateKey(file: $0, format: .pem) })
            }
            return try NIOSSLContext(configuration: configuration)
        } catch let error as UplinkLinkError {
            throw error
        } catch {
            throw UplinkLinkError("TLS setup failed: \(error)")
        }
    }

    private func load<T>(_ path: String, _ read: (String) throws -> T) throws -> T {
        do { return try read(path) } catch { throw UplinkLinkError("cannot use \(path): \(error)") }
    }

    /// What a TLS failure means for whoever installs the board, naming the file to look at; nil
    /// for errors that are not about certificates. NIOSSL reports BoringSSL's error stack
    /// (`error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at …/handshake.cc:…`),
    /// whose reason names are stable, so those are what is matched.
    func explain(_ error: any Error) -> String? {
        let text = String(describing: error)
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return "the centre's certificate is not issued for this host name or address (\(error))"
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the centre's certificate is not trusted: it does not chain to \(caFile.map { "a CA in ca_file \($0)" } ?? "the system's CAs (set ca_file)")"
        }
        if text.contains("CERTIFICATE_REQUIRED") {
            return "the centre asks for a client certificate and none is configured (set client_cert and client_key)"
        }
        let profile = TLSProfile.summary
        if text.contains("ALERT_PROTOCOL_VERSION") || text.contains("UNSUPPORTED_PROTOCOL") || text.contains("NO_SHARED_CIPHER")
            || text.contains("WRONG_CIPHER_RETURNED") {
            return "the centre offers no TLS version or cipher suite the agent accepts (\(profile)): update the centre's TLS settings"
        }
        if clientCertificate == nil && text.contains("ALERT_HANDSHAKE_FAILURE") {
            // The same alert says either; the TLS stack does not tell which.
            return "the centre refused the TLS handshake: it asks for a client certificate and none is configured (set client_cert "
                + "and client_key), or it offers no cipher suite the agent accepts (\(profile))"
        }
        if let clientCertificate, text.contains("ALERT_UNKNOWN_CA") || text.contains("ALERT_BAD_CERTIFICATE") {
            return "the centre refused the client certificate \(clientCertificate) (client_cert): it does not chain to a CA the centre trusts"
        }
        if text.contains("WRONG_VERSION_NUMBER") {
            return "the centre does not answer TLS on this port (a plain http:// centre?)"
        }
        return nil
    }

    /// Why a centre would close a new TLS connection without answering its first request. With
    /// TLS 1.3 the centre judges the client's certificate after the client's handshake is done,
    /// and its alert saying so is often lost to the connection's reset (the request was unread).
    var closedBeforeFirstAnswer: String {
        let reason = clientCertificate.map { "it may not accept the client certificate \($0) (client_cert)" }
            ?? "it may ask for a client certificate (set client_cert and client_key)"
        return "the centre closed the connection after the TLS handshake without answering: \(reason)"
    }
}

/// One kept-alive HTTP/1.1 connection (SwiftNIO, optionally TLS), one request at a time.
///
/// Kept alive because a car sends a small request every few seconds: a new TCP and TLS handshake
/// each time would cost more bytes than the records. A connection that fails is dropped and the
/// next request opens a new one; a kept-alive connection the server closed meanwhile is retried
/// once at once, since the request never reached it.
actor HTTPConnection {
    private let endpoint: HTTPEndpoint
    private let tls: (context: NIOSSLContext, files: TLSFiles)?
    private var channel: (any Channel)?

    /// One event loop thread serves every output: the agent sends a request every few seconds.
    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let connectTimeout = TimeAmount.seconds(10)
    /// An answer larger than this is not a centre's; it is read no further.
    static let maxReplyBytes = 1 << 20

    /// - Parameter tls: the files for TLS (nil: plain HTTP); read now, so a bad file stops the start.
    init(endpoint: HTTPEndpoint, tls: TLSFiles?) throws(UplinkLinkError) {
        self.endpoint = endpoint
        self.tls = try tls.map { files throws(UplinkLinkError) in (try files.makeContext(), files) }
    }

    func post(target: String, headers: [(String, String)], body: [UInt8], timeout: Duration) async throws(UplinkLinkError) -> HTTPReply {
        let reused = channel?.isActive == true
        do {
            return try await exchange(target: target, headers: headers, body: body, timeout: timeout)
        } catch let error as ReplyError where reused && error.beforeAnyReply {
            do {
                return try await exchange(target: target, headers: headers, body: body, timeout: timeout)
            } catch {
                throw linkError(error)
            }
        } catch {
            throw linkError(error)
        }
    }

    private func linkError(_ error: any Error) -> UplinkLinkError {
        if let error = error as? UplinkLinkError { return error }
        return UplinkLinkError("\(endpoint.description): \(error)")
    }

    private func exchange(target: String, headers: [(String, String)], body: [UInt8], timeout: Duration) async throws -> HTTPReply {
        // A new TLS connection the centre closes before the request goes out: see `closedBeforeFirstAnswer`.
        let closedUnused = (channel?.isActive == true ? nil : tls?.files.closedBeforeFirstAnswer) ?? "the centre closed the connection"
        let channel = try await connected()
        let slot = ReplySlot(channel.eventLoop.makePromise(of: HTTPReply.self))
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target)
        head.headers.add(name: "Host", value: endpoint.host)
        head.headers.add(name: "Content-Length", value: String(body.count))
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        let requestHead = head
        channel.eventLoop.execute {
            // A peer that closed right after accepting has already taken the handlers away.
            guard channel.isActive, let collector = try? channel.pipeline.syncOperations.handler(type: ReplyCollector.self) else {
                slot.fail(ReplyError(closedUnused, beforeAnyReply: true))
                return
            }
            collector.expect(slot)
            channel.write(HTTPClientRequestPart.head(requestHead), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(timeout.milliseconds)) {
            slot.fail(ReplyError("no answer within \(timeout)"))
        }
        do {
            // Shutdown must not wait for a slow centre: cancelling abandons the request (it is resent).
            let reply = try await withTaskCancellationHandler {
                try await slot.promise.futureResult.get()
            } onCancel: {
                channel.eventLoop.execute { slot.fail(ReplyError("cancelled at shutdown")) }
            }
            timer.cancel()
            return reply
        } catch {
            timer.cancel()
            drop(channel)
            throw error
        }
    }

    private func connected() async throws -> any Channel {
        if let channel, channel.isActive { return channel }
        let tls = tls
        // Waited for before the first request, so a refused certificate is reported as such.
        let handshake: EventLoopPromise<Void>? = tls == nil ? nil : Self.group.next().makePromise()
        let serverName = endpoint.host.contains(":") || endpoint.host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : endpoint.host
        let bootstrap = ClientBootstrap(group: Self.group)
            .connectTimeout(Self.connectTimeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ReplyCollector(handshake: handshake, tls: tls?.files))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            handshake?.fail(error)
            throw UplinkLinkError("cannot connect to \(endpoint.description): \(error)")
        }
        if let handshake {
            let timer = channel.eventLoop.scheduleTask(in: Self.connectTimeout) { channel.close(promise: nil) }
            defer { timer.cancel() }
            do {
                try await handshake.futureResult.get()
            } catch {
                channel.close(promise: nil)
                throw UplinkLinkError("TLS with \(endpoint.description) failed: \(tls?.files.explain(error) ?? "\(error)")")
            }
        }
        self.channel = channel
        return channel
    }

    private func drop(_ channel: any Channel) {
        if self.channel === channel { self.channel = nil }
        channel.close(promise: nil)
    }

    /// Closes the connection (at shutdown).
    func close() {
        if let channel { drop(channel) }
    }
}

/// A request that failed on the connection; `beforeAnyReply` when nothing of an answer arrived.
struct ReplyError: Error, CustomStringConvertible {
    var reason: String
    var beforeAnyReply = false

    init(_ reason: String, beforeAnyReply: Bool = false) {
        self.reason = reason
        self.beforeAnyReply = beforeAnyReply
    }

    var description: String { reason }
}

/// The answer to the request in flight, completed once by whichever comes first: the answer, the
/// connection's end or the timeout. Only touched on the channel's event loop.
private final class ReplySlot: @unchecked Sendable {
    let promise: EventLoopPromise<HTTPReply>
    private var done = false

    init(_ promise: EventLoopPromise<HTTPReply>) {
        self.promise = promise
    }

    func succeed(_ reply: HTTPReply) {
        guard !done else { return }
        done = true
        promise.succeed(reply)
    }

    func fail(_ error: ReplyError) {
        guard !done else { return }
        done = true
        promise.fail(error)
    }
}

/// Collects one response at a time for the request in flight. Lives on the channel's event loop.
private final class ReplyCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var pending: ReplySlot?
    /// Completed when TLS is up (nil for plain HTTP, and once completed).
    private var handshake: EventLoopPromise<Void>?
    private var status = 0
    private var body: [UInt8] = []
    private var closeAfter = false
    private var headSeen = false
    /// To explain certificate trouble, which with TLS 1.3 can surface after the handshake: the
    /// centre checks the client's certificate once the client has already sent its request.
    private let tls: TLSFiles?
    /// Whether any answer came on this connection; a TLS one closed before the first is explained.
    private var answered = false

    init(handshake: EventLoopPromise<Void>?, tls: TLSFiles?) {
        self.handshake = handshake
        self.tls = tls
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            handshake?.succeed()
            handshake = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func expect(_ slot: ReplySlot) {
        pending = slot
        status = 0
        body = []
        headSeen = false
    }

    func fail(_ error: ReplyError) {
        pending?.fail(error)
        pending = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            headSeen = true
            status = Int(head.status.code)
            closeAfter = !head.isKeepAlive
        case .body(let buffer):
            guard body.count + buffer.readableBytes <= HTTPConnection.maxReplyBytes else {
                fail(ReplyError("the answer is larger than \(HTTPConnection.maxReplyBytes) bytes"))
                context.close(promise: nil)
                return
            }
            body += buffer.readableBytesView
        case .end:
            answered = true
            pending?.succeed(HTTPReply(status: status, body: body))
            pending = nil
            if closeAfter { context.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshake?.fail(ReplyError("the centre closed the connection during the TLS handshake"))
        handshake = nil
        fail(ReplyError(unansweredTLS?.closedBeforeFirstAnswer ?? "the centre closed the connection", beforeAnyReply: !headSeen))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        handshake?.fail(error)
        handshake = nil
        fail(ReplyError(tls?.explain(error) ?? unansweredTLS?.closedBeforeFirstAnswer ?? "\(error)", beforeAnyReply: !headSeen))
        context.close(promise: nil)
    }

    /// The TLS files while this TLS connection has had no answer, not even the start of one.
    private var unansweredTLS: TLSFiles? { answered || headSeen ? nil : tls }
}
