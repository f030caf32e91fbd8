import Synchronization

/// Bounds how many ingest requests one device may have in flight at the centre.
///
/// A device's uplink sends one batch at a time; a few more in flight cover a retry while the first
/// try is still being written. Beyond that, one device (faulty, or a stolen key) could fill the
/// storage's queues and memory with uploads; the excess is answered `429` with `Retry-After`,
/// which the agent's uplink treats like any other failure: it waits and sends the batch again.
final class DeviceRequestLimit: Sendable {
    static let defaultPerDevice = 4
    /// What a refused device is told to wait before trying again.
    static let retryAfterSeconds = 1

    let perDevice: Int
    private let inFlight = Mutex<[String: Int]>([:])
    private let refusals: RefusalLog

    init(perDevice: Int = DeviceRequestLimit.defaultPerDevice, refusals: RefusalLog) {
        self.perDevice = perDevice
        self.refusals = refusals
    }

    /// Throws `429 too-many-requests` when the device a request claims to be (its header, not yet
    /// authenticated) already has `perDevice` requests in flight, so the excess is refused before
    /// its body is read and hashed. Harmless to that device: only its own authenticated requests
    /// count, and this check counts nothing.
    ///
    /// The refusal is answered after `retryAfterSeconds`, the wait it asks for: a client that
    /// ignores `Retry-After` and sends again at once then costs one request per connection and
    /// second instead of thousands (measured: Benchmarks/alarm-under-flood.sh --hostile).
    func refuseEarly(claimedDevice device: String) async throws {
        guard inFlight.withLock({ $0[device, default: 0] }) >= perDevice else { return }
        try await Task.sleep(for: .seconds(Self.retryAfterSeconds))
        throw refusal(device)
    }

    /// Counts one more request of the authenticated `device`, or throws `429 too-many-requests` when
    /// it already has `perDevice` in flight. Every admission must be ended with `release(_:)`.
    func admit(_ device: String) throws(CentreError) {
        let admitted = inFlight.withLock { counts in
            let count = counts[device, default: 0]
            guard count < perDevice else { return false }
            counts[device] = count + 1
            return true
        }
        guard admitted else { throw refusal(device) }
    }

    func release(_ device: String) {
        inFlight.withLock { counts in
            let count = counts[device, default: 1] - 1
            counts[device] = count > 0 ? count : nil
        }
    }

    private func refusal(_ device: String) -> CentreError {
        refusals.refused("refused a request: the device has too many in flight", reason: "too-many-requests",
                         metadata: ["device": "\(RefusalLog.quoted(device))"])
        var error = CentreError(.tooManyRequests, code: "too-many-requests",
                                message: "device '\(device)' already has \(perDevice) requests in flight; "
                                    + "send one batch at a time and retry after \(Self.retryAfterSeconds) s")
        error.retryAfterSeconds = Self.retryAfterSeconds
        return error
    }
}
