import Testing
import PatrolCore

@Suite struct TagReaderTests {
    static let tag = TagID("62E3086CED")

    static func decode(_ bytes: [UInt8], _ format: TagReaderFormat) -> [TagID] {
        var decoder = TagReaderDecoder(format: format)
        return decoder.receive(bytes)
    }

    @Test(arguments: [
        Array("62E3086CED\r\n".utf8),             // plain, CR LF
        Array("62e3086ced\n".utf8),               // lower case, LF only
        Array("62E3086CED08\r".utf8),             // with XOR checksum, CR only
        [0x02] + Array("62E3086CED08".utf8) + [0x03], // RDM6300: STX, data, checksum, ETX
        [0x02] + Array("62E3086CED".utf8) + [0x0D, 0x0A, 0x03], // STX … CR LF ETX
        Array("\u{FF}\u{FE}".utf8) + [0x02] + Array(" 62E3086CED \r\n".utf8), // noise and spaces
    ])
    func em4100VariantsGiveTheSameID(bytes: [UInt8]) {
        #expect(Self.decode(bytes, .em4100Hex) == [Self.tag])
    }

    @Test func badChecksumsAndWrongLinesAreCountedNotReported() {
        var decoder = TagReaderDecoder(format: .em4100Hex)
        let tags = decoder.receive(Array("62E3086CED09\r\n62E3086CE\r\n62E3086CEG\r\nhello\r\n".utf8)
                                   + [UInt8](repeating: 0x31, count: 100) + [0x0A])
        #expect(tags.isEmpty)
        #expect(decoder.rejectedLines == 5)
    }

    @Test func lettersThatOnlyUpperCaseToHexDigitsAreNoTag() {
        // Five "ﬀ" ligatures upper-case to "FFFFFFFFFF": noise on the line must not be a check-in.
        var decoder = TagReaderDecoder(format: .em4100Hex)
        #expect(decoder.receive(Array("\u{FB00}\u{FB00}\u{FB00}\u{FB00}\u{FB00}\r\n".utf8)).isEmpty)
        #expect(decoder.rejectedLines == 1)
    }

    @Test func readSplitAcrossChunksIsOneRead() {
        var decoder = TagReaderDecoder(format: .em4100Hex)
        #expect(decoder.receive(Array("62E30".utf8)).isEmpty)
        #expect(decoder.receive(Array("86CED\r\n".utf8)) == [Self.tag])
    }

    @Test func decimalReaders() {
        #expect(Self.decode(Array("3808980205\r\n".utf8), .decimal) == [TagID("3808980205")])
        #expect(Self.decode(Array("00827885\r\n0001780797\n".utf8), .decimal) == [TagID("00827885"), TagID("0001780797")])
        #expect(Self.decode(Array("12345\r\n38089802O5\r\n62E3086CED\r\n".utf8), .decimal).isEmpty)
    }

    @Test func hexIDsConvertToWhatDecimalReadersPrint() {
        let forms = Self.tag.decimalForms
        #expect(forms?.decimal10 == TagID("3808980205"))
        #expect(forms?.decimal8 == TagID("00827885"))
        #expect(TagID("3808980205").decimalForms?.decimal10 == TagID("0144179717"))
        #expect(TagID("00827885").decimalForms == nil)
    }

    @Test func sameTagWithinWindowIsOneCheckInAfterWindowTwo() {
        var dedupe = CheckInDeduplicator(windowMilliseconds: 10_000)
        let other = TagID("0A001B2C3D")
        let reads: [(TagID, Int64)] = [(Self.tag, 0), (Self.tag, 4_000), (other, 5_000), (Self.tag, 13_999),
                                       (Self.tag, 24_000), (other, 24_000)]
        let newCheckIns = reads.map { dedupe.isNewCheckIn($0.0, at: $0.1) }
        #expect(newCheckIns == [true, false, true, false, true, true])
    }

    @Test func readerRepeatingAHeldTagIsOneCheckIn() {
        var reader = TagReaderInput(readerID: "gate-reader", format: .em4100Hex, repeatWindowMilliseconds: 5_000)
        var events: [DetectedEvent] = []
        for time in stride(from: Int64(0), through: 30_000, by: 500) {
            events += reader.receive(Array("62E3086CED\r\n".utf8), at: time)
        }
        events += reader.receive(Array("62E3086CED\r\n".utf8), at: 40_000)
        #expect(events == [
            DetectedEvent(.checkIn(.tag(id: "62E3086CED")), inputID: "gate-reader", at: 0),
            DetectedEvent(.checkIn(.tag(id: "62E3086CED")), inputID: "gate-reader", at: 40_000),
        ])
    }

    @Test func dutyReaderSignsABadgeOnThenOffAndHoldingItIsOneRead() {
        var reader = TagReaderInput(readerID: "duty-reader", role: .duty, format: .em4100Hex, repeatWindowMilliseconds: 5_000)
        let badge = Array("62E3086CED\r\n".utf8), other = Array("0A001B2C3D\r\n".utf8)
        var events: [DetectedEvent] = []
        for time in stride(from: Int64(0), through: 3_000, by: 500) { events += reader.receive(badge, at: time) }
        events += reader.receive(other, at: 4_000)
        events += reader.receive(badge, at: 60_000)
        events += reader.receive(badge, at: 120_000)
        #expect(events == [
            DetectedEvent(.duty(.signOn, badge: "62E3086CED"), inputID: "duty-reader", at: 0),
            DetectedEvent(.duty(.signOn, badge: "0A001B2C3D"), inputID: "duty-reader", at: 4_000),
            DetectedEvent(.duty(.signOff, badge: "62E3086CED"), inputID: "duty-reader", at: 60_000),
            DetectedEvent(.duty(.signOn, badge: "62E3086CED"), inputID: "duty-reader", at: 120_000),
        ])
    }

    /// A reader made after a restart with the badges the store has signed on: their next read signs off.
    @Test func dutyReaderStartsFromTheBadgesSignedOnBeforeARestart() {
        var reader = TagReaderInput(readerID: "duty-reader", role: .duty, format: .em4100Hex, repeatWindowMilliseconds: 5_000,
                                    signedOnBadges: ["62E3086CED"])
        let events = reader.receive(Array("62E3086CED\r\n".utf8), at: 0) + reader.receive(Array("0A001B2C3D\r\n".utf8), at: 1_000)
        #expect(events == [
            DetectedEvent(.duty(.signOff, badge: "62E3086CED"), inputID: "duty-reader", at: 0),
            DetectedEvent(.duty(.signOn, badge: "0A001B2C3D"), inputID: "duty-reader", at: 1_000),
        ])
    }
}
