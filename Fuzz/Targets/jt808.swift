import PatrolCore

/// A TCP stream from a JT/T 808 terminal or platform, as the centre's listener and the agent's
/// output take it: arbitrary bytes through the frame splitter, unescaping, header and body
/// decoders. A frame that decodes must encode back to the same frame, and a body to the same bytes.
/// The same bytes then go through the listener's per-connection handling (`JT808TerminalLink`),
/// cut into pieces at the input's own first byte so frames span reads: every refusal is counted,
/// every answer it makes is a well-formed 0x8001 to the refused frame, and once a connection is
/// bound no message with another phone gets through.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJT808Stream(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    var splitter = JT808FrameSplitter()
    for piece in splitter.push(input) {
        guard case .frame(let bytes) = piece, let parsed = try? JT808Frame.parse(bytes) else { continue }
        _ = JT808JSON.object(parsed)
        let again = try? JT808Frame.parse(parsed.frame.wire)
        check(again?.frame == parsed.frame && again?.checkCodeValid == true, "frame does not survive encoding: \(parsed.frame)")
        guard parsed.frame.header.package == nil, let message = try? JT808Message.decode(parsed.frame) else { continue }
        check(message.body(revision: parsed.frame.header.revision) == parsed.frame.body, "body does not survive encoding: \(message)")
    }

    var link = JT808TerminalLink()
    var refused = 0
    let step = max(1, Int(input.first ?? 1))
    for start in stride(from: 0, to: size, by: step) {
        link.receive(input[start..<min(start + step, size)])
        while let item = link.next() {
            switch item {
            case .refused(_, let answer, _):
                refused += 1
                guard let answer else { continue }
                let frame = try? JT808Frame.decode(answer)
                check(frame?.header.messageID == 0x8001, "a refusal is answered with something other than 0x8001: \(answer)")
                guard let frame, case .platformResponse? = try? JT808Message.decode(frame) else {
                    fatalError("a refusal's answer does not decode as 0x8001: \(answer)")
                }
            case .message(let header, let message):
                if let bound = link.boundPhone {
                    check(JT808TerminalLink.canonicalPhone(header.phone) == bound, "phone \(header.phone) passed a connection bound to \(bound)")
                } else if case .authenticate = message {
                    link.bind(phone: header.phone)
                }
            }
        }
    }
    check(link.refusals.values.reduce(0, +) == refused, "refusals counted \(link.refusals), seen \(refused)")
    return 0
}
