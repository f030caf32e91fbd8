#!/usr/bin/env bash
# Panic commit latency at a release patrol-centre, quiet and while one device floods it with 200
# concurrent 2,000-point batches (alarm_under_flood.py): p50/p99/max of both, side by side.
#
# Usage: Benchmarks/alarm-under-flood.sh [PANICS] [FLOOD_DEVICES] [--hostile]     (defaults: 100 1)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
swift build -c release --static-swift-stdlib --product patrol-centre >&2
exec python3 Benchmarks/alarm_under_flood.py --binary .build/release/patrol-centre \
    --panics "${1:-100}" --flood-devices "${2:-1}" "${@:3}"
