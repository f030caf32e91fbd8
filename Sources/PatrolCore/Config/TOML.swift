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
///
/// The files come from technicians and operators, so the parser is linear in the file's size and
/// refuses nesting deeper than `maximumDepth`: no input makes it recurse without bound (a stack
/// overflow) or copy what it has read so far for every new line (quadratic time and memory).
public enum TOMLParser {
    /// How deep arrays and inline tables may nest, and how many parts a dotted key or a table
    /// header may have. A configuration needs three or four levels; the bound keeps the parser's
    /// recursion, and that of everything walking the result, far from the stack's limit.
    public static let maximumDepth = 64

    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        var parser = Parser(bytes: Array(text.utf8))
        return try parser.document()
    }
}

/// A table while the document is read. Table headers and dotted keys add to tables defined
/// earlier; holding them by reference lets them do so in place, where value-typed tables copied
/// everything on the path to the table (with `[[checkpoint]]`, the whole array) for every line.
private final class TableBuilder {
    enum Entry {
        /// A finished value: a scalar, an array or an inline table; nothing can be added to it.
        case value(TOMLValue)
        case table(TableBuilder)
        case tables(TableArrayBuilder)
    }

    let line: Int
    /// Whether a `[header]` named this table: a second one is an error.
    var hasHeader = false
    private var keys: [String] = []
    private var entries: [String: Entry] = [:]

    init(line: Int) { self.line = line }

    subscript(key: String) -> Entry? { entries[key] }

    func set(_ key: String, _ entry: Entry) {
        if entries.updateValue(entry, forKey: key) == nil { keys.append(key) }
    }

    /// The value-typed table; nested builders are built once each, so this is linear too.
    func built() -> TOMLTable {
        var table = TOMLTable(line: line)
        for key in keys {
            switch entries[key]! {
            case .value(let value): table.insert(key, value)
            case .table(let inner): table.insert(key, TOMLValue(kind: .table(inner.built()), line: inner.line))
            case .tables(let array):
                let items = array.items.map { TOMLValue(kind: .table($0.built()), line: $0.line) }
                table.insert(key, TOMLValue(kind: .array(items), line: array.line))
            }
        }
        return table
    }
}

/// An array of tables `[[name]]`, first declared on `line`: appended to in place.
private final class TableArrayBuilder {
    let line: Int
    var items: [TableBuilder]

    init(line: Int) {
        self.line = line
        items = [TableBuilder(line: line)]
    }
}

private struct Parser {
    let bytes: [UInt8]
    var index = 0
    var line = 1

    init(bytes: [UInt8]) {
        self.bytes = bytes
        // Editors on Windows write a UTF-8 byte order mark; it carries no meaning in UTF-8.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    func fail(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

    mutating func document() throws(TOMLError) -> TOMLTable {
        try rejectControlCharacters()
        let root = TableBuilder(line: 0)
        var current = root
        while true {
            skipWhitespaceAndComments(newlines: true)
            guard let c = self.current else { break }
            if c == UInt8(ascii: "[") {
                index += 1
                let isArray = self.current == UInt8(ascii: "[")
                if isArray { index += 1 }
                skipSpaces()
                let path = try key()
                skipSpaces()
                guard self.current == UInt8(ascii: "]") else { throw fail("expected ']' to close the table header") }
                index += 1
                if isArray {
                    guard self.current == UInt8(ascii: "]") else { throw fail("expected ']]' to close the array-of-tables header") }
                    index += 1
                    current = try appendArrayTable(root, path: path)
                } else {
                    current = try table(root, path: path, isHeader: true)
                    guard !current.hasHeader else {
                        throw fail("table [\(path.joined(separator: "."))] is defined twice")
                    }
                    current.hasHeader = true
                }
                try endOfLine()
            } else {
                let keyLine = line
                let path = try key()
                skipSpaces()
                guard self.current == UInt8(ascii: "=") else { throw fail("expected '=' after key '\(path.joined(separator: "."))'") }
                index += 1
                skipSpaces()
                try assign(current, path: path, value: try value(depth: 1), line: keyLine)
                try endOfLine()
            }
        }
        return root.built()
    }

    /// Refuses control characters other than tab and line ends before parsing: a NUL in a file is
    /// damage (a cut write, a binary copied over it), and would otherwise surface as a puzzling
    /// "expected a key" somewhere else.
    func rejectControlCharacters() throws(TOMLError) {
        var line = 1
        var column = 1
        for byte in bytes[index...] {
            if byte == 10 {
                line += 1
                column = 1
                continue
            }
            if byte < 32 && byte != 9 && byte != 13 || byte == 127 {
                let name = byte == 0 ? "a NUL byte (0x00)" : "the control character 0x\(String(byte, radix: 16, uppercase: true))"
                throw TOMLError(line: line, message: "column \(column): \(name); the file is damaged or not plain "
                    + "text: remove the character, or restore the file from its original")
            }
            if byte & 0xC0 != 0x80 { column += 1 } // count characters, not UTF-8 continuation bytes
        }
    }

    /// The table at `path` below `root`, creating tables as needed; a path through an array of
    /// tables goes into its last table. A `[header]` (`isHeader`) must not name an array of tables
    /// itself; the parent of a `[[header]]` may.
    func table(_ root: TableBuilder, path: [String], isHeader: Bool) throws(TOMLError) -> TableBuilder {
        var table = root
        for (offset, name) in path.enumerated() {
            switch table[name] {
            case nil:
                let inner = TableBuilder(line: line)
                table.set(name, .table(inner))
                table = inner
            case .table(let inner):
                table = inner
            case .tables(let array) where !isHeader || offset < path.count - 1:
                table = array.items[array.items.count - 1]
            case .tables(let array):
                throw fail("'\(name)' is an array of tables (line \(array.line)); write [[\(path.joined(separator: "."))]] to add one")
            case .value(let value):
                if case .table = value.kind {
                    throw fail("'\(name)' is an inline table (line \(value.line)), which cannot be added to; "
                        + "write its keys under a [\(path.prefix(offset + 1).joined(separator: "."))] header instead")
                }
                throw fail("'\(name)' is already a value (line \(value.line)), not a table")
            }
        }
        return table
    }

    /// Appends a table to the array of tables at `path` (a `[[header]]`), creating the array when new.
    func appendArrayTable(_ root: TableBuilder, path: [String]) throws(TOMLError) -> TableBuilder {
        let parent = try table(root, path: Array(path.dropLast()), isHeader: false)
        let name = path[path.count - 1]
        switch parent[name] {
        case nil:
            let array = TableArrayBuilder(line: line)
            parent.set(name, .tables(array))
            return array.items[0]
        case .tables(let array):
            let inner = TableBuilder(line: line)
            array.items.append(inner)
            return inner
        case .table(let existing):
            throw fail("'\(name)' is already defined on line \(existing.line) and is not an array of tables")
        case .value(let existing):
            throw fail("'\(name)' is already defined on line \(existing.line) and is not an array of tables")
        }
    }

    /// Sets the dotted key `path` in `table`, creating the tables its leading parts name.
    func assign(_ table: TableBuilder, path: [String], value: TOMLValue, line: Int) throws(TOMLError) {
        var table = table
        for name in path.dropLast() {
            switch table[name] {
            case nil:
                let inner = TableBuilder(line: line)
                table.set(name, .table(inner))
                table = inner
            case .table(let inner):
                table = inner
            case .tables(let array):
                throw TOMLError(line: line, message: "key '\(name)' is already set on line \(array.line)")
            case .value(let existing):
                throw TOMLError(line: line, message: "key '\(name)' is already set on line \(existing.line)")
            }
        }
        let name = path[path.count - 1]
        switch table[name] {
        case nil: table.set(name, .value(value))
        case .table(let existing): throw TOMLError(line: line, message: "key '\(name)' is already set on line \(existing.line)")
        case .tables(let existing): throw TOMLError(line: line, message: "key '\(name)' is already set on line \(existing.line)")
        case .value(let existing): throw TOMLError(line: line, message: "key '\(name)' is already set on line \(existing.line)")
        }
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
                guard index > start else { throw fail("expected a key, found '\(character(at: start))'") }
                parts.append(String(decoding: bytes[start..<index], as: UTF8.self))
            }
            skipSpaces()
            guard current == UInt8(ascii: ".") else { return parts }
            guard parts.count < TOMLParser.maximumDepth else {
                throw fail("the key has more than \(TOMLParser.maximumDepth) dotted parts; a configuration needs only a few")
            }
            index += 1
        }
    }

    func isBareKeyByte(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 45
    }

    /// The whole character starting at `offset` (a byte alone would show 'ï' for any non-ASCII one).
    func character(at offset: Int) -> Character {
        String(decoding: bytes[offset..<min(offset + 4, bytes.count)], as: UTF8.self).first ?? "?"
    }

    /// A value nested `depth` levels deep in arrays and inline tables (1 for a key's own value).
    mutating func value(depth: Int) throws(TOMLError) -> TOMLValue {
        let valueLine = line
        guard let c = current else { throw fail("expected a value") }
        if (c == UInt8(ascii: "[") || c == UInt8(ascii: "{")) && depth > TOMLParser.maximumDepth {
            throw fail("arrays and inline tables are nested more than \(TOMLParser.maximumDepth) deep; "
                + "a configuration needs only a few levels")
        }
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return TOMLValue(kind: .string(try string()), line: valueLine)
        case UInt8(ascii: "["):
            index += 1
            var items: [TOMLValue] = []
            while true {
                skipWhitespaceAndComments(newlines: true)
                if current == UInt8(ascii: "]") { index += 1; break }
                items.append(try value(depth: depth + 1))
                skipWhitespaceAndComments(newlines: true)
                if current == UInt8(ascii: ",") { index += 1; continue }
                guard current == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in the array") }
                index += 1
                break
            }
            return TOMLValue(kind: .array(items), line: valueLine)
        case UInt8(ascii: "{"):
            index += 1
            let table = TableBuilder(line: valueLine)
            skipSpaces()
            if current == UInt8(ascii: "}") { index += 1; return TOMLValue(kind: .table(table.built()), line: valueLine) }
            while true {
                skipSpaces()
                let path = try key()
                skipSpaces()
                guard current == UInt8(ascii: "=") else { throw fail("expected '=' in the inline table") }
                index += 1
                skipSpaces()
                try assign(table, path: path, value: try value(depth: depth + 1), line: valueLine)
                skipSpaces()
                if current == UInt8(ascii: ",") { index += 1; continue }
                guard current == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in the inline table") }
                index += 1
                break
            }
            return TOMLValue(kind: .table(table.built()), line: valueLine)
        default:
            let start = index
            while let d = current, !(d == 32 || d == 9 || d == 10 || d == 13 || d == UInt8(ascii: ",")
                                     || d == UInt8(ascii: "]") || d == UInt8(ascii: "}") || d == UInt8(ascii: "#")) {
                index += 1
            }
            let token = String(decoding: bytes[start..<index], as: UTF8.self)
            return TOMLValue(kind: try scalar(token), line: valueLine)
        }
    }

    /// A bare value: a boolean or a number, each refused with what is wrong with it.
    func scalar(_ token: String) throws(TOMLError) -> TOMLValue.Kind {
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf", "-inf", "nan", "+nan", "-nan":
            throw fail("'\(token)' is not allowed: infinity and NaN are not valid settings; write a finite number")
        default: break
        }
        let plain = token.replacingUnderscores()
        if let integer = Int64(plain) { return .integer(integer) }
        let isHex = plain.hasPrefix("0x")
        if isHex, let integer = Int64(plain.dropFirst(2), radix: 16) { return .integer(integer) }
        let digits = isHex ? plain.dropFirst(2) : plain.first == "+" || plain.first == "-" ? plain.dropFirst() : plain[...]
        if !digits.isEmpty && digits.allSatisfy({ $0.isHexDigit && (isHex || $0.isWholeNumber) }) {
            throw fail("'\(token)' is out of range for a whole number; use \(Int64.min) to \(Int64.max)")
        }
        if !plain.isEmpty, plain.allSatisfy({ $0.isNumber || "+-.eE".contains($0) }), let double = Double(plain) {
            guard double.isFinite else { throw fail("'\(token)' is out of range for a number") }
            return .float(double)
        }
        if token.contains("-") || token.contains(":") {
            throw fail("'\(token)' is not supported here; write dates and times as a quoted string, e.g. \"\(token)\"")
        }
        throw fail("'\(token)' is not a valid value; strings need quotes, e.g. \"\(token)\"")
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
