import NIOCore
import NIOPosix
import PatrolUplink

/// The transport to one receiver: TCP (one kept-open connection) or UDP (one datagram each way),
/// one message at a time, each waiting for its answer.
///
/// A message whose answer does not come in time leaves the connection in an unknown state (the
/// answer may still be on its way), so the connection is dropped and the next message opens a new
/// one: a late answer can never be taken for the answer to a later message.
actor DC09Link {
    enum Transport: String, Sendable, CaseIterable {
        case tcp, udp
    }

    let host: String
    let port: Int
    let transport: Transport
    private var channel: (any Channel)?

    /// One event loop thread serves every DC-09 output: a message every few seconds at most.
    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let connectTimeout = TimeAmount.seconds(10)
    /// Bytes a receiver may send without ending a block; a DC-09 block is at most ~4 KiB.
    static let maxBlockBytes = 8192

    init(host: String, port: Int, transport: Transport) {
        self.host = host
        self.port = port
        self.transport = transport
    }

    nonisolated var destination: String { "\(transport.rawValue)://\(host):\(port)" }

    /// Sends `block` and returns the first block received that `accept` takes, within `timeout`.
    /// Blocks `accept` refuses (returns a reason for) are not answers; the last reason is in the error
    /// when nothing better came.
    func exchange<Answer: Sendable>(_ block: [UInt8], timeout: Duration,
                                    accept: @escaping @Sendable (Result<DC09Frame, DC09FrameError>) -> Result<Answer, DC09FrameError>)
        async throws(UplinkLinkError) -> Answer {
        let reused = channel?.isActive == true
        do {
            return try await attempt(block, timeout: timeout, accept: accept)
        } catch let error as BlockError where reused && error.closedBeforeAnswer {
            // A kept-open connection the receiver closed meanwhile: the block never reached it.
            do { return try await attempt(block, timeout: timeout, accept: accept) } catch { throw linkError(error) }
        } catch {
            throw linkError(error)
        }
    }

    /// Closes the connection (at shutdown).
    func close() async {
        if let channel { try? await channel.close() }
        channel = nil
    }

    private func linkError(_ error: any Error) -> UplinkLinkError {
        (error as? BlockError).map { UplinkLinkError("\(destination): \($0.reason)") } ?? UplinkLinkError("\(destination): \(error)")
    }

    private func attempt<Answer: Sendable>(_ block: [UInt8], timeout: Duration,
                                           accept: @escaping @Sendable (Result<DC09Frame, DC09FrameError>) -> Result<Answer, DC09FrameError>)
        async throws -> Answer {
        let channel = try await connected()
        let waiter = AnswerWaiter(channel.eventLoop.makePromise(of: Answer.self), accept: accept)
        do {
            try await channel.eventLoop.submit {
                // A receiver (or a proxy in front of it) that closed right after accepting has taken the handler away.
                guard channel.isActive, let handler = try? channel.pipeline.syncOperations.handler(type: BlockCollector.self) else {
                    throw BlockError("the receiver closed the connection", closedBeforeAnswer: true)
                }
                handler.expect(waiter)
                channel.writeAndFlush(ByteBuffer(bytes: block), promise: nil)
            }.get()
        } catch {
            // Complete the promise nobody will wait for, and start afresh next time.
            channel.eventLoop.execute { waiter.fail(error) }
            drop(channel)
            throw error
        }
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000
                                                                    + timeout.components.attoseconds / 1_000_000_000)) {
            waiter.fail(BlockError("no answer within \(timeout)" + (waiter.ignored.map { "; ignored: \($0)" } ?? "")))
        }
        do {
            let answer = try await withTaskCancellationHandler {
                try await waiter.promise.futureResult.get()
            } onCancel: {
                channel.eventLoop.execute { waiter.fail(BlockError("cancelled at shutdown")) }
            }
            timer.cancel()
            if transport == .udp { drop(channel) }
            return answer
        } catch {
            timer.cancel()
            drop(channel)
            throw error
        }
    }

    private func drop(_ dropped: any Channel) {
        dropped.close(promise: nil)
        if channel === dropped { channel = nil }
    }

    private func connected() async throws -> any Channel {
        if let channel, channel.isActive { return channel }
        let made: any Channel
        do {
            switch transport {
            case .tcp:
                made = try await ClientBootstrap(group: Self.group)
                    .connectTimeout(Self.connectTimeout)
                    .channelOption(.socketOption(.so_keepalive), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(BlockCollector())
                        }
                    }
                    .connect(host: host, port: port).get()
            case .udp:
                // Connected, so only the receiver's datagrams arrive and a refused port is reported.
                made = try await DatagramBootstrap(group: Self.group)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(DatagramToBytes())
                            try channel.pipeline.syncOperations.addHandler(BlockCollector())
                        }
                    }
                    .connect(host: host, port: port).get()
            }
        } catch {
            throw BlockError("cannot reach the receiver: \(error)")
        }
        channel = made
        return made
    }
}

struct BlockError: Error {
    var reason: String
    var closedBeforeAnswer: Bool

    init(_ reason: String, closedBeforeAnswer: Bool = false) {
        self.reason = reason
        self.closedBeforeAnswer = closedBeforeAnswer
    }
}

/// The caller waiting for one answer; completed once, on the channel's event loop.
final class AnswerWaiter<Answer: Sendable>: @unchecked Sendable, BlockSink {
    let promise: EventLoopPromise<Answer>
    private let accept: @Sendable (Result<DC09Frame, DC09FrameError>) -> Result<Answer, DC09FrameError>
    private var done = false
    /// Why the last block received was not the answer (event loop only).
    private(set) var ignored: String?

    init(_ promise: EventLoopPromise<Answer>, accept: @escaping @Sendable (Result<DC09Frame, DC09FrameError>) -> Result<Answer, DC09FrameError>) {
        self.promise = promise
        self.accept = accept
    }

    func received(_ block: Result<DC09Frame, DC09FrameError>) {
        guard !done else { return }
        switch accept(block) {
        case .success(let answer):
            done = true
            promise.succeed(answer)
        case .failure(let reason):
            ignored = reason.description
        }
    }

    func fail(_ error: any Error) {
        guard !done else { return }
        done = true
        promise.fail(error)
    }
}

protocol BlockSink: AnyObject {
    func received(_ block: Result<DC09Frame, DC09FrameError>)
    func fail(_ error: any Error)
}

/// Cuts the byte stream into blocks at CR (a block starts at LF) and hands each to the waiter.
/// Bytes that arrive while nobody waits belong to a message given up on and are dropped.
final class BlockCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var buffer: [UInt8] = []
    private var sink: (any BlockSink)?

    func expect(_ sink: any BlockSink) {
        buffer.removeAll()
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer += bytes.readBytes(length: bytes.readableBytes) ?? []
        while let end = buffer.firstIndex(of: DC09Frame.carriageReturn) {
            let block = Array(buffer[..<end])
            buffer.removeSubrange(...end)
            // pysiaalarm answers a block it cannot read with a bare LF CR; that is no answer at all.
            let trimmed = block.drop { $0 == DC09Frame.lineFeed }
            guard !trimmed.isEmpty else { continue }
            sink?.received(Result { () throws(DC09FrameError) in try DC09Frame.decode(trimmed) })
        }
        if buffer.count > DC09Link.maxBlockBytes {
            buffer.removeAll()
            sink?.received(.failure(DC09FrameError("more than \(DC09Link.maxBlockBytes) bytes without a CR")))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The block may have been read: its fate is unknown, unlike a write to a closed connection.
        sink?.fail(BlockError("the receiver closed the connection without answering"))
        sink = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        sink?.fail(BlockError("\(error)"))
        sink = nil
        context.close(promise: nil)
    }
}

/// UDP: each datagram is one block's bytes.
final class DatagramToBytes: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(wrapInboundOut(unwrapInboundIn(data).data))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard let receiver = context.channel.remoteAddress else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: receiver, data: unwrapOutboundIn(data))), promise: promise)
    }
}
