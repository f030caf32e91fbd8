import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
import PatrolCore
import Synchronization

/// The centre's connection limits, which keep a slow or hostile client from holding what devices
/// need: open files (a connection is one) and time.
struct ConnectionLimits: Sendable, Equatable {
    /// Connections held at once; kept below the process's open-file limit (`RLIMIT_NOFILE`).
    var maxConnections: Int
    /// From connecting (or the end of the previous answer) to the end of the request's headers.
    var headerTimeout: TimeAmount
    /// From the end of the headers to the end of the body.
    var bodyTimeout: TimeAmount
}

/// Every open connection of the server and whether it is waiting for request headers. When the
/// limit is reached, a new connection takes the place of the one that has waited longest for its
/// headers: a slowloris client trickling headers is always the oldest waiter, while a device sends
/// its headers in one packet and is never waiting long. Only when every connection is busy with a
/// request is the new one closed.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        let channel: any Channel
        /// Since when it waits for the next request's headers; nil while a request is in progress.
        var waitingSince: NIODeadline?
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        /// Connections closed to make room (or refused) since the last log line about it.
        var closedForRoom = 0
        var lastNotice: NIODeadline?
    }

    let limits: ConnectionLimits
    private let state = Mutex(State())
    private let logger: Logger

    init(limits: ConnectionLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Adds `channel`, making room if needed; false when there is no room and it must be closed.
    func admit(_ channel: any Channel) -> Bool {
        let now = NIODeadline.now()
        let (admitted, evicted, notice) = state.withLock { state -> (Bool, (any Channel)?, Int?) in
            var evicted: (any Channel)?
            if state.entries.count >= limits.maxConnections {
                let oldest = state.entries.filter { $0.value.waitingSince != nil }.min { $0.value.waitingSince! < $1.value.waitingSince! }
                if let oldest {
                    evicted = state.entries.removeValue(forKey: oldest.key)?.channel
                }
                state.closedForRoom += 1
            }
            let admitted = state.entries.count < limits.maxConnections
            if admitted { state.entries[ObjectIdentifier(channel)] = Entry(channel: channel, waitingSince: now) }
            // One line a minute at most, with a count: an attack must not flood the log.
            var notice: Int?
            if state.closedForRoom > 0, state.lastNotice.map({ now - $0 >= .minutes(1) }) ?? true {
                notice = state.closedForRoom
                state.closedForRoom = 0
                state.lastNotice = now
            }
            return (admitted, evicted, notice)
        }
        evicted?.close(promise: nil)
        if let notice {
            logger.notice("""
                connection limit \(limits.maxConnections) reached: closed \(notice) connection(s) waiting for request headers \
                (slow or idle clients) or refused new ones (limits.max_connections)
                """)
        }
        return admitted
    }

    func waiting(_ channel: any Channel, since: NIODeadline?) {
        state.withLock { $0.entries[ObjectIdentifier(channel)]?.waitingSince = since }
    }

    func remove(_ channel: any Channel) {
        _ = state.withLock { $0.entries.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

/// Holds one connection to the `ConnectionLimits`: registers it (or closes it when there is no
/// room), closes it when its headers or body take too long, and closes it after an answer given
/// before its body was read (a refused large body is not read to the end, however long it claims to be).
///
/// Sits after HTTP decoding, so it sees whole request heads; bytes trickled one a second never
/// make a head, so the header timeout is a deadline, not an idle timer a slow client could reset.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase: Equatable {
        case waitingForHead
        /// `answered`: the answer went out before the body was read (a refusal on the headers).
        case readingBody(answered: Bool)
        /// The request was read whole; the answer is being made.
        case answering
    }

    private let registry: ConnectionRegistry
    private var registered = false
    private var phase = Phase.waitingForHead
    /// The body length the current request declares; nil when it sends none (chunked).
    private var declaredLength: Int?
    private var deadline: Scheduled<Void>?

    init(registry: ConnectionRegistry) {
        self.registry = registry
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !registered else { return }
        registered = true
        guard registry.admit(context.channel) else {
            context.close(promise: nil)
            return
        }
        expect(within: registry.limits.headerTimeout, context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        if registered { registry.remove(context.channel) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        registry.remove(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            phase = .readingBody(answered: false)
            declaredLength = head.headerFields[.contentLength].flatMap { Int64(strictDecimal: $0) }.map { Int($0) }
            registry.waiting(context.channel, since: nil)
            expect(within: registry.limits.bodyTimeout, context)
        case .body:
            break
        case .end:
            if phase == .readingBody(answered: true) {
                waitForNextRequest(context)
            } else {
                phase = .answering
                deadline?.cancel()
                deadline = nil
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        switch phase {
        case .readingBody(answered: false) where (declaredLength ?? .max) > BodyBudget.freeBytes:
            // Answered before a large body was read (refused on its headers): do not read the rest.
            context.writeAndFlush(data, promise: promise)
            context.close(promise: nil)
        case .readingBody:
            // A small body is read to its end and dropped, keeping the connection for the next request.
            context.write(data, promise: promise)
            phase = .readingBody(answered: true)
        case .answering, .waitingForHead:
            context.write(data, promise: promise)
            waitForNextRequest(context)
        }
    }

    private func waitForNextRequest(_ context: ChannelHandlerContext) {
        phase = .waitingForHead
        registry.waiting(context.channel, since: .now())
        expect(within: registry.limits.headerTimeout, context)
    }

    /// Closes the connection unless the current phase ends within `timeout`.
    private func expect(within timeout: TimeAmount, _ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [phase] in
            guard self.phase == phase else { return }
            context.close(promise: nil)
        }
    }
}
