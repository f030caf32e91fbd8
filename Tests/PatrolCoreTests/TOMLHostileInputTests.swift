import Testing
@testable import PatrolCore

/// Files a careless technician or a hostile one could hand `config check`, the centre or the plan
/// reader: each gets a clear error naming its line, never a crash or unbounded time and memory.
@Suite struct TOMLHostileInputTests {
    private func error(_ text: String) throws -> TOMLError {
        try #require(throws: TOMLError.self) { try TOMLParser.parse(text) }
    }

    /// 50,000 nested arrays or inline tables overflowed the stack (SIGSEGV) in the recursive parser.
    @Test func deepArraysAndInlineTablesAreRefusedWithTheLimit() throws {
        let depth = 50_000
        for text in ["a = " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth),
                     "a = " + String(repeating: "{ b = ", count: depth) + "1" + String(repeating: " }", count: depth)] {
            let error = try error("x = 1\n" + text + "\n")
            #expect(error.line == 2)
            #expect(error.message.contains("nested more than \(TOMLParser.maximumDepth) deep"), "\(error.message)")
        }
        // The limit itself is usable.
        let limit = TOMLParser.maximumDepth
        _ = try TOMLParser.parse("a = " + String(repeating: "[", count: limit) + String(repeating: "]", count: limit))
    }

    /// Deep dotted keys and table headers took memory quadratic in their depth (100,000: killed at 17 GB).
    @Test func deepDottedKeysAndHeadersAreRefusedWithTheLimit() throws {
        let key = Array(repeating: "k", count: 100_000).joined(separator: ".")
        for text in [key + " = 1\n", "[" + key + "]\n", "[[" + key + "]]\n"] {
            let error = try error(text)
            #expect(error.line == 1)
            #expect(error.message.contains("more than \(TOMLParser.maximumDepth) dotted parts"), "\(error.message)")
        }
    }

    /// Every `[[checkpoint]]` copied the array before it, and every dotted key the table it went
    /// into: 20,000 tables took over 20 s. Timed as a ratio (eight times the input must take well
    /// under the 64 times a quadratic parser takes; linear is 8), so a busy machine slows both alike.
    @Test func manyTablesAndKeysParseInLinearTime() throws {
        func document(_ count: Int) -> String {
            var text = ""
            for i in 0..<count { text += "[[checkpoint]]\nid = \"cp-\(i)\"\nlat = 52.5\nlon = 13.4\n" }
            text += "[dotted]\n"
            for i in 0..<count { text += "a.k\(i) = \(i)\n" }
            return text
        }
        func fastest(_ text: String, runs: Int) throws -> Duration {
            var best = Duration.seconds(1000)
            for _ in 0..<runs {
                let started = ContinuousClock.now
                let table = try TOMLParser.parse(text)
                best = min(best, ContinuousClock.now - started)
                #expect(table["checkpoint"] != nil)
            }
            return best
        }
        let small = try fastest(document(2000), runs: 5)
        let large = try fastest(document(16_000), runs: 2)
        #expect(large < small * 20, "2,000 tables: \(small), 16,000: \(large)")
        let table = try TOMLParser.parse(document(16_000))
        guard case .array(let checkpoints) = table["checkpoint"]?.kind else { Issue.record("no checkpoints"); return }
        #expect(checkpoints.count == 16_000)
        #expect(checkpoints.last?.line == 4 * 15_999 + 1)
    }

    @Test func aByteOrderMarkIsAccepted() throws {
        let table = try TOMLParser.parse("\u{FEFF}[device]\nid = \"car-1\"\n")
        guard case .table(let device) = table["device"]?.kind else { Issue.record("no device table"); return }
        #expect(device["id"] == TOMLValue(kind: .string("car-1"), line: 2))
    }

    @Test func aNulByteIsNamedWithItsLineAndColumn() throws {
        let error = try error("a = 1\nb = \"x\0y\"\n")
        #expect(error.line == 2)
        #expect(error.message.contains("NUL byte") && error.message.contains("column 7"), "\(error.message)")
    }

    @Test func infinityAndNaNAreNamedAsNotAllowed() throws {
        for token in ["-inf", "inf", "+inf", "nan"] {
            let error = try error("max_speed = \(token)\n")
            #expect(error.message.contains("infinity and NaN are not valid"), "\(token): \(error.message)")
        }
    }

    @Test func wholeNumbersOutOfRangeSaySo() throws {
        for token in ["100000000000000000000000000000", "-9_223_372_036_854_775_809", "0x1_0000_0000_0000_0000"] {
            let error = try error("port = \(token)\n")
            #expect(error.message.contains("out of range for a whole number"), "\(token): \(error.message)")
        }
        #expect(try error("x = 1e400\n").message.contains("out of range for a number"))
        #expect(try TOMLParser.parse("x = -9_223_372_036_854_775_808\n")["x"]?.kind == .integer(.min))
    }

    @Test func aNonASCIICharacterWhereAKeyBelongsIsShownWhole() throws {
        #expect(try error("é = 1\n").message == "expected a key, found 'é'")
    }
}

@Suite struct TOMLTableStructureTests {
    /// `[[box.button]]` and `[box.serial]` go into the last `[[box]]`; `[box]` itself may not reopen it.
    @Test func headersBelowAnArrayOfTablesGoIntoItsLastTable() throws {
        let table = try TOMLParser.parse("""
            [[box]]
            id = "a"
            [[box]]
            id = "b"
            [[box.button]]
            number = 1
            [[box.button]]
            number = 2
            [box.serial]
            baud = 9600
            """)
        guard case .array(let boxes) = table["box"]?.kind, boxes.count == 2,
              case .table(let last) = boxes[1].kind, case .array(let buttons) = last["button"]?.kind,
              case .table(let serial) = last["serial"]?.kind else { Issue.record("wrong structure: \(table)"); return }
        #expect(buttons.count == 2)
        #expect(buttons.map(\.line) == [5, 7])
        #expect(serial["baud"] == TOMLValue(kind: .integer(9600), line: 10))
        let error = try #require(throws: TOMLError.self) { try TOMLParser.parse("[[box]]\n[box]\n") }
        #expect(error.line == 2)
        let twice = try #require(throws: TOMLError.self) { try TOMLParser.parse("[a.b]\n[a]\n[a]\n") }
        #expect(twice.message == "table [a] is defined twice")
    }
}
