import PatrolAgent
import Testing

/// The watchdog's judgement: idle is alive, waiting too long is stuck, and the clock for waiting
/// starts when the wait does, not at the last commit before an idle hour.
struct PipelineWatchTests {
    let limits = PipelineWatch.Limits(trackCommit: 3000, eventCommit: 10_000, uplinkRound: ["centre": 120_000])

    func seen(at now: Int64, waiting: Int = 0, committedAt: Int64? = nil, eventAt: Int64? = nil,
              uplinkAt: Int64? = nil) -> PipelineWatch.Observation {
        PipelineWatch.Observation(now: now, trackPointsWaiting: waiting, lastTrackCommitAt: committedAt,
                                  oldestUnstoredEventAt: eventAt, uplinkRoundAt: uplinkAt.map { ["centre": $0] } ?? [:])
    }

    @Test func anIdlePipelineIsAliveHoweverLongItIdles() {
        var watch = PipelineWatch(limits: limits, startedAt: 0)
        #expect(watch.judge(seen(at: 3_600_000, committedAt: 5, uplinkAt: 3_590_000)) == nil)
    }

    @Test func pointsAfterAnIdleHourAreJudgedFromWhenTheyBeganToWait() {
        var watch = PipelineWatch(limits: limits, startedAt: 0)
        #expect(watch.judge(seen(at: 3_600_000, committedAt: 1000, uplinkAt: 3_600_000)) == nil)
        #expect(watch.judge(seen(at: 3_601_000, waiting: 1, committedAt: 1000, uplinkAt: 3_600_000)) == nil)
        #expect(watch.judge(seen(at: 3_603_500, waiting: 4, committedAt: 1000, uplinkAt: 3_600_000)) == nil)
        #expect(watch.judge(seen(at: 3_604_500, waiting: 5, committedAt: 1000, uplinkAt: 3_600_000))
                == "5 track points have waited 3 s for a commit")
    }

    @Test func aCommitRestartsTheWaitOfThePointsBehindIt() {
        var watch = PipelineWatch(limits: limits, startedAt: 0)
        #expect(watch.judge(seen(at: 1000, waiting: 1, uplinkAt: 1000)) == nil)
        #expect(watch.judge(seen(at: 3500, waiting: 1, committedAt: 3000, uplinkAt: 3000)) == nil)
        #expect(watch.judge(seen(at: 5500, waiting: 2, committedAt: 3000, uplinkAt: 5000)) == nil)
    }

    @Test func anEventWaitingForItsCommitAndASilentUplinkAreEachStuck() {
        var watch = PipelineWatch(limits: limits, startedAt: 0)
        #expect(watch.judge(seen(at: 20_000, eventAt: 9000, uplinkAt: 19_000)) == "an event has waited 11 s for its commit")
        // An uplink that never finished a round is judged from the start.
        #expect(watch.judge(seen(at: 121_000)) == "uplink centre has not finished a round for 121 s")
    }

    @Test func theNotifierComesFromSystemdsVariablesAndRefusesNonsense() throws {
        let systemd = ["NOTIFY_SOCKET": "@/org/freedesktop/systemd1/notify", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"]
        let notifier = try SystemdNotifier.fromEnvironment({ systemd[$0] }, pid: 42)
        #expect(notifier?.socketName == "@/org/freedesktop/systemd1/notify")
        #expect(notifier?.watchdogInterval == .seconds(30))
        // The watchdog was meant for another process (the agent's parent, say): notify without it.
        #expect(try SystemdNotifier.fromEnvironment({ systemd[$0] }, pid: 43)?.watchdogInterval == nil)
        #expect(try SystemdNotifier.fromEnvironment({ _ in nil }) == nil)
        #expect(throws: SystemdNotifyError.self) {
            try SystemdNotifier.fromEnvironment({ ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "-5"][$0] })
        }
        #expect(throws: SystemdNotifyError.self) { try SystemdNotifier.fromEnvironment({ ["NOTIFY_SOCKET": "relative"][$0] }) }
    }
}
