#!/usr/bin/env bash
# District sustained load: UNITS simulated boards (default 5,000) each reporting every 5 s for MINUTES
# (default 10) to two `patrol-centre serve` instances on one PostgreSQL 15 started for the run, each
# request to either instance at random; prints the answer time p50/p99/max (from the scheduled send
# time), the generator's own lag, errors, stored == sent, database size per unit-day, and CPU and
# RSS per process (district_load.py).
#
# Usage: Benchmarks/district-load.sh [UNITS] [MINUTES] [more district_load.py options]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
swift build -c release --static-swift-stdlib --product patrol-centre >&2
exec python3 Benchmarks/district_load.py --binary .build/release/patrol-centre \
    --units "${1:-5000}" --minutes "${2:-10}" "${@:3}"
