import PatrolCore
import Testing
@testable import PatrolUplinkDC09

enum DC09Fixtures {
    static let time = UTCTime(year: 2026, month: 11, day: 29, hour: 19, minute: 30, second: 5)

    static func event(_ kind: EventKind, input: String? = "button-3", at time: UTCTime = time,
                      position: EventPosition = .current(Coordinate(latitude: 51.501364, longitude: -0.14189), ageMilliseconds: 400)) -> PatrolEvent {
        PatrolEvent(kind: kind, time: EventTime(utc: time, source: .gnss), position: position, deviceID: "booth-7", inputID: input)
    }

    /// One of each kind the agent raises, with the codes `Docs/dc09.md` gives them.
    static let kinds: [(kind: EventKind, sia: String, qualifier: Int, contactID: Int)] = [
        (.panic(silent: false), "PA", 1, 120), (.panic(silent: true), "HA", 1, 122), (.duress, "HA", 1, 121), (.sos, "QA", 1, 101),
        (.checkIn(.button), "TP", 1, 611), (.checkIn(.tag(id: "0004718265")), "TP", 1, 611),
        (.checkIn(.geofence(checkpointID: "jetty-2")), "TP", 1, 611), (.alarmRestore, "PH", 3, 120), (.alarmCancel, "OC", 1, 406),
        (.testPress, "RP", 1, 602),
        (.fault(.boxSilent), "EM", 1, 333), (.faultRestore(.boxSilent), "EN", 3, 333),
        (.fault(.portGone), "ET", 1, 330), (.faultRestore(.portGone), "ER", 3, 330),
        (.fault(.portPermission), "ET", 1, 330), (.faultRestore(.portPermission), "ER", 3, 330),
        (.fault(.buttonHeld), "PT", 1, 375), (.faultRestore(.buttonHeld), "PJ", 3, 375),
        (.fault(.gpsLost), "IA", 1, 380), (.faultRestore(.gpsLost), "IR", 3, 380),
        (.fault(.uplinkDown), "YC", 1, 350), (.faultRestore(.uplinkDown), "YK", 3, 350),
    ]
}

/// What each event becomes on the wire, in both formats.
struct DC09MessageTests {
    @Test func everyKindHasTheDocumentedCodes() {
        for (kind, sia, qualifier, contactID) in DC09Fixtures.kinds {
            #expect(DC09EventCode(kind) == DC09EventCode(sia: sia, qualifier: qualifier, contactID: contactID), "\(kind)")
        }
        // Every fault is in the table above (a new fault must get its codes and a line in Docs/dc09.md).
        for fault in Fault.allCases {
            #expect(DC09Fixtures.kinds.contains { $0.kind == .fault(fault) } && DC09Fixtures.kinds.contains { $0.kind == .faultRestore(fault) })
        }
    }

    @Test func aSIAReportCarriesAccountPartitionCodeZonePositionAndTimeOfOccurrence() {
        let account = DC09Account(number: "12ab", receiver: "3f", line: "2", partition: 4)
        let occurred = DC09Fixtures.time.adding(milliseconds: -90_000)
        let message = DC09Message(event: DC09Fixtures.event(.panic(silent: false), at: occurred), account: account)
        let frame = message.frame(sequence: 42, account: account, time: DC09Fixtures.time)
        #expect(String(decoding: frame.encoded.dropFirst(9).dropLast(), as: UTF8.self)
            == "\"SIA-DCS\"0042R3FL2#12AB[#12AB|Nri4/PA003][X-0.14189][Y51.501364][H19:28:35,11-29-2026]_19:30:05,11-29-2026")
    }

    @Test func aContactIDReportIsQualifierEventGroupZone() {
        let account = DC09Account(number: "1234", token: .contactID, partition: 1)
        let message = DC09Message(event: DC09Fixtures.event(.alarmRestore), account: account)
        #expect(message.data == "#1234|3120 01 003")
        #expect(message.extended.isEmpty)
        #expect(DC09Message(event: DC09Fixtures.event(.duress, position: .none), account: account).data == "#1234|1121 01 003")
    }

    @Test func withoutAPositionThereIsNoXOrY() {
        let message = DC09Message(event: DC09Fixtures.event(.sos, position: .none), account: DC09Account(number: "1234"))
        #expect(message.extended == ["H19:30:05,11-29-2026"])
    }

    @Test func zonesComeFromTheTableOrTheNamesTrailingDigits() {
        let zones = DC09Zones(["front-panic": 7, "jetty": 12])
        #expect(zones.zone(of: "front-panic") == 7)
        #expect(zones.zone(of: "jetty") == 12)
        #expect(zones.zone(of: "button-3") == 3)
        #expect(zones.zone(of: "cp042") == 42)
        #expect(zones.zone(of: "0004718265") == 0, "a tag number longer than three digits is no zone")
        #expect(zones.zone(of: "gate") == 0)
        #expect(zones.zone(of: nil) == 0)
        #expect(DC09Zones.id(of: DC09Fixtures.event(.checkIn(.geofence(checkpointID: "jetty")))) == "jetty")
        #expect(DC09Zones.id(of: DC09Fixtures.event(.checkIn(.tag(id: "0004718265")))) == "0004718265")
        #expect(DC09Zones.id(of: DC09Fixtures.event(.checkIn(.button))) == "button-3")
    }

    @Test func sequencesRunFromOneTo9999AndWrapToOne() {
        #expect(DC09Output.sequence(after: 0) == 1)
        #expect(DC09Output.sequence(after: 41) == 42)
        #expect(DC09Output.sequence(after: 9998) == 9999)
        #expect(DC09Output.sequence(after: 9999) == 1)
    }

    @Test func sequencesAreFourDigits() {
        let account = DC09Account(number: "1234")
        #expect(DC09Message.null.frame(sequence: 1, account: account, time: DC09Fixtures.time).sequence == "0001")
        #expect(DC09Message.null.frame(sequence: 9999, account: account, time: DC09Fixtures.time).sequence == "9999")
    }
}

/// Which blocks count as the answer to a message.
struct DC09AnswerTests {
    static func block(_ content: String) throws -> DC09Frame {
        let bytes = Array(content.utf8)
        return try DC09Frame.decode(Array((DC09CRC.hex(of: bytes) + DC09CRC.hex4(bytes.count)).utf8) + bytes)
    }

    let account = DC09Account(number: "1234")

    @Test func anACKForThisSequenceAndAccountIsTaken() throws {
        #expect(DC09Answer.read(try Self.block("\"ACK\"0005R0L0#1234[]"), sequence: "0005", account: account) == .success(.ack))
        // pysiaalarm writes `None` where it was sent no receiver field.
        #expect(DC09Answer.read(try Self.block("\"ACK\"0005NoneL0#1234[]"), sequence: "0005", account: account) == .success(.ack))
        #expect(DC09Answer.read(try Self.block("\"DUH\"0005L0#1234[]"), sequence: "0005", account: account) == .success(.duh))
    }

    @Test func anythingElseIsNotTheAnswer() throws {
        for (content, reason) in [("\"ACK\"0004L0#1234[]", "for sequence 0004"), ("\"ACK\"0005L0#9999[]", "for account 9999"),
                                  ("\"RSP\"0005L0#1234[]", "is not ACK, NAK or DUH"), ("\"*ACK\"0005L0#1234[00]", "without a key")] {
            guard case .failure(let error) = DC09Answer.read(try Self.block(content), sequence: "0005", account: account) else {
                Issue.record("\(content) was taken for an answer")
                continue
            }
            #expect(error.description.contains(reason), "\(content): \(error)")
        }
    }

    @Test func anEncryptedAccountTakesOnlyAnACKEncryptedWithItsKey() throws {
        let key = try #require(DC09Key(hex: "000102030405060708090a0b0c0d0e0f"))
        let other = try #require(DC09Key(hex: "0f0e0d0c0b0a09080706050403020100"))
        let encrypted = DC09Account(number: "1234", key: key)
        let clear = Array("00000000000]_19:30:05,11-29-2026".utf8)
        let good = try Self.block("\"*ACK\"0005R0L0#1234[" + DC09Cipher.encrypt(clear, key: key))
        let forged = try Self.block("\"*ACK\"0005R0L0#1234[" + DC09Cipher.encrypt(clear, key: other))
        #expect(DC09Answer.read(good, sequence: "0005", account: encrypted) == .success(.ack))
        if case .success = DC09Answer.read(forged, sequence: "0005", account: encrypted) {
            Issue.record("an ACK encrypted with another key was taken")
        }
        if case .success = DC09Answer.read(try Self.block("\"ACK\"0005R0L0#1234[]"), sequence: "0005", account: encrypted) {
            Issue.record("a plain ACK was taken for an encrypted message")
        }
        // DUH may come in clear: the receiver could not handle what it read.
        #expect(DC09Answer.read(try Self.block("\"DUH\"0005R0L0#1234[]"), sequence: "0005", account: encrypted) == .success(.duh))
    }

    @Test func keysAreSixteenTwentyFourOrThirtyTwoBytesInHex() {
        #expect(DC09Key(hex: String(repeating: "ab", count: 16))?.bits == 128)
        #expect(DC09Key(hex: String(repeating: "ab", count: 24))?.bits == 192)
        #expect(DC09Key(hex: String(repeating: "AB", count: 32) + "\n")?.bits == 256)
        #expect(DC09Key(hex: String(repeating: "ab", count: 20)) == nil)
        #expect(DC09Key(hex: "not hex at all, not at all!!!!!!") == nil)
    }
}
