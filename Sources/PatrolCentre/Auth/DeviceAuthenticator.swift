import HTTPTypes
import Hummingbird
import Logging
import PatrolCore

/// Checks a device's signed request (see `RequestSignature`): known device, time within the
/// window, valid HMAC, unseen nonce, not revoked. Every refusal is logged as one line naming the
/// device and the reason, and answered 401 (cannot be trusted) or 403 (trusted but not allowed).
struct DeviceAuthenticator: Sendable {
    let storage: any CentreStorage
    let clock: CentreClock
    let clockSkewMilliseconds: Int64
    let nonces: NonceCache
    let logger: Logger

    init(storage: any CentreStorage, clock: CentreClock, clockSkewSeconds: Int, logger: Logger) {
        self.storage = storage
        self.clock = clock
        self.clockSkewMilliseconds = Int64(clockSkewSeconds) * 1000
        self.nonces = NonceCache(windowMilliseconds: clockSkewMilliseconds)
        self.logger = logger
    }

    /// The authenticated device's id, or a `CentreError` to answer with.
    func authenticate(_ request: Request, body: [UInt8]) async throws -> String {
        let headers = request.headers
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
        guard let deviceID = header(RequestSignature.deviceHeader), let timestampText = header(RequestSignature.timestampHeader),
              let nonce = header(RequestSignature.nonceHeader), let signature = header(RequestSignature.signatureHeader) else {
            throw refuse(.unauthorized, "missing-signature", "sign the request: \(RequestSignature.deviceHeader), "
                + "\(RequestSignature.timestampHeader), \(RequestSignature.nonceHeader), \(RequestSignature.signatureHeader)",
                device: header(RequestSignature.deviceHeader) ?? "-")
        }
        guard let timestamp = Int64(timestampText) else {
            throw refuse(.unauthorized, "bad-timestamp", "\(RequestSignature.timestampHeader) must be Unix milliseconds", device: deviceID)
        }
        guard (16...64).contains(nonce.utf8.count), Hex.decode(nonce) != nil else {
            throw refuse(.unauthorized, "bad-nonce", "\(RequestSignature.nonceHeader) must be 16 to 64 hex digits", device: deviceID)
        }
        guard let device = try await storage.device(id: deviceID) else {
            throw refuse(.unauthorized, "unknown-device", "device is not registered", device: deviceID)
        }
        let now = clock.now()
        guard abs(timestamp - now.millisecondsSinceEpoch) <= clockSkewMilliseconds else {
            var error = refuse(.unauthorized, "clock-skew",
                               "request time is \(timestamp - now.millisecondsSinceEpoch) ms off the centre's clock; "
                                   + "correct your offset with centreTime and retry", device: deviceID)
            error.centreTime = now
            throw error
        }
        let expected = RequestSignature.signature(key: device.key, method: request.method.rawValue, path: request.uri.description,
                                                  timestampMilliseconds: timestamp, nonce: nonce, body: body)
        guard HMACSHA256.constantTimeEquals(Array(expected.utf8), Array(signature.lowercased().utf8)) else {
            throw refuse(.unauthorized, "bad-signature", "signature does not match", device: deviceID)
        }
        // Only a correctly signed request uses up its nonce, so forgeries cannot block real ones.
        guard nonces.insert(deviceID + " " + nonce, now: now) else {
            throw refuse(.unauthorized, "replayed", "this nonce was already used", device: deviceID)
        }
        guard device.revokedAt == nil else {
            throw refuse(.forbidden, "revoked", "device was revoked", device: deviceID)
        }
        return deviceID
    }

    private func refuse(_ status: HTTPResponse.Status, _ code: String, _ message: String, device: String) -> CentreError {
        logger.warning("refused device request", metadata: ["device": "\(device)", "reason": "\(code)"])
        return CentreError(status, code: code, message: message)
    }
}

/// Checks a staff member's `Authorization: Bearer` token against the stored hashes.
struct StaffAuthenticator: Sendable {
    let storage: any CentreStorage
    let logger: Logger

    /// The staff member's name, or a 401 `CentreError`.
    func authenticate(_ request: Request) async throws -> String {
        guard let value = request.headers[.authorization], value.hasPrefix("Bearer ") else {
            logger.warning("refused staff request", metadata: ["reason": "missing-token", "path": "\(request.uri.path)"])
            throw CentreError(.unauthorized, code: "missing-token", message: "send Authorization: Bearer <staff token>")
        }
        let token = String(value.dropFirst("Bearer ".count))
        guard let name = try await storage.staffName(tokenHash: Secrets.staffTokenHash(token)) else {
            logger.warning("refused staff request", metadata: ["reason": "unknown-token", "path": "\(request.uri.path)"])
            throw CentreError(.unauthorized, code: "unknown-token", message: "the staff token is not known")
        }
        return name
    }
}
