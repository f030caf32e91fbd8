import PatrolCore
import Synchronization

/// Remembers the nonces of accepted requests for as long as their timestamps would still pass the
/// clock-skew check, so a captured request cannot be replayed. Entries older than the window are
/// dropped on the way; memory is bounded by the request rate times the window.
///
/// In memory, per process: after a restart a request captured within the last window could be
/// replayed once, which the record-level de-duplication makes harmless for ingest.
final class NonceCache: Sendable {
    private struct State {
        var expiries: [String: Int64] = [:]
        var nextSweep: Int64 = 0
    }

    private let state = Mutex(State())
    private let windowMilliseconds: Int64

    init(windowMilliseconds: Int64) {
        self.windowMilliseconds = windowMilliseconds
    }

    /// Whether `key` was seen within the window (checked before a body is read; `insert` decides).
    func contains(_ key: String, now: UTCTime) -> Bool {
        let now = now.millisecondsSinceEpoch
        return state.withLock { state in state.expiries[key].map { $0 > now } ?? false }
    }

    /// Records `key` (device and nonce); false when it was already seen within the window.
    func insert(_ key: String, now: UTCTime) -> Bool {
        let now = now.millisecondsSinceEpoch
        return state.withLock { state in
            if now >= state.nextSweep {
                state.expiries = state.expiries.filter { $0.value > now }
                state.nextSweep = now + windowMilliseconds
            }
            if let expiry = state.expiries[key], expiry > now { return false }
            // A request stays acceptable until `timestamp + window`; `now + 2 × window` covers any timestamp accepted now.
            state.expiries[key] = now + 2 * windowMilliseconds
            return true
        }
    }
}
