import PatrolCore

/// A TCP stream from a JT/T 808 terminal or platform, as the centre's listener and the agent's
/// output take it: arbitrary bytes through the frame splitter, unescaping, header and body
/// decoders. A frame that decodes must encode back to the same frame, and a body to the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJT808Stream(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var splitter = JT808FrameSplitter()
    for piece in splitter.push(UnsafeBufferPointer(start: data, count: size)) {
        guard case .frame(let bytes) = piece, let parsed = try? JT808Frame.parse(bytes) else { continue }
        _ = JT808JSON.object(parsed)
        let again = try? JT808Frame.parse(parsed.frame.wire)
        check(again?.frame == parsed.frame && again?.checkCodeValid == true, "frame does not survive encoding: \(parsed.frame)")
        guard parsed.frame.header.package == nil, let message = try? JT808Message.decode(parsed.frame) else { continue }
        check(message.body(revision: parsed.frame.header.revision) == parsed.frame.body, "body does not survive encoding: \(message)")
    }
    return 0
}
