import HTTPTypes
import Hummingbird
import PatrolCentre
import PatrolCore

/// Who is asking, for every console route: a signed-in browser (the `patrol_session` cookie, plus
/// `X-CSRF-Token` on anything that changes state) or a script (`Authorization: Bearer`, as on
/// /v1). Refusals are the centre's error JSON: 401 `signed-out` / `session-expired`, 403 `csrf` /
/// `forbidden-role`.
struct ConsoleAuth: Sendable {
    static let cookieName = "patrol_session"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!
    /// However busy a sign-in keeps itself, it ends this long after it began.
    static let absoluteLifetimeMilliseconds: Int64 = 12 * 3_600_000
    /// A session's last use is written at most this often (not on every request).
    static let touchIntervalMilliseconds: Int64 = 60_000

    /// The staff member behind a request, and their session when they came with the cookie.
    struct Caller: Sendable {
        var staff: StaffMember
        var session: StaffSession?
        var sessionIDHash: [UInt8]?
    }

    let storage: any CentreStorage
    let clock: CentreClock
    let settings: ConsoleSettings
    let bearer: StaffAuthenticator
    let usesTLS: Bool

    var idleMilliseconds: Int64 { Int64(settings.sessionMinutes) * 60_000 }

    /// The caller, if they may use a route that needs `role`; else the refusal to answer with.
    func caller(_ request: Request, needs role: StaffRole) async throws -> Caller {
        if request.headers[.authorization] != nil {
            return Caller(staff: try await bearer.authenticate(request, as: role))
        }
        guard let id = request.cookies[Self.cookieName]?.value, !id.isEmpty else {
            throw CentreError(.unauthorized, code: "signed-out", message: "sign in first (POST /console/api/session)")
        }
        let idHash = Self.hash(sessionID: id)
        guard let session = try await storage.session(idHash: idHash) else {
            throw CentreError(.unauthorized, code: "signed-out", message: "this sign-in is not known (signed out, or the centre forgot it); sign in again")
        }
        let now = clock.now()
        guard let deadline = deadline(of: session), now < deadline else {
            try await storage.removeSession(idHash: idHash)
            throw CentreError(.unauthorized, code: "session-expired", message: "the sign-in expired; sign in again")
        }
        if request.method != .get, request.method != .head {
            let sent = request.headers[Self.csrfHeader].map { Array($0.utf8) } ?? []
            guard HMACSHA256.constantTimeEquals(sent, Array(session.csrfToken.utf8)) else {
                throw CentreError(.forbidden, code: "csrf",
                                  message: "send the session's CSRF token (from GET /console/api/session) in X-CSRF-Token")
            }
        }
        try StaffAuthenticator.require(role, of: session.staff)
        if now.millisecondsSinceEpoch - session.lastUsedAt.millisecondsSinceEpoch >= Self.touchIntervalMilliseconds {
            try await storage.touchSession(idHash: idHash, at: now)
        }
        return Caller(staff: session.staff, session: session, sessionIDHash: idHash)
    }

    /// When `session` ends if not used again: idle expiry, capped by the absolute one.
    func deadline(of session: StaffSession) -> UTCTime? {
        let idle = session.lastUsedAt.millisecondsSinceEpoch.addingReportingOverflow(idleMilliseconds)
        let absolute = session.createdAt.millisecondsSinceEpoch.addingReportingOverflow(Self.absoluteLifetimeMilliseconds)
        guard !idle.overflow, !absolute.overflow else { return nil }
        return UTCTime(millisecondsSinceEpoch: min(idle.partialValue, absolute.partialValue))
    }

    /// The `Set-Cookie` value that hands the browser its session id (or, with an empty id, removes it).
    func cookie(sessionID: String) -> String {
        var parts = ["\(Self.cookieName)=\(sessionID)", "HttpOnly", "SameSite=Strict", "Path=/console"]
        if sessionID.isEmpty { parts.append("Max-Age=0") }
        if usesTLS { parts.append("Secure") }
        return parts.joined(separator: "; ")
    }

    /// What is stored for a session id: its SHA-256, so a copy of the database cannot sign in.
    static func hash(sessionID: String) -> [UInt8] { SHA256.hash(Array(sessionID.utf8)) }
}
