/// Builds one compact JSON object without Foundation, with numbers printed to a fixed number
/// of decimals (gpsd prints lat/lon with 9, speed with 3, …) so output is stable and comparable.
public struct JSONObjectWriter: Sendable {
    private var text = "{"
    private var first = true

    public init() {}

    private mutating func key(_ name: String) {
        if !first { text += "," }
        first = false
        text += "\""
        text += name
        text += "\":"
    }

    public mutating func add(_ name: String, _ value: String) {
        key(name)
        JSONObjectWriter.appendQuoted(value, to: &text)
    }

    public mutating func add(_ name: String, _ value: Int) {
        key(name)
        text += String(value)
    }

    public mutating func add(_ name: String, _ value: Int64) {
        key(name)
        text += String(value)
    }

    public mutating func add(_ name: String, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    /// Adds a number rounded to `decimals` places, trailing zeros trimmed; skips NaN and infinities.
    public mutating func add(_ name: String, _ value: Double, decimals: Int) {
        guard value.isFinite else { return }
        key(name)
        text += FixedDecimal.format(value, decimals: decimals)
    }

    /// Adds an already-encoded JSON value (an array or a nested object).
    public mutating func addRaw(_ name: String, _ json: String) {
        key(name)
        text += json
    }

    /// The finished object.
    public var json: String { text + "}" }

    public static func appendQuoted(_ value: String, to text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    public static func quoted(_ value: String) -> String {
        var s = ""
        appendQuoted(value, to: &s)
        return s
    }
}

/// Decimal formatting without Foundation's `String(format:)`.
public enum FixedDecimal {
    /// `value` rounded half away from zero to `decimals` places (0...12); trailing zeros are trimmed
    /// unless `trim` is false.
    public static func format(_ value: Double, decimals: Int, trim: Bool = true) -> String {
        precondition((0...12).contains(decimals))
        guard value.isFinite else { return "null" }
        var scale: Double = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9.0e18 else { return String(value) }
        let integer = UInt64(scaled)
        let divisor = UInt64(scale)
        let whole = integer / divisor
        var fraction = integer % divisor
        var result = (value < 0 && integer != 0) ? "-" : ""
        result += String(whole)
        guard decimals > 0 else { return result }
        var digits = [UInt8](repeating: 48, count: decimals)
        for i in stride(from: decimals - 1, through: 0, by: -1) {
            digits[i] = UInt8(48 + fraction % 10)
            fraction /= 10
        }
        var end = decimals
        if trim { while end > 0, digits[end - 1] == 48 { end -= 1 } }
        if end > 0 {
            result += "."
            result += String(decoding: digits[0..<end], as: UTF8.self)
        }
        return result
    }
}
