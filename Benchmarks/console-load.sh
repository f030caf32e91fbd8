#!/usr/bin/env bash
# The web console under load: 1,000 simulated units posting signed batches every 10 s and 20
# browsers' live feeds (Server-Sent Events) on a real release patrol-centre: commit-to-event latency
# (p50/p99), ingest answer time, the centre's CPU and RSS, the full unit list's time and the console's
# first-load size (console_load.py; every run on a fresh centre, medians at the end).
#
# Usage: Benchmarks/console-load.sh [RUNS] [UNITS] [CLIENTS] [SECONDS]     (defaults: 3 1000 20 60)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
swift build -c release --static-swift-stdlib --product patrol-centre >&2
exec python3 Benchmarks/console_load.py --binary .build/release/patrol-centre \
    --runs "${1:-3}" --units "${2:-1000}" --clients "${3:-20}" --seconds "${4:-60}"
