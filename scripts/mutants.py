#!/usr/bin/env python3
"""Puts small deliberate bugs into the code that guards alarms, one at a time, and checks that the
tests catch each one (a "mutant" the tests do not kill is a loss or duplicate nobody would notice).

Run it before submitting a change to the alarm path (event journal, store, uplink runner, button
box session, centre storage): `scripts/mutants.sh [ID…]`. Each mutant is an exact text
replacement; a replacement whose text is no longer found means the list is stale and is an error,
so the list moves with the code. The source is restored after each mutant, also on Ctrl-C.

Exit status: 0 when every mutant was killed, 1 when one survived, 2 when the list is stale or a
mutant does not compile.
"""
import argparse
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

# id, file, text, replacement, test filter (swift test --filter), the bug in words.
MUTANTS = [
    ("journal-drops-failed-commit", "Sources/PatrolAgent/Runtime/EventJournal.swift",
     "            case .failure(let error):\n",
     "            case .failure(let error):\n                unstored.removeFirst()\n",
     "EventJournalTests",
     "an event whose commit failed is dropped from the in-memory queue"),
    ("journal-stored-before-commit", "Sources/PatrolAgent/Runtime/EventJournal.swift",
     "            let result = await committer.perform",
     "            await indicate(next, .stored)\n            let result = await committer.perform",
     "EventJournalTests",
     "the guard is shown 'stored' before the commit"),
    ("journal-no-retry", "Sources/PatrolAgent/Runtime/EventJournal.swift",
     "            if !unstored.isEmpty { await commitUnstored() }\n",
     "\n",
     "EventJournalTests",
     "events kept after a failed commit are never retried"),
    ("runner-skips-unmentioned-record", "Sources/PatrolUplink/UplinkRunner.swift",
     "                } else {\n                    break\n                }",
     "                } else {\n                    continue\n                }",
     "UplinkRunnerTests/aRecordTheAnswerDoesNotMentionIsSentAgain",
     "delivery progress moves past a record the receiver's answer does not list"),
    ("runner-events-after-track", "Sources/PatrolUplink/UplinkRunner.swift",
     "        if batch.events.isEmpty {\n",
     "        if try batch.events.isEmpty || !store.trackRecords(after: trackProgress, limit: 1).isEmpty {\n",
     "UplinkRunnerTests/anAlarmOvertakesATrackBacklogAndItsAcknowledgementComesBack",
     "alarms wait behind the track backlog"),
    ("box-older-repeat-is-new", "Sources/PatrolCore/Buttons/ButtonBoxSession.swift",
     "if behind < Self.repeatWindow { return true }",
     "if behind == 0 { return true }",
     "ButtonBoxTests",
     "an older repeated box frame (1-63 behind) is taken as a new press"),
    ("box-repeat-is-new", "Sources/PatrolCore/Buttons/ButtonBoxSession.swift",
     "        if isRepeat {\n            counters.duplicates += 1\n            return\n        }\n",
     "        if isRepeat {\n            counters.duplicates += 1\n        }\n",
     "ButtonBoxTests",
     "a repeated box frame is a second press"),
    ("retention-age-deletes-undelivered-events", "Sources/PatrolStore/AgentStore+Retention.swift",
     "let undeliveredMayGo = stream == .track",
     "let undeliveredMayGo = true",
     "RetentionTests",
     "age retention deletes undelivered events"),
    ("retention-size-events-before-track", "Sources/PatrolStore/AgentStore+Retention.swift",
     "                    (.track, delivered.track, false), (.event, delivered.event, false),",
     "                    (.event, delivered.event, false), (.track, delivered.track, false),",
     "RetentionTests",
     "size retention deletes undelivered alarms before undelivered track"),
    ("sequence-reuses-numbers", "Sources/PatrolStore/SequenceReservations.swift",
     "reserved.events = max(reserved.events, highestStoredEvent)",
     "reserved.events = highestStoredEvent",
     "StoreOpeningTests|EventStoreTests|StoreRecoveryTests",
     "event sequence numbers repeat after the database is replaced"),
    ("track-numbers-restart-after-recovery", "Sources/PatrolStore/SequenceReservations.swift",
     "        guard last > reserved.track ?? 0 else { return }\n",
     "        return\n",
     "StoreRecoveryTests",
     "track sequence numbers restart after a replaced store, so the centre drops the new track"),
    ("centre-events-unique-on-time", "Sources/PatrolCentre/Storage/SQLiteCentreStorage.swift",
     "UNIQUE (device, sequence));",
     "UNIQUE (device, time_ms));",
     "CentreStorageTests",
     "the centre keeps one of two alarms a device raised in the same millisecond"),
    ("centre-track-unique-on-time", "Sources/PatrolCentre/Storage/SQLiteCentreStorage.swift",
     "CREATE UNIQUE INDEX track_points_once ON track_points (device, sequence);",
     "CREATE UNIQUE INDEX track_points_once ON track_points (device, time_ms);",
     "CentreStorageTests",
     "the centre keeps one of two track points with the same time"),
    ("centre-alarm-behind-bulk", "Sources/PatrolCentre/Storage/SQLiteCentreStorage.swift",
     "static let trackPointsAlongsideEvents = 64",
     "static let trackPointsAlongsideEvents = Int.max",
     "CentreStorageTests",
     "alarms queue behind bulk track uploads at the centre"),
]


def run(command, log):
    with open(log, "ab") as out:
        return subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", help="mutant ids (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args()
    if args.list:
        for mutant in MUTANTS:
            print(f"{mutant[0]:45} {mutant[5]}")
        return 0
    unknown = set(args.ids) - {m[0] for m in MUTANTS}
    if unknown:
        print(f"mutants: unknown id(s) {', '.join(sorted(unknown))}; see --list", file=sys.stderr)
        return 2
    chosen = [m for m in MUTANTS if not args.ids or m[0] in args.ids]
    for ident, path, text, _, _, _ in chosen:
        count = (ROOT / path).read_text().count(text)
        if count != 1:
            print(f"mutants: {ident}: the text to mutate is found {count} times in {path} (needs exactly 1); "
                  "update scripts/mutants.py to the code as it is now", file=sys.stderr)
            return 2
    log_dir = ROOT / "out" / "mutants"
    log_dir.mkdir(parents=True, exist_ok=True)
    print("mutants: building the unmutated code and its tests first")
    if run(["swift", "build", "--build-tests"], log_dir / "baseline.log") != 0:
        print(f"mutants: the unmutated code does not build (see {log_dir / 'baseline.log'})", file=sys.stderr)
        return 2
    survived, broken = [], []
    for ident, path, text, replacement, tests, meaning in chosen:
        source = ROOT / path
        original = source.read_text()
        log = log_dir / f"{ident}.log"
        log.unlink(missing_ok=True)
        started = time.monotonic()
        try:
            source.write_text(original.replace(text, replacement, 1))
            if run(["swift", "build", "--build-tests"], log) != 0:
                broken.append(ident)
                verdict = "DOES NOT COMPILE"
            elif run(["swift", "test", "--skip-build", "--no-parallel", "--filter", tests], log) == 0:
                survived.append(ident)
                verdict = "SURVIVED"
            else:
                verdict = "killed"
        finally:
            source.write_text(original)
        print(f"  {verdict:16} {ident}: {meaning} ({time.monotonic() - started:.0f} s, log {log.relative_to(ROOT)})",
              flush=True)
    # Leave the build matching the source again.
    run(["swift", "build", "--build-tests"], log_dir / "restore.log")
    killed = len(chosen) - len(survived) - len(broken)
    print(f"mutants: {killed} killed, {len(survived)} survived, {len(broken)} did not compile")
    if broken:
        return 2
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
