import PatrolCore

/// A configuration file as a technician may leave it: arbitrary bytes through the TOML parser, and
/// every value of a parsed file through the checked readers the agent's, centre's and plan's
/// configuration readers are built from.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTOML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let table = try? TOMLParser.parse(String(decoding: bytes, as: UTF8.self)) else { return 0 }
    let reader = ConfigReader(table)
    read(table, with: reader)
    do { try reader.finish(file: "fuzz.toml") } catch {
        for problem in error.problems { check(problem.line >= 1, "problem without a line: \(problem)") }
    }
    return 0
}

/// Reads every key the way its type suggests, so each checked accessor sees hostile values.
private func read(_ table: TOMLTable, with reader: ConfigReader) {
    for key in table.keys {
        switch table[key]?.kind {
        case .table(let sub): read(sub, with: reader.table(key))
        case .array(let items) where items.contains(where: { if case .table = $0.kind { true } else { false } }):
            for (item, sub) in zip(items, reader.tables(key)) { if case .table(let t) = item.kind { read(t, with: sub) } }
        case .array: _ = reader.strings(key)
        case .string: _ = reader.time(key); _ = reader.choice(key, ["a", "b"], default: "a")
        case .integer: _ = reader.integer(key, default: 0, in: -1000...1000)
        case .float: _ = reader.number(key, default: 0, in: -1e9...1e9)
        case .boolean: _ = reader.bool(key, default: false)
        case nil: break
        }
    }
}
