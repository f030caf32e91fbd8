import Logging
import NIOCore
import NIOPosix
import PatrolCentre
import PatrolCore
import ServiceLifecycle
import Synchronization

/// `[jt808]`: the centre's TCP listener for JT/T 808 terminals, run by `patrol-centre serve` next
/// to the HTTP server. One `JT808TerminalConnection` per TCP connection does the protocol; this
/// type holds what they share: the connection limit, the refusal counts and their log, and which
/// connected terminal to wake when a downlink message (an acknowledged alarm → 0x8203) waits.
///
/// One connection cannot starve the others: each reads through a bounded buffer (NIO's async
/// channel stops reading from the socket when its few buffered reads are not yet handled, so a
/// flood fills the sender's TCP window, not the centre's memory), handles one frame at a time, and
/// waits for its own storage call; storage serves the connections' calls in turn.
public final class JT808Listener: Service, Sendable {
    let settings: JT808ListenerSettings
    let storage: any TerminalStorage
    let clock: CentreClock
    let logger: Logger
    /// Where committed reports are published (the console's live map and alarm desk), and where
    /// acknowledgements made in this process are heard, so a 0x8203 goes out at once.
    let changes: CentreChanges?
    let refusalLog: RefusalLog
    /// How often the downlink table is looked at for connected terminals (acknowledgements made by
    /// `patrol-centre alarms ack`, another process, are only seen there).
    let downlinkPollInterval: Duration
    /// How often the refusal counts are logged, when they changed.
    let countsInterval: Duration
    private let state = Mutex(State())

    private struct State {
        var connections = 0
        var nextConnectionID = 0
        /// Connected, authenticated terminals by device: their wake-up for downlink messages.
        var terminals: [String: [Int: AsyncStream<Void>.Continuation]] = [:]
        var refusals: [JT808TerminalLink.Problem: Int] = [:]
        var refusedConnections = 0
        /// What the last counts line showed.
        var logged: (refusals: [JT808TerminalLink.Problem: Int], connections: Int) = ([:], 0)
    }

    public init(settings: JT808ListenerSettings, storage: any TerminalStorage, clock: CentreClock = .system, changes: CentreChanges? = nil,
                logger: Logger, downlinkPollInterval: Duration = .seconds(2), countsInterval: Duration = .seconds(60)) {
        self.settings = settings
        self.storage = storage
        self.clock = clock
        self.changes = changes
        self.logger = logger
        self.refusalLog = RefusalLog(logger: logger)
        self.downlinkPollInterval = downlinkPollInterval
        self.countsInterval = countsInterval
    }

    public func run() async throws {
        let idleTimeout = TimeAmount.seconds(Int64(settings.idleTimeoutSeconds))
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .bind(host: settings.address, port: settings.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 4)))
                }
            }
        // The port bound (settings may ask for 0: the system picks one).
        let port = server.channel.localAddress?.port ?? settings.port
        logger.info("jt808 listening on \(settings.address):\(port)")
        defer { logCountsIfChanged() }
        try await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await self.runTimers() }
                if let changes = self.changes { group.addTask { await self.wakeOnAcknowledgements(changes) } }
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        }
    }

    /// Every `downlinkPollInterval`, wakes the connected terminals that have downlink waiting; every
    /// `countsInterval`, logs the refusal counts when they changed. Ends with the listener.
    private func runTimers() async throws {
        var sinceCounts = Duration.zero
        while true {
            try await Task.sleep(for: downlinkPollInterval)
            sinceCounts += downlinkPollInterval
            if sinceCounts >= countsInterval {
                sinceCounts = .zero
                logCountsIfChanged()
            }
            let waiting: Set<String>
            do { waiting = try await storage.devicesWithPendingDownlink() } catch {
                logger.error("jt808: cannot read pending downlink messages: \(error)")
                continue
            }
            let wakeUps = state.withLock { state in waiting.flatMap { state.terminals[$0].map { Array($0.values) } ?? [] } }
            wakeUps.forEach { $0.yield() }
        }
    }

    /// Wakes a connected terminal as soon as one of its alarms is acknowledged in this process (the
    /// console, the HTTP API), instead of at the next poll. A feed that fell behind is subscribed
    /// again: the poll covers whatever was missed meanwhile.
    private func wakeOnAcknowledgements(_ changes: CentreChanges) async {
        while !Task.isCancelled {
            for await change in changes.subscribe().changes {
                guard case .alarmAcknowledged(let alarm, _, _) = change else { continue }
                state.withLock { Array(($0.terminals[alarm.deviceID] ?? [:]).values) }.forEach { $0.yield() }
            }
        }
    }

    /// One line with every refusal count since start (check code, escape, length, unknown message, …).
    func logCountsIfChanged() {
        let (counts, connections) = state.withLock { state -> ([JT808TerminalLink.Problem: Int]?, Int) in
            guard state.refusals != state.logged.refusals || state.refusedConnections != state.logged.connections else {
                return (nil, 0)
            }
            state.logged = (state.refusals, state.refusedConnections)
            return (state.refusals, state.refusedConnections)
        }
        guard let counts else { return }
        let text = JT808TerminalLink.Problem.allCases.map { "\($0.rawValue)=\(counts[$0] ?? 0)" }.joined(separator: " ")
        logger.notice("jt808 refused frames since start: \(text); connections refused at the limit: \(connections)")
    }

    private func serve(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let peer = channel.channel.remoteAddress?.description ?? "?"
        let admitted = state.withLock { state -> Int? in
            guard state.connections < settings.maxConnections else {
                state.refusedConnections += 1
                return nil
            }
            state.connections += 1
            state.nextConnectionID += 1
            return state.nextConnectionID
        }
        guard let connectionID = admitted else {
            refusalLog.refused("jt808: connection from \(peer) closed: \(settings.maxConnections) terminal connections are open ([jt808] max_connections)",
                               reason: "jt808-connection-limit")
            try? await channel.channel.close()
            return
        }
        defer { state.withLock { $0.connections -= 1 } }
        let (wakeUps, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        do {
            try await channel.executeThenClose { inbound, outbound in
                let connection = JT808TerminalConnection(listener: self, outbound: outbound, peer: peer, connectionID: connectionID, wake: wake)
                defer { self.unregister(connectionID: connectionID) }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await buffer in inbound {
                            guard try await connection.received(buffer) else { return }
                        }
                    }
                    group.addTask {
                        for await _ in wakeUps { try await connection.deliverDownlink() }
                    }
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
        } catch is CancellationError {
            // The centre is stopping.
        } catch is TerminalRevoked {
            // Logged where it was found; the connection is closed.
        } catch is ChannelError {
            logger.debug("jt808 connection \(peer) ended")
        } catch let error as IOError {
            logger.debug("jt808 connection \(peer) ended: \(error)")
        } catch {
            // Storage failed while registering or authenticating: the terminal tries again.
            logger.error("jt808 connection \(peer) closed: \(error)")
        }
        wake.finish()
    }

    // MARK: Shared by the connections

    /// Registers a connection that authenticated as `device`, so downlink for it wakes it.
    func register(device: String, connectionID: Int, wake: AsyncStream<Void>.Continuation) {
        state.withLock { $0.terminals[device, default: [:]][connectionID] = wake }
    }

    private func unregister(connectionID: Int) {
        state.withLock { state in
            for device in Array(state.terminals.keys) {
                state.terminals[device]?[connectionID] = nil
                if state.terminals[device]?.isEmpty == true { state.terminals[device] = nil }
            }
        }
    }

    /// Counts a refused frame and logs it (rate-limited per problem).
    func refused(_ problem: JT808TerminalLink.Problem, detail: String, peer: String) {
        state.withLock { $0.refusals[problem, default: 0] += 1 }
        refusalLog.refused("jt808: frame from \(peer) refused (\(problem.rawValue)): \(RefusalLog.quoted(detail))",
                           reason: "jt808-" + problem.rawValue)
    }

    /// Logs a refused registration or authentication (rate-limited per reason).
    func refusedTerminal(_ message: String, reason: String) {
        refusalLog.refused("jt808: " + message, reason: "jt808-" + reason)
    }
}

/// Closes a connection when `IdleStateHandler` reports nothing was read for the idle timeout:
/// a terminal that lost power or its radio leaves a half-open connection that never sends again.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
