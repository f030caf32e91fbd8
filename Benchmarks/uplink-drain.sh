#!/usr/bin/env bash
# Uplink benchmark: a 24 h, 1 Hz backlog (86,400 points) drains to a real patrol-centre through a
# byte-counting proxy while a button box presses panic; prints drain time, press -> committed at
# centre p50/p99, bytes per track point on the wire and heartbeat bytes per hour (uplink_drain.py).
#
# --tls: the centre serves TLS (a CA and certificate made with openssl) and the agent uses https
# with that CA, so the bytes counted are the TLS records as deployed.
#
# Usage: Benchmarks/uplink-drain.sh [release|debug] [IDLE_SECONDS] [--tls]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tls=()
positional=()
for argument in "$@"; do
    if [[ "$argument" == --tls ]]; then tls=(--tls); else positional+=("$argument"); fi
done
configuration="${positional[0]:-release}"
idle="${positional[1]:-150}"
if [[ "$configuration" == release ]]; then
    (cd "$root" && swift build -c release --static-swift-stdlib --product patrol-agent >&2 && swift build -c release --static-swift-stdlib --product patrol-centre >&2)
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$root/Benchmarks/synthetic-nmea.py" --seconds 86400 --noise > "$work/day.nmea"
python3 "$root/Benchmarks/uplink_drain.py" "$root/.build/$configuration/patrol-agent" "$root/.build/$configuration/patrol-centre" \
    "$work" "$work/day.nmea" "$idle" "${tls[@]}"
