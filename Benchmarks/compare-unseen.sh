#!/usr/bin/env bash
# The compare.py check on receiver logs that are NOT in ../shared/gpsd-logs: for each log given (or,
# without arguments, synthetic drives with several talkers made by Benchmarks/synthetic-nmea.py),
# the reference is made here by the installed gpsd 3.22 exactly as gpsd's own regression driver
# makes its .chk files (`gpsfake -1 -p -t`: once, pipe mode, TCP), then compare.py scores
# `patrol-agent nmea decode`.
#
# Usage: Benchmarks/compare-unseen.sh [LOG...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="$root/../shared/gpsd-logs"; [[ -d "$shared" ]] || shared=/work/shared/gpsd-logs
(cd "$root" && swift build -c release --static-swift-stdlib --product patrol-agent >&2)
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
if [[ $# -eq 0 ]]; then
    python3 "$root/Benchmarks/synthetic-nmea.py" --seconds 600 > "$work/synthetic-gp.log"
    python3 "$root/Benchmarks/synthetic-nmea.py" --seconds 600 --start 2026-02-28T23:55:00 --lat -33.86 --lon 151.2 \
        | sed 's/\$GP/$GN/' | python3 -c '
import sys
for line in sys.stdin:
    body = line.strip()[1:].split("*")[0]
    c = 0
    for ch in body.encode(): c ^= ch
    print(f"${body}*{c:02X}\r")' > "$work/synthetic-gn.log"
    set -- "$work/synthetic-gp.log" "$work/synthetic-gn.log"
else
    for log in "$@"; do cp "$log" "$work/"; done
    set -- "$work"/*
fi
for log in "$@"; do
    # gpsd's regression driver; keep only gpsd's JSON reports.
    gpsfake -1 -p -t -q -W 2 -P "$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')" "$log" 2>/dev/null \
        | grep -v '"class":"VERSION"\|"class":"DEVICE"\|"class":"WATCH"\|"class":"DEVICES"' > "$log.chk" || true
done
python3 "$shared/compare.py" --decoder "$root/.build/release/patrol-agent nmea decode --pivot 2000-01-01" "$work"
