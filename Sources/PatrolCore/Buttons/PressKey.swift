/// Names one press of a PLBX 2 button box forever: the box, the incarnation of its EEPROM and the
/// box's own press number, which never repeats within an incarnation (the box writes it to EEPROM
/// before it first sends it).
///
/// Every event a press produces carries its key, so the store can refuse a second event of the
/// same kind for the same press: an agent restarted mid-press, or one that sees a press again after
/// the box was silent, re-derives the press from the box's repeats without raising a second alarm.
public struct PressKey: Sendable, Hashable {
    public var boxID: String
    /// Chosen by the box when its EEPROM is first initialised; never 0.
    public var incarnation: UInt32
    /// 1…4294967295, +1 per press.
    public var press: UInt32

    public init(boxID: String, incarnation: UInt32, press: UInt32) {
        self.boxID = boxID
        self.incarnation = incarnation
        self.press = press
    }

    /// The incarnation as on the wire and in the store: 8 upper-case hex digits.
    public var incarnationHex: String { Self.hex(incarnation) }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// Exactly 8 hex digits, not all zero (the box's "no incarnation yet").
    static func incarnation(fromHex text: String) -> UInt32? {
        guard text.utf8.count == 8, text.utf8.allSatisfy({ ButtonBoxFrame.isHexDigit($0) }),
              let value = UInt32(text, radix: 16), value != 0 else { return nil }
        return value
    }
}
