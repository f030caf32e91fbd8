import Logging
import PatrolCentre
import PatrolCore
import Synchronization

/// The console's live feed: listens once to the centre's change feed, turns each change into a
/// Server-Sent Events frame once (querying storage for what a unit now looks like), and hands the
/// frame to every connected browser.
///
/// Each frame says whose it is (`ConsoleFrame.isFor`): a stream passes on only the frames its
/// staff member's scope sees, so a street's console never receives another street's alarms or units.
///
/// Drop-and-resync: each browser has a buffer of `ChangeFeed` frames; one that falls that far
/// behind gets the buffered frames, then `event: resync`, and the stream ends. The browser's
/// EventSource reconnects by itself and re-reads /units and /alarms, so it never shows a state
/// with a change silently missing, and a stalled browser costs at most its buffer.
final class ConsoleFeed: Sendable {
    /// Frames a browser may fall behind: a burst of 1,000 units reporting at once fits.
    static let framesPerClient = 4096
    /// A comment line this often keeps proxies and the browser from dropping an idle stream.
    static let keepAliveSeconds = 15
    /// EventSource streams one sign-in may hold open (a few tabs), so one cannot hold every connection.
    static let streamsPerSession = 4

    let frames = ChangeFeed<ConsoleFrame>(capacity: framesPerClient)
    private let streams = Mutex<[[UInt8]: Int]>([:])
    private let tasks = Mutex<[Task<Void, Never>]>([])

    /// Starts listening to `changes`; `views` builds each change's events, `logger` hears of failures.
    init(changes: CentreChanges, views: ConsoleLiveViews, logger: Logger) {
        let frames = frames
        let listener = Task {
            while !Task.isCancelled {
                let subscription = changes.subscribe()
                for await change in subscription.changes {
                    // Nobody to show it to: the frames would cost storage reads per change (at a district's
                    // thousand ingests a second, most of the database's work) for nothing; a browser that
                    // connects later reads the state afresh and gets the frames of what commits after.
                    guard frames.subscriberCount > 0 else { continue }
                    do {
                        for frame in try await views.frames(for: change) { frames.publish(frame) }
                    } catch {
                        logger.error("console feed could not build an event", metadata: ["error": "\(error)"])
                    }
                }
                // Fell behind the centre (or the feed ended): every browser must re-read the state.
                frames.publish(ConsoleFrame(everyone: Self.frame(event: "resync", data: "{}")))
            }
        }
        let keepAlive = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(Self.keepAliveSeconds))
                frames.publish(ConsoleFrame(everyone: ": keep-alive\n\n"))
            }
        }
        tasks.withLock { $0 = [listener, keepAlive] }
    }

    deinit {
        tasks.withLock { $0.forEach { $0.cancel() } }
    }

    /// Counts a new stream for the session; false when it already holds `streamsPerSession`.
    func openStream(session: [UInt8]) -> Bool {
        streams.withLock { streams in
            guard streams[session, default: 0] < Self.streamsPerSession else { return false }
            streams[session, default: 0] += 1
            return true
        }
    }

    func closeStream(session: [UInt8]) {
        streams.withLock { streams in
            streams[session, default: 1] -= 1
            if streams[session] == 0 { streams[session] = nil }
        }
    }

    /// One SSE frame; `data` is one line of JSON.
    static func frame(event: String, data: String) -> String {
        "event: \(event)\ndata: \(data)\n\n"
    }
}

/// One frame of the live feed and whose it is.
struct ConsoleFrame: Sendable {
    /// Who may receive a frame.
    private enum Audience: Sendable {
        /// Every console (keep-alive, resync).
        case everyone
        /// The consoles that see this street's units and alarms (nil: a device of no street, the district's own).
        case street(String?)
    }

    let text: String
    private let audience: Audience

    /// A frame about a unit or alarm of `street`.
    init(_ text: String, street: String?) {
        self.text = text
        audience = .street(street)
    }

    /// A frame every console gets.
    init(everyone text: String) {
        self.text = text
        audience = .everyone
    }

    /// Whether a console of `scope` may receive it.
    func isFor(_ scope: StaffScope) -> Bool {
        switch audience {
        case .everyone: true
        case .street(let street): scope.includes(street: street)
        }
    }
}
