import Synchronization

/// Wakes a waiting task early: the runner sleeps until its next heartbeat is due, and the store's
/// writers (a new event, a track commit) cut that sleep short. A signal while nobody waits is kept,
/// so one that arrives just before the wait is not lost. No polling.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    public func notify() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns on `notify()`, after `timeout`, or when the task is cancelled.
    func wait(upTo timeout: Duration) async {
        let timer = Task { [self] in
            do { try await Task.sleep(for: timeout) } catch { return }
            notify()
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            notify()
        }
        // The caller reads the store next, which sees whatever was signalled until now; a wake-up
        // left over from a timer racing a signal would only cost a pointless round.
        state.withLock { $0.pending = false }
    }
}
