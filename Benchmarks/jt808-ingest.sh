#!/usr/bin/env bash
# The centre's JT/T 808 listener: TERMINALS terminals (default 1,000) each reporting every INTERVAL
# seconds (default 10) for DURATION seconds (default 120) to a real `patrol-centre serve`; prints
# sustained points/s, 0x0200 -> 0x8001 latency p50/p99, the centre's CPU and RSS (jt808_ingest.py).
#
# Usage: Benchmarks/jt808-ingest.sh [release|debug] [TERMINALS] [INTERVAL] [DURATION]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
configuration="${1:-release}"
if [[ "$configuration" == release ]]; then
    (cd "$root" && swift build -c release --static-swift-stdlib --product patrol-centre >&2)
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$root/Benchmarks/jt808_ingest.py" "$root/.build/$configuration/patrol-centre" "$work" "${2:-1000}" "${3:-10}" "${4:-120}"
