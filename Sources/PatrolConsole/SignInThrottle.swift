import PatrolCentre
import PatrolCore

/// When repeated failed sign-ins lock a name or a client address out, and for how long.
///
/// A name gets `freeAttempts.name` failures, an address (a desk, or a guesser trying many names)
/// `freeAttempts.address`; each failure beyond them locks the key again for twice as long as the
/// last, from 30 s up to 15 min, counted from that failure. A success clears the name's and the
/// address's counts; failures a day old are forgotten (`StaffStorage.recordSignInFailure`).
/// Attempts while locked are refused without checking the password and without counting.
enum SignInThrottle {
    static let freeAttempts = (name: 5, address: 20)
    static let firstLockSeconds: Int64 = 30
    static let longestLockSeconds: Int64 = 15 * 60

    static func nameKey(_ name: String) -> String { "name:" + name }
    static func addressKey(_ address: String) -> String { "address:" + address }

    /// Until when `failures` lock their key, or nil when they do not (yet).
    static func lockedUntil(_ failures: SignInFailures, freeAttempts: Int) -> UTCTime? {
        guard failures.count >= freeAttempts else { return nil }
        let doublings = min(failures.count - freeAttempts, 10)
        let seconds = min(firstLockSeconds << doublings, longestLockSeconds)
        return failures.lastAt.adding(milliseconds: seconds * 1000)
    }
}
