import PatrolCore
import Testing
@testable import PatrolUplinkDC09

/// Blocks checked byte for byte against blocks real equipment sent, and the codec's refusals.
struct DC09FrameTests {
    /// A NULL block from a real alarm panel, quoted in ioBroker.sia issue 11 (its CRC and length
    /// check out); note the empty line field `L`.
    static let panelNull = "\nBB86002C\"NULL\"0001L#7303658550[]_15:39:38,06-07-2019\r"
    /// A receiver's NAK with its time, as ioBroker.sia's receiver sent it in the same thread.
    static let receiverNAK = "\n3C3B0025\"NAK\"0000R0L0A0[]_15:39:35,05-07-2019\r"
    /// An encrypted NULL from pysiaalarm's test cases (account AAAB, key "AAAAAAAAAAAAAAAA": the
    /// 16 bytes 0x41), whose plaintext is eleven pad characters `p`, `]` and the timestamp.
    static let encryptedNull = "\n76D80055\"*NULL\"0000R0L0#AAAB[B4BC8B40D0E6D959D6BEA78E88CC0B2155741A3C44FBB96D476A3E557CAD64D9\r"

    @Test func theCRCIsCRC16ARC() {
        // The published check value of CRC-16/ARC.
        #expect(DC09CRC.checksum(Array("123456789".utf8)) == 0xBB3D)
    }

    @Test func aPanelsNullBlockDecodesAndEncodesBackByteForByte() throws {
        let frame = try DC09Frame.decode(Array(Self.panelNull.utf8))
        #expect(frame.token == "NULL")
        #expect(!frame.encrypted)
        #expect(frame.sequence == "0001")
        #expect(frame.account == "7303658550")
        #expect(frame.body == "]_15:39:38,06-07-2019")
        #expect(frame.encoded == Array(Self.panelNull.utf8))
    }

    @Test func aReceiversNAKCarriesItsTime() throws {
        let frame = try DC09Frame.decode(Array(Self.receiverNAK.utf8))
        #expect(frame.encoded == Array(Self.receiverNAK.utf8))
        let answer = DC09Answer.read(frame, sequence: "0042", account: DC09Account(number: "1234"))
        #expect(answer == .success(.nak(receiverTime: UTCTime(year: 2019, month: 5, day: 7, hour: 15, minute: 39, second: 35))))
    }

    @Test func anEncryptedNullIsBuiltByteForByteAsPysiaalarmsWorkedExample() throws {
        let key = try #require(DC09Key(bytes: Array("AAAAAAAAAAAAAAAA".utf8)))
        let account = DC09Account(number: "AAAB", receiver: "0", line: "0", key: key)
        let frame = DC09Message.null.frame(sequence: 0, account: account,
                                           time: UTCTime(year: 2020, month: 7, day: 5, hour: 18, minute: 24, second: 52),
                                           pad: { String(repeating: "p", count: $0) })
        #expect(String(decoding: frame.encoded, as: UTF8.self) == Self.encryptedNull)
        let decoded = try DC09Frame.decode(Array(Self.encryptedNull.utf8))
        #expect(decoded.encrypted)
        let clear = try #require(DC09Cipher.decrypt(decoded.body, key: key))
        #expect(String(decoding: clear, as: UTF8.self) == "ppppppppppp]_18:24:52,07-05-2020")
    }

    @Test func encryptedReportsArePaddedToWholeBlocksWithCharactersTheStandardAllows() throws {
        // Accounts of 3 to 16 digits, one- and two-digit partitions, with and without a position: plaintexts
        // of every length modulo 16, exact multiples included.
        var lengths: Set<Int> = []
        let positions = [DC09Fixtures.event(.sos).position, .none]
        let cases = [16, 24, 32].flatMap { bytes in (3...16).flatMap { digits in [1, 10].flatMap { partition in positions.map { (bytes, digits, partition, $0) } } } }
        for (bytes, digits, partition, position) in cases {
            let key = try #require(DC09Key(bytes: (0..<bytes).map { UInt8($0) }))
            let account = DC09Account(number: String(repeating: "7", count: digits), partition: partition, key: key)
            let message = DC09Message(event: DC09Fixtures.event(.panic(silent: false), position: position), account: account)
            lengths.insert((message.data.count + 1 + message.extended.map { $0.count + 2 }.reduce(0, +) + 21) % 16)
            let frame = message.frame(sequence: 7, account: account, time: DC09Fixtures.time)
            let clear = try #require(DC09Cipher.decrypt(frame.body, key: key))
            #expect(clear.count % 16 == 0)
            let text = String(decoding: clear, as: UTF8.self)
            let bar = try #require(text.firstIndex(of: "|"))
            let pad = text[..<bar]
            #expect((1...16).contains(pad.count), "the pad is never empty: \(text)")
            #expect(!pad.contains { "[]|".contains($0) } && pad.allSatisfy { $0.isASCII && !$0.isWhitespace })
            #expect(text[text.index(after: bar)...] == Substring(message.data + "]" + message.extended.map { "[\($0)]" }.joined() + DC09Timestamp.format(DC09Fixtures.time)))
        }
        #expect(lengths.count == 16)
    }

    @Test(arguments: [
        ("\n0000002C\"NULL\"0001L#7303658550[]_15:39:38,06-07-2019\r", "CRC 0000 does not match"),
        ("\nBB86002D\"NULL\"0001L#7303658550[]_15:39:38,06-07-2019\r", "length field says 45 bytes, the block has 44"),
        ("\nBB86002C\"NULL\"0001L#7303658550[]_15:39:38,06-07-201\u{7}\r", "outside printable ASCII"),
        ("\nZZ86002C\"NULL\"0001L#7303658550[]_15:39:38,06-07-2019\r", "CRC 'ZZ86' is not four hex digits"),
        ("\n+123002C\"NULL\"0001L#7303658550[]_15:39:38,06-07-2019\r", "CRC '+123' is not four hex digits"),
        ("\nBB86", "too short"),
    ])
    func blocksThatAreNotDC09AreRefusedWithTheReason(block: String, reason: String) {
        #expect {
            try DC09Frame.decode(Array(block.utf8))
        } throws: { error in
            (error as? DC09FrameError)?.description.contains(reason) == true
        }
    }

    @Test func structureErrorsAreFoundAfterTheCRC() {
        for (content, reason) in [("NULL\"0001L#1[]", "no quoted token"), ("\"NULL0001L#1[]", "closing quote"),
                                  ("\"NULL\"01L#1[]", "not four digits"), ("\"NULL\"0001L#1]", "no '['"), ("\"\"0001L#1[]", "empty token")] {
            let bytes = Array(content.utf8)
            let block = Array((DC09CRC.hex(of: bytes) + DC09CRC.hex4(bytes.count)).utf8) + bytes
            #expect(throws: DC09FrameError.self, "\(reason)") { try DC09Frame.decode(block) }
        }
    }

    @Test func timestampsAreReadOnlyWhenTheyAreDates() {
        #expect(DC09Timestamp.parse("_23:59:59,12-31-2026") == UTCTime(year: 2026, month: 12, day: 31, hour: 23, minute: 59, second: 59))
        #expect(DC09Timestamp.format(UTCTime(year: 2026, month: 1, day: 2, hour: 3, minute: 4, second: 5, millisecond: 999)) == "_03:04:05,01-02-2026")
        for bad in ["_24:00:00,01-01-2026", "_12:00:00,02-31-2026", "_12:00:00,13-01-2026", "12:00:00,01-01-2026_", "_12:00:0x,01-01-2026", ""] {
            #expect(DC09Timestamp.parse(bad) == nil, "\(bad)")
        }
    }
}
