#!/usr/bin/env bash
# JT/T 808 benchmark: a 24 h, 1 Hz backlog (86,400 points) drains from a real patrol-agent with
# `[[uplink]] kind = "jt808"` to a JT/T 808 platform written in Python from the standard (not the
# Swift codec), through a byte-counting proxy, while a button box presses panic. Prints drain
# time, press -> platform's 0x8001 p50/p99, bytes per point on the wire, heartbeat bytes per hour,
# and compares the agent's store with the positions the platform decoded (jt808_drain.py).
#
# Usage: Benchmarks/jt808-drain.sh [release|debug] [IDLE_SECONDS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
configuration="${1:-release}"
idle="${2:-150}"
if [[ "$configuration" == release ]]; then
    (cd "$root" && swift build -c release --static-swift-stdlib --product patrol-agent >&2)
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$root/Benchmarks/synthetic-nmea.py" --seconds 86400 --noise > "$work/day.nmea"
python3 "$root/Benchmarks/jt808_drain.py" "$root/.build/$configuration/patrol-agent" "$work" "$work/day.nmea" "$idle"
