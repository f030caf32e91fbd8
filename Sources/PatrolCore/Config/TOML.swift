/// A TOML value with the line it was written on, so configuration errors can name the line.
public struct TOMLValue: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case boolean(Bool)
        case array([TOMLValue])
        case table(TOMLTable)
    }

    public var kind: Kind
    /// 1-based line number in the source file.
    public var line: Int

    public var typeName: String {
        switch kind {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a number"
        case .boolean: "true or false"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

/// A TOML table: keys in file order, each with its value and line.
public struct TOMLTable: Sendable, Equatable {
    public private(set) var keys: [String] = []
    public private(set) var values: [String: TOMLValue] = [:]
    /// Line of the `[header]` that opened the table (0 for the root).
    public var line: Int

    public init(line: Int = 0) {
        self.line = line
    }

    public subscript(key: String) -> TOMLValue? { values[key] }

    mutating func insert(_ key: String, _ value: TOMLValue) {
        if values[key] == nil { keys.append(key) }
        values[key] = value
    }
}

/// A syntax error with its 1-based line.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

/// Parses the TOML subset a configuration needs: tables, arrays of tables, dotted and quoted keys,
/// basic and literal strings, integers, floats, booleans, arrays and inline tables, comments.
/// Multi-line strings and date-time values are rejected with a message saying to quote the value.
///
/// Our own parser (rather than a C++ TOML library) keeps Foundation out of the agent and lets
/// every value carry its line number into error messages.
public enum TOMLParser {
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        var parser = Parser(bytes: Array(text.utf8))
        return try parser.document()
    }
}

private struct Parser {
    let bytes: [UInt8]
    var index = 0
    var line = 1

    init(bytes: [UInt8]) { self.bytes = bytes }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    func fail(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

    mutating func document() throws(TOMLError) -> TOMLTable {
        var root = TOMLTable()
        var currentPath: [String] = []
        var definedTables: Set<[String]> = []
        while true {
            skipWhitespaceAndComments(newlines: true)
            guard let c = current else { break }
            if c == UInt8(ascii: "[") {
                let headerLine = line
                index += 1
                let isArray = current == UInt8(ascii: "[")
                if isArray { index += 1 }
                skipSpaces()
                let path = try key()
                skipSpaces()
                guard current == UInt8(ascii: "]") else { throw fail("expected ']' to close the table header") }
                index += 1
                if isArray {
                    guard current == UInt8(ascii: "]") else { throw fail("expected ']]' to close the array-of-tables header") }
                    index += 1
                    try appendArrayTable(&root, path: path, line: headerLine)
                } else {
                    guard definedTables.insert(path).inserted else {
                        throw fail("table [\(path.joined(separator: "."))] is defined twice")
                    }
                    try withTable(&root, path: path, line: headerLine) { _ throws(TOMLError) in }
                }
                currentPath = path
                try endOfLine()
            } else {
                let keyLine = line
                let path = try key()
                skipSpaces()
                guard current == UInt8(ascii: "=") else { throw fail("expected '=' after key '\(path.joined(separator: "."))'") }
                index += 1
                skipSpaces()
                let value = try self.value()
                try withTable(&root, path: currentPath, line: keyLine) { table throws(TOMLError) in
                    try Parser.assign(&table, path: path, value: value, line: keyLine)
                }
                try endOfLine()
            }
        }
        return root
    }

    /// Runs `body` on the table at `path` (the last element of an array of tables), creating tables as needed.
    func withTable(_ table: inout TOMLTable, path: [String], line: Int,
                   _ body: (inout TOMLTable) throws(TOMLError) -> Void) throws(TOMLError) {
        guard let first = path.first else { return try body(&table) }
        let rest = Array(path.dropFirst())
        var value = table[first] ?? TOMLValue(kind: .table(TOMLTable(line: line)), line: line)
        switch value.kind {
        case .table(var inner):
            try withTable(&inner, path: rest, line: line, body)
            value.kind = .table(inner)
        case .array(var items):
            guard var last = items.last, case .table(var inner) = last.kind else {
                throw TOMLError(line: line, message: "'\(first)' is not a table")
            }
            try withTable(&inner, path: rest, line: line, body)
            last.kind = .table(inner)
            items[items.count - 1] = last
            value.kind = .array(items)
        default:
            throw TOMLError(line: line, message: "'\(first)' is already a value (line \(value.line)), not a table")
        }
        table.insert(first, value)
    }

    func appendArrayTable(_ root: inout TOMLTable, path: [String], line: Int) throws(TOMLError) {
        let parent = Array(path.dropLast())
        let name = path[path.count - 1]
        try withTable(&root, path: parent, line: line) { table throws(TOMLError) in
            var items: [TOMLValue] = []
            if let existing = table[name] {
                guard case .array(let array) = existing.kind else {
                    throw TOMLError(line: line, message: "'\(name)' is already defined on line \(existing.line) and is not an array of tables")
                }
                items = array
            }
            items.append(TOMLValue(kind: .table(TOMLTable(line: line)), line: line))
            table.insert(name, TOMLValue(kind: .array(items), line: table[name]?.line ?? line))
        }
    }

    static func assign(_ table: inout TOMLTable, path: [String], value: TOMLValue, line: Int) throws(TOMLError) {
        if path.count == 1 {
            if let existing = table[path[0]] {
                throw TOMLError(line: line, message: "key '\(path[0])' is already set on line \(existing.line)")
            }
            table.insert(path[0], value)
            return
        }
        var inner = TOMLTable(line: line)
        if let existing = table[path[0]] {
            guard case .table(let t) = existing.kind else {
                throw TOMLError(line: line, message: "key '\(path[0])' is already set on line \(existing.line)")
            }
            inner = t
        }
        try assign(&inner, path: Array(path.dropFirst()), value: value, line: line)
        table.insert(path[0], TOMLValue(kind: .table(inner), line: line))
    }

    mutating func skipSpaces() {
        while let c = current, c == 32 || c == 9 { index += 1 }
    }

    mutating func skipWhitespaceAndComments(newlines: Bool) {
        while let c = current {
            if c == 32 || c == 9 || c == 13 { index += 1 }
            else if c == 10 && newlines { index += 1; line += 1 }
            else if c == UInt8(ascii: "#") { while let d = current, d != 10 { index += 1 } }
            else { break }
        }
    }

    mutating func endOfLine() throws(TOMLError) {
        skipSpaces()
        if current == UInt8(ascii: "#") { while let d = current, d != 10 { index += 1 } }
        if current == 13 { index += 1 }
        guard let c = current else { return }
        guard c == 10 else { throw fail("unexpected text after the value; put one setting per line") }
    }

    /// A dotted key: bare (`A-Za-z0-9_-`) or quoted parts.
    mutating func key() throws(TOMLError) -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            guard let c = current else { throw fail("expected a key") }
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                parts.append(try string())
            } else {
                let start = index
                while let d = current, isBareKeyByte(d) { index += 1 }
                guard index > start else { throw fail("expected a key, found '\(Character(Unicode.Scalar(c)))'") }
                parts.append(String(decoding: bytes[start..<index], as: UTF8.self))
            }
            skipSpaces()
            guard current == UInt8(ascii: ".") else { return parts }
            index += 1
        }
    }

    func isBareKeyByte(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 45
    }

    mutating func value() throws(TOMLError) -> TOMLValue {
        let valueLine = line
        guard let c = current else { throw fail("expected a value") }
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return TOMLValue(kind: .string(try string()), line: valueLine)
        case UInt8(ascii: "["):
            index += 1
            var items: [TOMLValue] = []
            while true {
                skipWhitespaceAndComments(newlines: true)
                if current == UInt8(ascii: "]") { index += 1; break }
                items.append(try value())
                skipWhitespaceAndComments(newlines: true)
                if current == UInt8(ascii: ",") { index += 1; continue }
                guard current == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in the array") }
                index += 1
                break
            }
            return TOMLValue(kind: .array(items), line: valueLine)
        case UInt8(ascii: "{"):
            index += 1
            var table = TOMLTable(line: valueLine)
            skipSpaces()
            if current == UInt8(ascii: "}") { index += 1; return TOMLValue(kind: .table(table), line: valueLine) }
            while true {
                skipSpaces()
                let path = try key()
                skipSpaces()
                guard current == UInt8(ascii: "=") else { throw fail("expected '=' in the inline table") }
                index += 1
                skipSpaces()
                try Parser.assign(&table, path: path, value: try value(), line: valueLine)
                skipSpaces()
                if current == UInt8(ascii: ",") { index += 1; continue }
                guard current == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in the inline table") }
                index += 1
                break
            }
            return TOMLValue(kind: .table(table), line: valueLine)
        default:
            let start = index
            while let d = current, !(d == 32 || d == 9 || d == 10 || d == 13 || d == UInt8(ascii: ",")
                                     || d == UInt8(ascii: "]") || d == UInt8(ascii: "}") || d == UInt8(ascii: "#")) {
                index += 1
            }
            let token = String(decoding: bytes[start..<index], as: UTF8.self)
            guard let kind = Parser.scalar(token) else {
                if token.contains("-") || token.contains(":") {
                    throw fail("'\(token)' is not supported here; write dates and times as a quoted string, e.g. \"\(token)\"")
                }
                throw fail("'\(token)' is not a valid value; strings need quotes, e.g. \"\(token)\"")
            }
            return TOMLValue(kind: kind, line: valueLine)
        }
    }

    static func scalar(_ token: String) -> TOMLValue.Kind? {
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf", "-inf", "nan", "+nan", "-nan": return nil
        default: break
        }
        let plain = token.replacingUnderscores()
        guard !plain.isEmpty else { return nil }
        if let integer = Int64(plain) { return .integer(integer) }
        if plain.hasPrefix("0x"), let integer = Int64(plain.dropFirst(2), radix: 16) { return .integer(integer) }
        if plain.allSatisfy({ $0.isNumber || "+-.eE".contains($0) }), let double = Double(plain), double.isFinite {
            return .float(double)
        }
        return nil
    }

    mutating func string() throws(TOMLError) -> String {
        let quote = bytes[index]
        if index + 2 < bytes.count, bytes[index + 1] == quote, bytes[index + 2] == quote {
            throw fail("multi-line strings are not supported in this configuration; use one line")
        }
        index += 1
        var out: [UInt8] = []
        while true {
            guard let c = current, c != 10 else { throw fail("the string is not closed on this line") }
            index += 1
            if c == quote { break }
            if c == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                guard let e = current else { throw fail("the string ends with a lone backslash") }
                index += 1
                switch e {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "\""): out.append(34)
                case UInt8(ascii: "\\"): out.append(92)
                case UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let width = e == UInt8(ascii: "u") ? 4 : 8
                    guard index + width <= bytes.count,
                          let code = UInt32(String(decoding: bytes[index..<(index + width)], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(code) else { throw fail("invalid \\u escape in the string") }
                    index += width
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw fail("unknown escape '\\\(Character(Unicode.Scalar(e)))' in the string; write '\\\\' for a backslash")
                }
            } else {
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

private extension String {
    func replacingUnderscores() -> String {
        var s = self
        s.removeAll { $0 == "_" }
        return s
    }
}
