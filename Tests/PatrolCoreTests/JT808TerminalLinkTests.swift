import PatrolTestSupport
import Testing
@testable import PatrolCore

/// The centre listener's per-connection handling, without sockets: what each received frame
/// becomes, the 0x8001 each refusal is answered with, and the binding to the terminal that authenticated.
@Suite struct JT808TerminalLinkTests {
    static let phone = "013912345678"
    static let report = JT808Message.position(JT808Position(status: JT808Position.positionedStatus, latitudeE6: 22_543_096,
                                                            longitudeE6: 114_057_865, time: UTCTime(year: 2026, month: 11, day: 29)))

    static func wire(_ message: JT808Message, phone: String = phone, revision: JT808Revision = .v2013, serial: UInt16) -> [UInt8] {
        message.frames(phone: phone, revision: revision, serial: serial)[0].wire
    }

    /// The problem and the (serial answered, result) of each item; nil for an item without an answer.
    static func refusals(_ link: inout JT808TerminalLink) -> [(JT808TerminalLink.Problem, UInt16?, UInt8?)] {
        var out: [(JT808TerminalLink.Problem, UInt16?, UInt8?)] = []
        while let item = link.next() {
            guard case .refused(let problem, let answer, _) = item else { continue }
            guard let answer, case .platformResponse(let response)? = try? JT808Message.decode(JT808Frame.decode(answer)) else {
                out.append((problem, nil, nil))
                continue
            }
            out.append((problem, response.serial, response.result))
        }
        return out
    }

    @Test func eachBadFrameIsCountedAndAnsweredAsTheStandardSays() throws {
        var link = JT808TerminalLink()
        var damaged = Self.wire(Self.report, serial: 1)
        damaged[damaged.count - 2] ^= 0x01
        var shortened = try JT808Framing.unwrap(Self.wire(Self.report, serial: 5))
        shortened.removeLast(3)
        shortened.append(JT808Framing.checkCode(shortened))
        link.receive(damaged + Self.wire(.other(id: 0x0F0F, body: []), serial: 2) + Self.wire(.other(id: 0x0100, body: [1]), serial: 3)
                     + [0x7E, 0x02, 0x00, 0x7D, 0x05, 0x7E] + JT808Framing.wrap(shortened) + Self.wire(.heartbeat, serial: 4)
                     + [0x7E] + Array(repeating: 0x41, count: 5000) + [0x7E])
        let refused = Self.refusals(&link)
        #expect(refused.map(\.0) == [.checkCode, .unknownMessage, .body, .escape, .length, .unauthenticated, .oversized])
        #expect(refused.map(\.1) == [1, 2, 3, nil, 5, 4, nil], "answered to the serial of the refused frame")
        #expect(refused.map(\.2) == [1, 3, 2, nil, 1, 1, nil])
        #expect(link.refusals == [.checkCode: 1, .unknownMessage: 1, .body: 1, .escape: 1, .length: 1, .unauthenticated: 1, .oversized: 1])
    }

    @Test func aBoundConnectionTakesItsTerminalInEitherRevisionAndRefusesAnother() throws {
        var link = JT808TerminalLink()
        link.receive(Self.wire(.authenticate(JT808Authentication(code: "c0de")), serial: 1) + Self.wire(Self.report, serial: 2))
        guard case .message(let header, .authenticate)? = link.next() else { Issue.record("authentication not read"); return }
        link.bind(phone: header.phone)
        guard case .message(_, .position)? = link.next() else {
            Issue.record("a report in the segment of the authentication is judged after it bound the connection")
            return
        }
        link.receive(Self.wire(Self.report, phone: "00000000013912345678", revision: .v2019, serial: 3)
                     + Self.wire(Self.report, phone: "013900000002", serial: 4))
        guard case .message? = link.next() else { Issue.record("the 2019 header of the same terminal is refused"); return }
        let refused = Self.refusals(&link)
        #expect(refused.map(\.0) == [.foreignPhone])
        #expect(refused.map(\.2) == [1])
    }
}
