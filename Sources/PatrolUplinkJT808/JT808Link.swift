import NIOCore
import NIOPosix
import PatrolCore
import PatrolUplink

/// One TCP connection to a JT/T 808 platform: frames out, parsed frames in, in order.
///
/// Incoming bytes are cut at the flags by `JT808FrameSplitter` (bounded) on the event loop and
/// handed over through an `AsyncStream`; a frame that does not parse is passed on as an error so
/// the output can log it with its hex.
final class JT808Link: Sendable {
    enum Inbound: Sendable {
        case frame(JT808Frame.Parsed, hex: String)
        case bad(WireError, hex: String)
        case closed
        /// The wait numbered so has run out (see `timeout(after:id:)`).
        case timeout(Int)
    }

    private let channel: any Channel
    let inbound: AsyncStream<Inbound>
    private let continuation: AsyncStream<Inbound>.Continuation

    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let connectTimeout = TimeAmount.seconds(10)

    private init(channel: any Channel, inbound: AsyncStream<Inbound>, continuation: AsyncStream<Inbound>.Continuation) {
        self.channel = channel
        self.inbound = inbound
        self.continuation = continuation
    }

    /// Puts `.timeout(id)` into the inbound stream after `delay`, so a wait for answers ends.
    func timeout(after delay: Duration, id: Int) {
        let continuation = continuation
        channel.eventLoop.scheduleTask(in: .milliseconds(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)) {
            continuation.yield(.timeout(id))
        }
    }

    static func connect(host: String, port: Int) async throws(UplinkLinkError) -> JT808Link {
        let (stream, continuation) = AsyncStream.makeStream(of: Inbound.self, bufferingPolicy: .bufferingNewest(4096))
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FrameReader(continuation: continuation))
                }
            }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            return JT808Link(channel: channel, inbound: stream, continuation: continuation)
        } catch {
            continuation.finish()
            throw UplinkLinkError("cannot connect to tcp://\(host):\(port): \(error)")
        }
    }

    var isActive: Bool { channel.isActive }

    func send(_ bytes: [UInt8]) async throws(UplinkLinkError) {
        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        } catch {
            throw UplinkLinkError("the platform connection failed while sending: \(error)")
        }
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// Cuts the stream into frames and parses them on the event loop.
private final class FrameReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private var splitter = JT808FrameSplitter()
    private let continuation: AsyncStream<JT808Link.Inbound>.Continuation

    init(continuation: AsyncStream<JT808Link.Inbound>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        for piece in splitter.push(buffer.readableBytesView) {
            switch piece {
            case .frame(let bytes):
                let hex = Hex.encode([JT808Framing.flag] + bytes + [JT808Framing.flag])
                do {
                    continuation.yield(.frame(try JT808Frame.parse(bytes), hex: hex))
                } catch {
                    continuation.yield(.bad(error, hex: hex))
                }
            case .oversized(let dropped):
                continuation.yield(.bad(WireError(field: "frame", offset: 0, message: "longer than a frame can be (\(dropped) bytes dropped)"), hex: ""))
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.yield(.closed)
        continuation.finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
