import PatrolCore
import Synchronization

/// A small in-process broadcaster: whoever changes something publishes it, every subscriber gets
/// it in order. Publishing never waits and never grows memory without bound: each subscriber has a
/// buffer of `capacity` changes, and a subscriber that falls that far behind (a slow browser) is
/// dropped: its stream ends after the buffered changes with `overflowed` set, and it must resync
/// (re-read the current state and subscribe again). Losing a change silently is never an option.
public final class ChangeFeed<Change: Sendable>: Sendable {
    /// One subscriber's stream of changes.
    public struct Subscription: Sendable {
        public let changes: AsyncStream<Change>
        fileprivate let overflow: Overflow

        /// True once the stream ended because the subscriber fell behind: resync.
        public var overflowed: Bool { overflow.flag.load(ordering: .acquiring) }
    }

    fileprivate final class Overflow: Sendable {
        let flag = Atomic(false)
    }

    private struct Subscriber {
        let continuation: AsyncStream<Change>.Continuation
        let overflow: Overflow
    }

    private let capacity: Int
    private let subscribers = Mutex<[Int: Subscriber]>([:])
    private let nextID = Atomic(0)

    public init(capacity: Int = 1024) {
        self.capacity = capacity
    }

    /// How many subscribers are listening.
    public var subscriberCount: Int { subscribers.withLock { $0.count } }

    /// A new subscriber; it is forgotten when its stream's consumer stops iterating (or is cancelled).
    public func subscribe() -> Subscription {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<Change>.makeStream(bufferingPolicy: .bufferingOldest(capacity))
        let overflow = Overflow()
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = Subscriber(continuation: continuation, overflow: overflow) }
        return Subscription(changes: stream, overflow: overflow)
    }

    /// Hands `change` to every subscriber without waiting; one whose buffer is full is ended (see the type).
    public func publish(_ change: Change) {
        let current = subscribers.withLock { Array($0.values) }
        for subscriber in current {
            if case .dropped = subscriber.continuation.yield(change) {
                subscriber.overflow.flag.store(true, ordering: .releasing)
                subscriber.continuation.finish()
            }
        }
    }
}

/// What changed in the centre, published right after the storage committed it.
public enum CentreChange: Sendable {
    /// A device's batch was committed at `committedAt`, with its new events (alarms among them);
    /// whoever shows the unit reads where it now is from storage.
    case ingested(device: String, events: [UplinkEvent], committedAt: UTCTime)
    /// Staff acknowledged an alarm (through the console, with an optional note, or the API).
    case alarmAcknowledged(Alarm, note: String?, committedAt: UTCTime)
    /// Street staff escalated an alarm to the district desk (the alarm carries who, when and why).
    case alarmEscalated(Alarm, committedAt: UTCTime)
}

/// The centre's change feed: the ingest and acknowledgement routes publish, the console listens.
public typealias CentreChanges = ChangeFeed<CentreChange>

/// Brings the changes other centre instances on the same database committed onto this instance's
/// feed, so a console connected here sees an alarm that arrived at another instance at once. A
/// storage that several instances share implements it (PostgreSQL: LISTEN/NOTIFY); a SQLite
/// centre runs as one instance and needs none.
public protocol CentreChangeRelay: Sendable {
    /// Publishes on `feed` each change another instance commits, until cancelled; this instance's
    /// own changes are left out (its routes publish them already).
    func relayChanges(to feed: CentreChanges) async throws
}
