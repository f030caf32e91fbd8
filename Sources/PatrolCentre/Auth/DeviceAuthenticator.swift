import HTTPTypes
import Hummingbird
import PatrolCore

/// Checks a device's signed request (see `RequestSignature`) in two steps, so that nothing is read
/// from a peer the headers already disqualify: `authenticateHeaders` (known device, not revoked,
/// time within the window, unseen nonce) before the body is read, then `verify` (the HMAC over the
/// body). Only a correctly signed request's nonce is used up, by `CentreStorage.ingest` in the
/// transaction that stores it, so forgeries cannot block real ones. Every refusal is logged as one
/// line naming the device and the reason (throttled: `RefusalLog`), and answered 401 (cannot be
/// trusted) or 403 (trusted but not allowed).
struct DeviceAuthenticator: Sendable {
    let storage: any CentreStorage
    let clock: CentreClock
    let clockSkewMilliseconds: Int64
    let refusals: RefusalLog

    /// A request whose headers passed; its signature is checked once the body is read.
    struct SignedHeaders: Sendable {
        let deviceID: String
        fileprivate let key: [UInt8]
        fileprivate let timestamp: Int64
        fileprivate let nonce: String
        fileprivate let signature: String
        fileprivate let method: String
        fileprivate let path: String
    }

    init(storage: any CentreStorage, clock: CentreClock, clockSkewSeconds: Int, refusals: RefusalLog) {
        self.storage = storage
        self.clock = clock
        self.clockSkewMilliseconds = Int64(clockSkewSeconds) * 1000
        self.refusals = refusals
    }

    /// The request's signature headers, checked as far as they can be without the body, or a
    /// `CentreError` to answer with before reading it.
    func authenticateHeaders(_ request: Request) async throws -> SignedHeaders {
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { request.headers[$0] } }
        let parsed = RequestSignature.Headers.parse(device: header(RequestSignature.deviceHeader),
                                                    timestamp: header(RequestSignature.timestampHeader),
                                                    nonce: header(RequestSignature.nonceHeader),
                                                    signature: header(RequestSignature.signatureHeader))
        let headers: RequestSignature.Headers
        switch parsed {
        case .success(let value): headers = value
        case .failure(let problem):
            throw refuse(.unauthorized, problem.code, problem.message, device: header(RequestSignature.deviceHeader) ?? "-")
        }
        let deviceID = headers.deviceID
        let now = clock.now()
        guard let signer = try await storage.requestSigner(device: deviceID, nonce: headers.nonce, at: now) else {
            throw refuse(.unauthorized, "unknown-device", "device is not registered", device: deviceID)
        }
        guard signer.device.revokedAt == nil else {
            throw refuse(.forbidden, "revoked", "device was revoked", device: deviceID)
        }
        let offset = headers.offset(from: now.millisecondsSinceEpoch)
        guard let offset, offset.magnitude <= UInt64(clockSkewMilliseconds) else {
            var error = refuse(.unauthorized, "clock-skew",
                               "request time is \(offset.map { "\($0) ms" } ?? "far") off the centre's clock; "
                                   + "correct your offset with centreTime and retry", device: deviceID)
            error.centreTime = now
            throw error
        }
        guard !signer.nonceIsUsed else { throw replayed(device: deviceID) }
        return SignedHeaders(deviceID: deviceID, key: signer.device.key, timestamp: headers.timestampMilliseconds,
                             nonce: headers.nonce, signature: headers.signature,
                             method: request.method.rawValue, path: request.uri.description)
    }

    /// The request's nonce, to be used up with what it stores, once the signature over `body`
    /// matches; else a `CentreError` to answer with.
    func verify(_ signed: SignedHeaders, body: [UInt8]) throws -> RequestNonce {
        let expected = RequestSignature.signature(key: signed.key, method: signed.method, path: signed.path,
                                                  timestampMilliseconds: signed.timestamp, nonce: signed.nonce, body: body)
        guard HMACSHA256.constantTimeEquals(Array(expected.utf8), Array(signed.signature.lowercased().utf8)) else {
            throw refuse(.unauthorized, "bad-signature", "signature does not match", device: signed.deviceID)
        }
        // A request stays acceptable until `timestamp + window`; `now + 2 × window` covers any timestamp accepted now.
        return RequestNonce(signed.nonce, until: UTCTime(millisecondsSinceEpoch: clock.now().millisecondsSinceEpoch + 2 * clockSkewMilliseconds))
    }

    /// The refusal of a request whose nonce `device` already used.
    func replayed(device: String) -> CentreError {
        refuse(.unauthorized, "replayed", "this nonce was already used", device: device)
    }

    private func refuse(_ status: HTTPResponse.Status, _ code: String, _ message: String, device: String) -> CentreError {
        refusals.refused("refused device request", reason: code, metadata: ["device": "\(RefusalLog.quoted(device))"])
        return CentreError(status, code: code, message: message)
    }
}

/// Checks a staff member's `Authorization: Bearer` token against the stored hashes, and their role.
public struct StaffAuthenticator: Sendable {
    let storage: any CentreStorage
    let refusals: RefusalLog

    public init(storage: any CentreStorage, refusals: RefusalLog) {
        self.storage = storage
        self.refusals = refusals
    }

    /// The staff member, if their role includes `role`; else a 401 (unknown) or 403 (role) `CentreError`.
    public func authenticate(_ request: Request, as role: StaffRole) async throws -> StaffMember {
        guard let value = request.headers[.authorization], value.hasPrefix("Bearer ") else {
            refusals.refused("refused staff request", reason: "missing-token", metadata: ["path": "\(RefusalLog.quoted(request.uri.path))"])
            throw CentreError(.unauthorized, code: "missing-token", message: "send Authorization: Bearer <staff token>")
        }
        let token = String(value.dropFirst("Bearer ".count))
        guard let member = try await storage.staffMember(tokenHash: Secrets.staffTokenHash(token)) else {
            refusals.refused("refused staff request", reason: "unknown-token", metadata: ["path": "\(RefusalLog.quoted(request.uri.path))"])
            throw CentreError(.unauthorized, code: "unknown-token", message: "the staff token is not known")
        }
        try Self.require(role, of: member)
        return member
    }

    /// Refuses (403 `forbidden-role`) a staff member whose role does not include `role`.
    public static func require(_ role: StaffRole, of member: StaffMember) throws {
        guard member.role.includes(role) else {
            throw CentreError(.forbidden, code: "forbidden-role",
                              message: "\(member.name) is \(member.role.rawValue); this needs \(role.rawValue) or above")
        }
    }
}
