/// One problem found in a configuration file, pointing at the line and key.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    /// Dotted key, e.g. `track.moving.distance`.
    public var key: String
    public var message: String

    public init(line: Int, key: String, message: String) {
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String { "line \(line): \(key): \(message)" }
}

/// All problems found in one configuration file. Reading does not stop at the first one, so a
/// technician at a board fixes everything in one go.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var problems: [ConfigProblem]

    public init(file: String, problems: [ConfigProblem]) {
        self.file = file
        self.problems = problems
    }

    public var description: String {
        problems.map { "\(file):\($0.line): \($0.key): \($0.message)" }.joined(separator: "\n")
    }
}

/// Typed, checked access to a TOML table that remembers what it read, so that every key the
/// program does not know is reported (a misspelt `max_hdpo` must not silently fall back to a default).
public final class ConfigReader {
    private let table: TOMLTable
    private let prefix: String
    private var used: Set<String> = []
    private let sink: ProblemSink
    private var children: [ConfigReader] = []

    /// Collects problems from a reader and all its sub-readers.
    final class ProblemSink {
        var problems: [ConfigProblem] = []
    }

    public convenience init(_ table: TOMLTable) {
        self.init(table: table, prefix: "", sink: ProblemSink())
    }

    private init(table: TOMLTable, prefix: String, sink: ProblemSink) {
        self.table = table
        self.prefix = prefix
        self.sink = sink
    }

    private func path(_ key: String) -> String { prefix.isEmpty ? key : prefix + "." + key }

    /// Records a problem for `key` (use for checks across several keys).
    public func problem(_ key: String, _ message: String) {
        sink.problems.append(ConfigProblem(line: line(of: key), key: path(key), message: message))
    }

    /// The line `key` is on (the table's line when it is absent): for problems found after reading,
    /// such as a file the key names that turns out unusable when the program starts.
    public func line(of key: String) -> Int {
        max(table[key]?.line ?? table.line, 1)
    }

    private func lookup(_ key: String) -> TOMLValue? {
        used.insert(key)
        return table[key]
    }

    private func wrongType(_ key: String, _ value: TOMLValue, expected: String) {
        problem(key, "expected \(expected), found \(value.typeName)")
    }

    /// The sub-table `key`, empty when absent.
    public func table(_ key: String) -> ConfigReader {
        var inner = TOMLTable(line: table.line)
        if let value = lookup(key) {
            if case .table(let t) = value.kind { inner = t } else { wrongType(key, value, expected: "a table [\(path(key))]") }
        }
        let child = ConfigReader(table: inner, prefix: path(key), sink: sink)
        children.append(child)
        return child
    }

    /// Every table of the array of tables `[[key]]`.
    public func tables(_ key: String) -> [ConfigReader] {
        guard let value = lookup(key) else { return [] }
        guard case .array(let items) = value.kind else {
            wrongType(key, value, expected: "an array of tables [[\(path(key))]]")
            return []
        }
        return items.enumerated().compactMap { offset, item in
            guard case .table(let t) = item.kind else {
                wrongType(key, item, expected: "tables")
                return nil
            }
            let child = ConfigReader(table: t, prefix: "\(path(key))[\(offset)]", sink: sink)
            children.append(child)
            return child
        }
    }

    public func has(_ key: String) -> Bool { table[key] != nil }

    public func string(_ key: String) -> String? {
        guard let value = lookup(key) else { return nil }
        guard case .string(let s) = value.kind else { wrongType(key, value, expected: "a quoted string"); return nil }
        return s
    }

    /// An array of strings, e.g. `supply_lines = ["dtr", "rts"]`.
    public func strings(_ key: String) -> [String]? {
        guard let value = lookup(key) else { return nil }
        guard case .array(let items) = value.kind else { wrongType(key, value, expected: "an array of quoted strings"); return nil }
        return items.compactMap { item in
            guard case .string(let s) = item.kind else { wrongType(key, item, expected: "quoted strings"); return nil }
            return s
        }
    }

    public func string(_ key: String, default fallback: String) -> String {
        string(key) ?? fallback
    }

    /// A string that must be one of `choices`.
    public func choice(_ key: String, _ choices: [String], default fallback: String) -> String {
        guard let s = string(key) else { return fallback }
        guard choices.contains(s) else {
            problem(key, "'\(s)' is not one of: \(choices.joined(separator: ", "))")
            return fallback
        }
        return s
    }

    public func bool(_ key: String, default fallback: Bool) -> Bool {
        guard let value = lookup(key) else { return fallback }
        guard case .boolean(let b) = value.kind else { wrongType(key, value, expected: "true or false"); return fallback }
        return b
    }

    public func integer(_ key: String, default fallback: Int, in range: ClosedRange<Int>) -> Int {
        guard let value = lookup(key) else { return fallback }
        guard case .integer(let i) = value.kind else { wrongType(key, value, expected: "a whole number"); return fallback }
        guard let n = Int(exactly: i), range.contains(n) else {
            problem(key, "\(i) is out of range; use \(range.lowerBound) to \(range.upperBound)")
            return fallback
        }
        return n
    }

    /// A number (integer or float) in `range`; `nil` default means "off unless set".
    public func number(_ key: String, default fallback: Double?, in range: ClosedRange<Double>) -> Double? {
        guard let value = lookup(key) else { return fallback }
        let number: Double
        switch value.kind {
        case .integer(let i): number = Double(i)
        case .float(let f): number = f
        default: wrongType(key, value, expected: "a number"); return fallback
        }
        guard range.contains(number) else {
            problem(key, "\(FixedDecimal.format(number, decimals: 6)) is out of range; use \(FixedDecimal.format(range.lowerBound, decimals: 6)) to \(FixedDecimal.format(range.upperBound, decimals: 6))")
            return fallback
        }
        return number
    }

    public func number(_ key: String, default fallback: Double, in range: ClosedRange<Double>) -> Double {
        number(key, default: Optional(fallback), in: range) ?? fallback
    }

    /// A UTC date or date-time written as a quoted string.
    public func time(_ key: String) -> UTCTime? {
        guard let s = string(key) else { return nil }
        guard let t = UTCTime(iso8601: s) else {
            problem(key, "'\(s)' is not a date; write e.g. \"2020-01-01\" or \"2020-01-01T00:00:00Z\"")
            return nil
        }
        return t
    }

    /// Reports unknown keys here and in every sub-table read, then throws all problems at once.
    public func finish(file: String) throws(ConfigError) {
        reportUnknownKeys()
        guard sink.problems.isEmpty else {
            throw ConfigError(file: file, problems: sink.problems.sorted { ($0.line, $0.key) < ($1.line, $1.key) })
        }
    }

    private func reportUnknownKeys() {
        for key in table.keys where !used.contains(key) {
            problem(key, "unknown key; check the spelling against Config/*.toml")
        }
        for child in children { child.reportUnknownKeys() }
    }
}
