import PatrolCore

/// The signature headers of a device request, as the centre checks them before anything else:
/// the input is split at newlines into method, path, timestamp, nonce, signature, key and body,
/// taken as they come off the wire. The PatrolCore parts the centre's authenticator runs on them
/// (hex, SHA-256 over any split of the body, HMAC, the canonical text, the constant-time compare)
/// must not trap, and a signature must verify exactly when it is the one computed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestSignature(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var fields = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 6, omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    while fields.count < 7 { fields.append("") }
    let (method, path, timestampText, nonce, signature, keyText, body) =
        (fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], Array(fields[6].utf8))
    let key = Hex.decode(keyText) ?? Array(keyText.utf8)
    if let nonceBytes = Hex.decode(nonce) { check(Hex.encode(nonceBytes) == nonce.lowercased(), "hex does not round-trip: \(nonce)") }

    var streamed = SHA256()
    let cut = body.count / 3
    streamed.update(body[..<cut])
    streamed.update(body[cut...])
    check(streamed.finalize() == SHA256.hash(body), "SHA-256 depends on how the body was split")

    let timestamp = Int64(timestampText) ?? 0
    let expected = RequestSignature.signature(key: key, method: method, path: path, timestampMilliseconds: timestamp,
                                              nonce: nonce, body: body)
    let matches = HMACSHA256.constantTimeEquals(Array(expected.utf8), Array(signature.lowercased().utf8))
    check(matches == (expected == signature.lowercased()), "constant-time compare disagrees with ==")
    check(HMACSHA256.constantTimeEquals(Array(expected.utf8), Array(expected.utf8)), "a signature does not verify against itself")
    return 0
}
