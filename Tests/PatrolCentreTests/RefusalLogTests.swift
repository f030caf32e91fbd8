import Logging
import PatrolTestSupport
import Testing
@testable import PatrolCentre

@Suite struct RefusalLogTests {
    @Test func aBurstIsLoggedThenCountedAndSummedUpAfterTheWindow() async throws {
        let (logger, collected) = CollectingLogHandler.logger()
        let refusals = RefusalLog(logger: logger, burst: 3, window: .milliseconds(200))
        for _ in 0..<10 { refusals.refused("refused device request", reason: "bad-signature") }
        refusals.refused("refused staff request", reason: "unknown-token")
        #expect(collected.entries.map(\.message) == [
            "refused device request", "refused device request", "refused device request",
            "3 refusals (bad-signature) logged within 0.2 seconds; until it is over they are only counted",
            "refused staff request",
        ])
        try await Task.sleep(for: .milliseconds(250))
        refusals.refused("refused device request", reason: "bad-signature")
        #expect(collected.entries.map(\.message).suffix(2) == [
            "7 more refusals (bad-signature) were counted but not logged one by one", "refused device request",
        ])
    }

    @Test func clientTextIsShortenedAndCannotForgeLines() {
        #expect(RefusalLog.quoted("car-12") == "car-12")
        #expect(RefusalLog.quoted("car\n2026 notice forged line\\") == "car\\u{a}2026 notice forged line\\\\")
        #expect(RefusalLog.quoted(String(repeating: "x", count: 100)) == String(repeating: "x", count: 64) + "…")
    }
}
