import Dispatch

extension DispatchQueue {
    /// Runs blocking work on this queue and awaits its result, keeping the work's error type.
    ///
    /// libgps and serial reads block (connect, `select`, poll(2)); doing that on Swift's
    /// cooperative pool would starve every other task on a two-core board, so the work hops to
    /// a queue of its own.
    public func perform<T: Sendable, Failure: Error>(_ work: @escaping @Sendable () throws(Failure) -> T)
        async throws(Failure) -> T {
        let result: Result<T, Failure> = await withCheckedContinuation { continuation in
            async { continuation.resume(returning: Result { () throws(Failure) in try work() }) }
        }
        return try result.get()
    }
}
