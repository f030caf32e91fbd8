/// One comma-separated field of a sentence, a view into the input bytes (no copy).
///
/// The number parsers accept exactly what NMEA allows and return nil for anything else,
/// so a corrupted field can never turn into a plausible-looking value.
struct NMEAField {
    let bytes: UnsafeRawBufferPointer

    var isEmpty: Bool { bytes.isEmpty }

    /// The first byte, or 0 for an empty field (status letters, hemispheres, modes).
    var first: UInt8 { bytes.isEmpty ? 0 : bytes[0] }

    /// A field of digits only, as a non-negative integer (at most 9 digits).
    var unsignedInteger: Int? {
        guard !bytes.isEmpty, bytes.count <= 9 else { return nil }
        var value = 0
        for byte in bytes {
            let digit = byte &- ASCII.zero
            guard digit < 10 else { return nil }
            value = value &* 10 &+ Int(digit)
        }
        return value
    }

    /// `[+-]digits[.digits]` (at least one digit) as a Double.
    var decimal: Double? {
        guard let parts = decimalParts() else { return nil }
        let magnitude = Double(parts.integer) + parts.fraction
        return parts.negative ? -magnitude : magnitude
    }

    /// NMEA's `DDDMM.mmmm` angle in degrees; the decimal point is required (as gpsd requires it)
    /// and the minutes must be below 60.
    var degreesMinutes: Double? {
        guard let parts = decimalParts(), !parts.negative, parts.hasPoint else { return nil }
        let wholeMinutes = parts.integer % 100
        guard wholeMinutes < 60 else { return nil }
        let degrees = parts.integer / 100
        return Double(degrees) + (Double(wholeMinutes) + parts.fraction) / 60
    }

    /// Splits a decimal into an exact integer part and a fraction, so that large integer parts
    /// (NMEA `DDDMM`) keep full precision.
    private func decimalParts() -> (negative: Bool, integer: Int, fraction: Double, hasPoint: Bool)? {
        var index = 0
        let count = bytes.count
        var negative = false
        if index < count, bytes[index] == ASCII.minus || bytes[index] == ASCII.plus {
            negative = bytes[index] == ASCII.minus
            index += 1
        }
        var integer = 0
        var integerDigits = 0
        while index < count {
            let digit = bytes[index] &- ASCII.zero
            guard digit < 10 else { break }
            guard integerDigits < 15 else { return nil }
            integer = integer * 10 + Int(digit)
            integerDigits += 1
            index += 1
        }
        var fractionMantissa: UInt64 = 0
        var fractionDigits = 0
        var hasPoint = false
        if index < count, bytes[index] == ASCII.point {
            hasPoint = true
            index += 1
            while index < count {
                let digit = bytes[index] &- ASCII.zero
                guard digit < 10 else { return nil }
                if fractionDigits < 18 {
                    fractionMantissa = fractionMantissa * 10 + UInt64(digit)
                    fractionDigits += 1
                }
                index += 1
            }
        }
        guard index == count, integerDigits + fractionDigits > 0 else { return nil }
        let fraction = fractionDigits == 0 ? 0 : Double(fractionMantissa) / powersOfTen[fractionDigits]
        return (negative, integer, fraction, hasPoint)
    }

    /// `hhmmss[.s…]` as milliseconds of the day; nil unless the clock fields are in range.
    /// A leap second (ss = 60) is accepted, as receivers do send it.
    var timeOfDay: Int? {
        guard bytes.count >= 6 else { return nil }
        guard let hour = twoDigits(at: 0), let minute = twoDigits(at: 2), let second = twoDigits(at: 4),
              hour < 24, minute < 60, second <= 60 else { return nil }
        var milliseconds = 0
        if bytes.count > 6 {
            guard bytes[6] == ASCII.point else { return nil }
            var scale = 100
            for index in 7..<bytes.count {
                let digit = bytes[index] &- ASCII.zero
                guard digit < 10 else { return nil }
                milliseconds += Int(digit) * scale
                scale /= 10
            }
        }
        return ((hour * 60 + minute) * 60 + second) * 1000 + milliseconds
    }

    /// Two digits at `offset` as 0...99.
    func twoDigits(at offset: Int) -> Int? {
        guard offset + 2 <= bytes.count else { return nil }
        let tens = bytes[offset] &- ASCII.zero, ones = bytes[offset + 1] &- ASCII.zero
        guard tens < 10, ones < 10 else { return nil }
        return Int(tens) * 10 + Int(ones)
    }

    /// True when the field holds exactly `text` (ASCII).
    func equals(_ text: StaticString) -> Bool {
        guard text.utf8CodeUnitCount == bytes.count else { return false }
        let expected = UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        return bytes.elementsEqual(expected)
    }
}

/// Walks the fields of a sentence body (the part between `$` and `*`) left to right.
///
/// Reading past the last field yields empty fields, which the parsers treat as "not reported",
/// exactly as gpsd pads short sentences.
struct NMEAFieldReader {
    private let body: UnsafeRawBufferPointer
    private var position: Int

    init(body: UnsafeRawBufferPointer) {
        self.body = body
        self.position = 0
    }

    mutating func next() -> NMEAField {
        guard position <= body.count else { return NMEAField(bytes: UnsafeRawBufferPointer(rebasing: body[0..<0])) }
        var end = position
        while end < body.count, body[end] != ASCII.comma { end += 1 }
        let field = NMEAField(bytes: UnsafeRawBufferPointer(rebasing: body[position..<end]))
        position = end + 1
        return field
    }

    /// Skips `count` fields.
    mutating func skip(_ count: Int) {
        for _ in 0..<count { _ = next() }
    }
}

/// The ASCII bytes the decoder looks for.
enum ASCII {
    static let zero: UInt8 = 0x30
    static let minus: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let point: UInt8 = 0x2E
    static let comma: UInt8 = 0x2C
    static let dollar: UInt8 = 0x24
    static let star: UInt8 = 0x2A
    static let carriageReturn: UInt8 = 0x0D
    static let lineFeed: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tilde: UInt8 = 0x7E
    static let a: UInt8 = 0x41, d: UInt8 = 0x44, e: UInt8 = 0x45, n: UInt8 = 0x4E, p: UInt8 = 0x50
    static let s: UInt8 = 0x53, u: UInt8 = 0x55, v: UInt8 = 0x56, w: UInt8 = 0x57

    /// The value of an upper- or lower-case hex digit, or nil.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}

/// 10⁰…10¹⁸, exact in Double, so dividing a fraction mantissa by one is correctly rounded.
private let powersOfTen: [Double] = {
    var powers: [Double] = [1]
    for _ in 1...18 { powers.append(powers.last! * 10) }
    return powers
}()
