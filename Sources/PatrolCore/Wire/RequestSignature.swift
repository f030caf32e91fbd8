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
