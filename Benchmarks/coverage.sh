#!/usr/bin/env bash
# Coverage of 100 units × 8 h × 1 Hz (2.82 M points, each unit silent for ten minutes) in the
# centre's SQLite store: builds the release patrol-centre, fills a fresh store through the real
# ingest API, then times `patrol-centre coverage` for all units (CSV, then the HTML map page) and
# prints the median, min and max wall time and the peak RSS of the coverage process.
#
# With DAYS 7, a week of those shifts (20.2 M points) also summed up per area and unit; with
# --duty after DAYS, every unit's person signs on for each shift and `duty report` is timed too.
# With --backend both after DAYS, the same points also go into PostgreSQL (a server this starts) and
# each run times coverage on SQLite, on PostgreSQL and the plain PostGIS query for the same cells,
# checking that all three count the same cells.
#
# Usage: Benchmarks/coverage.sh [RUNS] [UNITS] [HOURS] [DAYS] [--duty] [--backend sqlite|postgres|both]   (defaults: 5 100 8 1)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
swift build -c release --static-swift-stdlib --product patrol-centre >&2
exec python3 Benchmarks/coverage_benchmark.py --binary .build/release/patrol-centre \
    --runs "${1:-5}" --units "${2:-100}" --hours "${3:-8}" --days "${4:-1}" "${@:5}"
