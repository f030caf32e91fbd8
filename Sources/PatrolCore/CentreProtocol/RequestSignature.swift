/// How a device signs each request to the centre: HMAC-SHA256, with the device's secret key, over
/// a canonical text that binds the method, path, time, a one-off nonce and the body's hash.
///
/// The timestamp bounds how long a captured request stays valid, the nonce makes it single-use
/// within that window, and the body hash means a signature cannot be moved to another body.
/// Headers: `X-Patrol-Device`, `X-Patrol-Timestamp` (Unix milliseconds, the device's corrected
/// clock), `X-Patrol-Nonce` (16–64 hex digits, random), `X-Patrol-Signature` (64 hex digits).
public enum RequestSignature {
    public static let deviceHeader = "X-Patrol-Device"
    public static let timestampHeader = "X-Patrol-Timestamp"
    public static let nonceHeader = "X-Patrol-Nonce"
    public static let signatureHeader = "X-Patrol-Signature"
    /// Names the scheme and its version, so a later scheme can never verify against this one.
    public static let scheme = "PATROL-HMAC-SHA256-1"

    /// The text that is signed: one field per line, the body as its SHA-256 in hex.
    public static func canonicalText(method: String, path: String, timestampMilliseconds: Int64, nonce: String,
                                     body: [UInt8]) -> String {
        [scheme, method.uppercased(), path, String(timestampMilliseconds), nonce, Hex.encode(SHA256.hash(body))]
            .joined(separator: "\n")
    }

    /// The value of the `X-Patrol-Signature` header (lower-case hex).
    public static func signature(key: [UInt8], method: String, path: String, timestampMilliseconds: Int64,
                                 nonce: String, body: [UInt8]) -> String {
        let text = canonicalText(method: method, path: path, timestampMilliseconds: timestampMilliseconds,
                                 nonce: nonce, body: body)
        return Hex.encode(HMACSHA256.authenticationCode(for: Array(text.utf8), key: key))
    }
}

extension RequestSignature {
    /// A request's signature headers, checked for form: everything the centre can refuse before it
    /// asks its storage for the device or reads a byte of the body. Every field is anyone's text.
    public struct Headers: Sendable, Equatable {
        public var deviceID: String
        public var timestampMilliseconds: Int64
        public var nonce: String
        public var signature: String

        /// Why the headers cannot be those of a signed request; `code` is the centre's refusal code.
        public enum Problem: Error, Sendable, Equatable {
            case missing
            case badTimestamp
            case badNonce
            case badDevice

            public var code: String {
                switch self {
                case .missing: "missing-signature"
                case .badTimestamp: "bad-timestamp"
                case .badNonce: "bad-nonce"
                case .badDevice: "unknown-device"
                }
            }

            public var message: String {
                switch self {
                case .missing: "sign the request: \(deviceHeader), \(timestampHeader), \(nonceHeader), \(signatureHeader)"
                case .badTimestamp: "\(timestampHeader) must be Unix milliseconds (digits only)"
                case .badNonce: "\(nonceHeader) must be 16 to 64 hex digits"
                case .badDevice: "device is not registered"
                }
            }
        }

        /// The headers' values (nil where absent), or the first problem with their form. A device
        /// id longer than any the centre registers is refused here, before any look-up.
        public static func parse(device: String?, timestamp: String?, nonce: String?,
                                 signature: String?) -> Result<Headers, Problem> {
            guard let device, let timestamp, let nonce, let signature else { return .failure(.missing) }
            guard (1...UplinkLimits.maxDeviceIDBytes).contains(device.utf8.count) else { return .failure(.badDevice) }
            guard let milliseconds = Int64(strictDecimal: timestamp) else { return .failure(.badTimestamp) }
            guard (16...64).contains(nonce.utf8.count), Hex.decode(nonce) != nil else { return .failure(.badNonce) }
            return .success(Headers(deviceID: device, timestampMilliseconds: milliseconds, nonce: nonce, signature: signature))
        }

        /// How many milliseconds the request's time is off `now`, or nil when the difference does
        /// not fit in 64 bits (the timestamp is anyone's number).
        public func offset(from nowMilliseconds: Int64) -> Int64? {
            let (offset, overflow) = timestampMilliseconds.subtractingReportingOverflow(nowMilliseconds)
            return overflow ? nil : offset
        }
    }
}

extension Int64 {
    /// A number from a client (an alarm id, a Content-Length, a timestamp): ASCII digits only, at
    /// most `Int64.max`. `Int64(_:)` alone also takes `+5` and `-5`.
    public init?(strictDecimal text: some StringProtocol) {
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let value = Int64(text) else { return nil }
        self = value
    }
}

/// Lower-case hexadecimal, the text form of keys, nonces, digests and signatures.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of an even-length hex string (either case), or nil when it is not one.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
