import PatrolCore
import Synchronization

/// A `DeliveryBacklog` in memory, for uplink runner tests that are about the runner and its
/// outputs rather than the store: it keeps per-output progress and dead letters like `AgentStore`,
/// without durability (the store's own tests cover that).
public final class InMemoryBacklog: DeliveryBacklog {
    private struct State {
        var events: [StoredEvent] = []
        var track: [TrackRecord] = []
        var nextTrackSequence: UInt64 = 1
        var nextEventSequence: Int64 = 1
        var progress: [String: [StoreStream: Int64]] = [:]
        var deadLetters: [String: [DeadLetter]] = [:]
        /// Sequences `events(since:)` reports as unreadable, as a store written by a newer agent would.
        var unreadable: Set<Int64> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Adds an event and returns its sequence.
    @discardableResult
    public func append(_ event: PatrolEvent) -> Int64 {
        state.withLock { state in
            defer { state.nextEventSequence += 1 }
            state.events.append(StoredEvent(sequence: state.nextEventSequence, event: event))
            return state.nextEventSequence
        }
    }

    /// Adds a row that cannot be read back as an event.
    @discardableResult
    public func appendUnreadableEvent(like event: PatrolEvent) -> Int64 {
        let sequence = append(event)
        state.withLock { _ = $0.unreadable.insert(sequence) }
        return sequence
    }

    /// Adds track points, numbered on from the last.
    public func append(_ points: [TrackPoint]) {
        state.withLock { state in
            for point in points {
                state.track.append(TrackRecord(sequence: state.nextTrackSequence, point: point))
                state.nextTrackSequence += 1
            }
        }
    }

    public func deadLetters(of output: String) -> [DeadLetter] {
        state.withLock { $0.deadLetters[output] ?? [] }
    }

    public func registerOutput(_ output: String, streams: Set<StoreStream>) throws {
        state.withLock { state in
            var rows = state.progress[output] ?? [:]
            for stream in StoreStream.allCases where !streams.contains(stream) { rows[stream] = nil }
            for stream in streams where rows[stream] == nil { rows[stream] = 0 }
            state.progress[output] = rows
        }
    }

    public func progress(output: String, stream: StoreStream) throws -> Int64 {
        state.withLock { $0.progress[output]?[stream] ?? 0 }
    }

    public func events(since sequence: Int64, limit: Int) throws -> [StoredEvent] {
        try state.withLock { state throws -> [StoredEvent] in
            let page = Array(state.events.filter { $0.sequence > sequence }.prefix(limit))
            if let bad = page.first(where: { state.unreadable.contains($0.sequence) }) {
                guard bad.sequence == page.first?.sequence else { return page.filter { $0.sequence < bad.sequence } }
                throw UnreadableEvent(sequence: bad.sequence, description: "event #\(bad.sequence) cannot be read")
            }
            return page
        }
    }

    public func trackRecords(after sequence: Int64, limit: Int) throws -> [TrackRecord] {
        state.withLock { Array($0.track.filter { Int64($0.sequence) > sequence }.prefix(limit)) }
    }

    public func lastTrackSequence() throws -> Int64 {
        state.withLock { Int64($0.nextTrackSequence) - 1 }
    }

    public func recordDelivery(output: String, track: Int64?, event: Int64?, deadLetters: [DeadLetter], at time: UTCTime) throws {
        state.withLock { state in
            state.deadLetters[output, default: []] += deadLetters
            for (stream, sequence) in [(StoreStream.track, track), (.event, event)] {
                guard let sequence, let current = state.progress[output]?[stream] else { continue }
                state.progress[output]?[stream] = max(current, sequence)
            }
        }
    }

    public func backlog(output: String) throws -> OutputBacklog {
        state.withLock { state in
            let track = state.progress[output]?[.track]
            let event = state.progress[output]?[.event] ?? 0
            return OutputBacklog(
                trackDelivered: track, eventDelivered: event,
                trackPending: track.map { delivered in Int64(state.track.count { Int64($0.sequence) > delivered }) } ?? 0,
                eventPending: Int64(state.events.count { $0.sequence > event }),
                deadLetters: Int64(state.deadLetters[output]?.count ?? 0))
        }
    }
}
