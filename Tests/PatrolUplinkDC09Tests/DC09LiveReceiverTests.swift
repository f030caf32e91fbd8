import Foundation
import Logging
import PatrolCore
import PatrolTestSupport
import PatrolUplink
import Testing
@testable import PatrolUplinkDC09

/// The output against a live, independent receiver: pysiaalarm 3.2.2 on 127.0.0.1, reading every
/// block with its own parser, CRC, decryption and timestamp window, and answering as it does.
@Suite(.serialized)
struct DC09LiveReceiverTests {
    static let account = "12AB"
    /// pysiaalarm takes a key as text and uses the characters' bytes; the board's key file holds them in hex.
    static let keys = ["0123456789ABCDEF", "0123456789ABCDEF01234567", "0123456789ABCDEF0123456789ABCDEF"]

    static func output(_ receiver: DC09Receiver, token: DC09Account.Token = .sia, key: String? = nil, udp: Bool = false,
                       timeout: Duration = .seconds(5), clockError: Int64 = 0) -> DC09Output {
        let account = DC09Account(number: account, receiver: "1", line: "2", token: token, partition: 1,
                                  zones: DC09Zones(["front-panic": 11]), key: key.map { DC09Key(bytes: Array($0.utf8))! })
        return DC09Output(name: "arc", account: account, host: "127.0.0.1", port: receiver.port, udp: udp, timeout: timeout,
                          logger: Logger(label: "test.dc09"),
                          systemMilliseconds: { Int64(Date().timeIntervalSince1970 * 1000) + clockError })
    }

    /// Every kind, in both formats, plain and with each key size: pysiaalarm ACKs each and reads
    /// the account, the code, the zone and a timestamp within its window.
    @Test(arguments: [(DC09Account.Token.sia, nil), (.sia, keys[0]), (.sia, keys[1]), (.sia, keys[2]), (.contactID, nil), (.contactID, keys[2])])
    func everyKindArrivesWithItsCodeAccountAndTimestamp(token: DC09Account.Token, key: String?) async throws {
        let receiver = try DC09Receiver(account: Self.account, key: key)
        let output = Self.output(receiver, token: token, key: key)
        let started = Date()
        for (offset, entry) in DC09Fixtures.kinds.enumerated() {
            let event = DC09Fixtures.event(entry.kind, input: offset == 0 ? "front-panic" : "button-3", at: UTCTime(millisecondsSinceEpoch: 1_790_000_000_000))
            #expect(try await output.deliver(event, sequence: Int64(offset + 1)) == .accepted, "\(entry.kind)")
        }
        await output.close()
        let blocks = try #require(receiver.wait(for: DC09Fixtures.kinds.count), "\(receiver.output)")
        for (index, (block, entry)) in zip(blocks, DC09Fixtures.kinds).enumerated() {
            #expect(block.acknowledged, "\(entry.kind): \(block.raw) → \(block.response ?? "")")
            #expect(block.account == Self.account)
            #expect(block.encrypted == (key != nil))
            #expect(block.messageType == token.rawValue)
            #expect(block.validTimestamp == true)
            let stamped = try #require(block.timestamp.flatMap { UTCTime(iso8601: $0) })
            #expect(abs(UTCTime(millisecondsSinceEpoch: Int64(started.timeIntervalSince1970 * 1000)).seconds(to: stamped)) < 5)
            // The table's zone for front-panic; a check-in's checkpoint (jetty-2), or zone 0 for a tag number too long for one.
            let zone: String = switch entry.kind {
            case _ where index == 0: "011"
            case .checkIn(.tag): "000"
            case .checkIn(.geofence): "002"
            default: "003"
            }
            switch token {
            case .sia:
                #expect(block.code == entry.sia, "\(entry.kind)")
                #expect(block.ri == "1")
                #expect(block.message == zone)
                #expect(block.extended?["X"] == "-0.14189" && block.extended?["Y"] == "51.501364")
                #expect(block.extended?["H"] == "14:13:20,09-21-2026", "the time of occurrence")
            case .contactID:
                #expect(block.qualifier == String(entry.qualifier), "\(entry.kind)")
                #expect(block.eventType == String(entry.contactID), "\(entry.kind)")
                #expect(block.partition == "01")
                #expect(block.ri == zone)
            }
        }
        #expect(Set(blocks.compactMap(\.sequence)).count == blocks.count, "each event its own sequence number")
    }

    @Test func overUDPToo() async throws {
        let receiver = try DC09Receiver(account: Self.account, key: Self.keys[0], udp: true)
        let output = Self.output(receiver, key: Self.keys[0], udp: true)
        #expect(try await output.deliver(DC09Fixtures.event(.duress), sequence: 1) == .accepted)
        #expect(try await output.deliver(DC09Fixtures.event(.panic(silent: false)), sequence: 2) == .accepted)
        try await output.supervise()
        let blocks = try #require(receiver.wait(for: 3), "\(receiver.output)")
        #expect(blocks.map(\.code) == ["HA", "PA", "RP"])
    }

    /// A board that booted with a wrong clock: pysiaalarm NAKs the first block with its own time,
    /// the output corrects its clock and sends the same block again at once; later ones go right first time.
    @Test func aNAKCorrectsTheClockAndTheBlockGoesAgainAtOnce() async throws {
        let receiver = try DC09Receiver(account: Self.account, key: Self.keys[0])
        let output = Self.output(receiver, key: Self.keys[0], clockError: -600_000)
        #expect(try await output.deliver(DC09Fixtures.event(.panic(silent: false)), sequence: 1) == .accepted)
        #expect(try await output.deliver(DC09Fixtures.event(.sos), sequence: 2) == .accepted)
        let blocks = try #require(receiver.wait(for: 3), "\(receiver.output)")
        #expect(blocks.count == 3)
        #expect(blocks[0].validTimestamp == false && blocks[0].response?.contains("\"NAK\"") == true)
        #expect(blocks[1].acknowledged && blocks[1].sequence == blocks[0].sequence && blocks[1].code == "PA")
        #expect(blocks[2].acknowledged && blocks[2].code == "QA")
    }

    /// DUH: the receiver cannot handle the event; it is refused for good (the runner dead-letters it), not retried.
    @Test func aDUHRefusesTheEventForGood() async throws {
        let receiver = try DC09Receiver(account: Self.account, misbehave: .duh)
        let output = Self.output(receiver)
        let delivery = try await output.deliver(DC09Fixtures.event(.testPress), sequence: 1)
        guard case .refused(let reason) = delivery else {
            Issue.record("DUH taken as \(delivery)")
            return
        }
        #expect(reason.contains("DUH"))
        #expect(try await output.deliver(DC09Fixtures.event(.panic(silent: false)), sequence: 2) == .accepted)
        #expect(receiver.wait(for: 2)?.count == 2, "the DUHed event was not sent again")
    }

    /// An answer after the timeout is no answer: the fate is unknown, the caller sends again, and
    /// the event goes with the number it had, so the receiver can tell it is a repeat.
    @Test func aLateAnswerIsRetriedWithTheSameSequence() async throws {
        let receiver = try DC09Receiver(account: Self.account, key: Self.keys[0], misbehave: .late, late: 2.5)
        let output = Self.output(receiver, key: Self.keys[0], timeout: .seconds(1))
        let event = DC09Fixtures.event(.panic(silent: false))
        await #expect(throws: UplinkLinkError.self) { try await output.deliver(event, sequence: 1) }
        #expect(try await output.deliver(event, sequence: 1) == .accepted)
        #expect(try await output.deliver(DC09Fixtures.event(.sos), sequence: 2) == .accepted)
        let blocks = try #require(receiver.wait(for: 3), "\(receiver.output)")
        #expect(blocks[0].sequence == blocks[1].sequence)
        #expect(blocks[2].sequence != blocks[1].sequence)
    }

    /// A receiver that takes the block and never answers has not got it delivered.
    @Test func aReceiverThatNeverAnswersIsNotDelivered() async throws {
        let receiver = try DC09Receiver(account: Self.account, misbehave: .never, count: 100)
        let output = Self.output(receiver, timeout: .seconds(1))
        for _ in 0..<2 {
            await #expect {
                try await output.deliver(DC09Fixtures.event(.duress), sequence: 1)
            } throws: { error in
                (error as? UplinkLinkError)?.reason.contains("no answer within") == true
            }
        }
        await #expect(throws: UplinkLinkError.self) { try await output.supervise() }
        #expect(receiver.wait(for: 3)?.allSatisfy { $0.code == "HA" || $0.messageType == "NULL" } == true)
    }

    @Test func aDroppedLinkIsRetriedOnANewConnection() async throws {
        let receiver = try DC09Receiver(account: Self.account, misbehave: .drop)
        let output = Self.output(receiver)
        let event = DC09Fixtures.event(.panic(silent: true))
        await #expect {
            try await output.deliver(event, sequence: 5)
        } throws: { error in
            (error as? UplinkLinkError)?.reason.contains("closed the connection") == true
        }
        #expect(try await output.deliver(event, sequence: 5) == .accepted)
        let blocks = try #require(receiver.wait(for: 2), "\(receiver.output)")
        #expect(blocks[1].acknowledged && blocks[1].sequence == blocks[0].sequence)
    }

    /// A link that accepts and closes at once (here a cut proxy in front of the receiver) is a link
    /// error, every time, and the alarm goes once the link is back. (The first version crashed the
    /// agent here: the answer's promise was left behind unfulfilled.)
    @Test func aLinkThatClosesOnConnectIsALinkErrorUntilItIsBack() async throws {
        let receiver = try DC09Receiver(account: Self.account)
        let proxy = try TCPProxy(targetPort: receiver.port)
        defer { proxy.stop() }
        proxy.cut()
        let output = DC09Output(name: "arc", account: DC09Account(number: Self.account), host: "127.0.0.1", port: proxy.port,
                                timeout: .seconds(2), logger: Logger(label: "test.dc09"),
                                systemMilliseconds: { Int64(Date().timeIntervalSince1970 * 1000) })
        for _ in 0..<3 {
            await #expect(throws: UplinkLinkError.self) { try await output.deliver(DC09Fixtures.event(.sos), sequence: 1) }
        }
        proxy.restore()
        #expect(try await output.deliver(DC09Fixtures.event(.sos), sequence: 1) == .accepted)
        #expect(receiver.wait(for: 1)?.first?.acknowledged == true)
    }

    /// A batch goes one message per event; when the link fails part-way, the events answered so
    /// far are answered as such (so the runner does not send them again) and the rest wait.
    @Test func aBatchAnswersTheEventsTheReceiverTookBeforeTheLinkFailed() async throws {
        let receiver = try DC09Receiver(account: Self.account, misbehave: .never, count: 100, after: 2)
        let output = Self.output(receiver, timeout: .seconds(1))
        let events = [DC09Fixtures.kinds[0], DC09Fixtures.kinds[3], DC09Fixtures.kinds[9]].enumerated().map {
            StoredEvent(sequence: Int64(40 + $0.offset), event: DC09Fixtures.event($0.element.kind))
        }
        let verdict = try await output.send(OutboundBatch(events: events))
        #expect(verdict == .answered(UplinkAnswer(accepted: [.event: [40...40, 41...41]])))
        await #expect(throws: UplinkLinkError.self) { try await output.send(OutboundBatch(events: Array(events.dropFirst(2)))) }
        let blocks = try #require(receiver.wait(for: 4), "\(receiver.output)")
        #expect(blocks.map(\.code) == ["PA", "QA", "RP", "RP"])
        #expect(blocks[3].sequence == blocks[2].sequence, "the unanswered event sent again with its number")
    }

    /// A heartbeat round is a NULL message; its ACK settles nothing.
    @Test func aHeartbeatRoundIsANullMessage() async throws {
        let receiver = try DC09Receiver(account: Self.account, key: Self.keys[2])
        let output = Self.output(receiver, key: Self.keys[2])
        #expect(try await output.send(OutboundBatch(pendingRecords: 3)) == .answered(UplinkAnswer(accepted: [:])))
        #expect(receiver.wait(for: 1)?.first.map { $0.messageType == "NULL" && $0.acknowledged } == true)
    }

    @Test func aReceiverThatIsNotThereIsALinkError() async throws {
        let port = try FreePort.allocate()
        let output = DC09Output(name: "arc", account: DC09Account(number: "1234"), host: "127.0.0.1", port: port,
                                logger: Logger(label: "test.dc09"), systemMilliseconds: { 0 })
        await #expect {
            try await output.deliver(DC09Fixtures.event(.sos), sequence: 1)
        } throws: { error in
            (error as? UplinkLinkError)?.reason.contains("cannot reach the receiver") == true
        }
    }

    /// NULL messages supervise the link, numbered like every message.
    @Test func nullMessagesAreAcknowledged() async throws {
        let receiver = try DC09Receiver(account: Self.account, key: Self.keys[1])
        let output = Self.output(receiver, key: Self.keys[1])
        for _ in 0..<3 { try await output.supervise() }
        let blocks = try #require(receiver.wait(for: 3), "\(receiver.output)")
        #expect(blocks.allSatisfy { $0.acknowledged && $0.messageType == "NULL" })
        #expect(blocks.map(\.sequence) == ["0001", "0002", "0003"])
    }
}
