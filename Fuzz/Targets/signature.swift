import PatrolCore

/// The signature headers of a device request, as the centre checks them before anything else:
/// the input is split at newlines into method, path, timestamp, nonce, signature, key and body,
/// taken as they come off the wire. The PatrolCore parts the centre's authenticator runs on them
/// (the header checks and the clock offset, hex, SHA-256 over any split of the body, HMAC, the
/// canonical text, the constant-time compare)
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

    // The checks the centre makes on the headers before anything else (the method field stands in
    // for the device id); they must not trap.
    let headers = RequestSignature.Headers.parse(device: method, timestamp: timestampText, nonce: nonce, signature: signature)
    if case .success(let parsed) = headers {
        check(timestampText.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
                  && Int64(timestampText) == parsed.timestampMilliseconds, "a timestamp is not digits only: \(timestampText)")
        for now in [Int64.min, -1, 0, 1_780_000_000_000, .max] { _ = parsed.offset(from: now) }
    }
    let timestamp = Int64(timestampText) ?? 0
    let expected = RequestSignature.signature(key: key, method: method, path: path, timestampMilliseconds: timestamp,
                                              nonce: nonce, body: body)
    let matches = HMACSHA256.constantTimeEquals(Array(expected.utf8), Array(signature.lowercased().utf8))
    check(matches == (expected == signature.lowercased()), "constant-time compare disagrees with ==")
    check(HMACSHA256.constantTimeEquals(Array(expected.utf8), Array(expected.utf8)), "a signature does not verify against itself")
    return 0
}
