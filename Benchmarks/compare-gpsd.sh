#!/usr/bin/env bash
# How closely `patrol-agent nmea decode` agrees with gpsd 3.22 on gpsd's regression logs.
#
# Usage: Benchmarks/compare-gpsd.sh [LOG_DIR]
#   LOG_DIR  folder with the logs, their .chk files and compare.py (default:
#            ../shared/gpsd-logs beside the repository, else /work/shared/gpsd-logs)
#
# Builds the release binary and runs compare.py, which prints per log gpsd's fixes, how many we
# matched, differ, miss or add, then the total line. The target: at least 99.5% matched and
# extra fixes at most 1% of gpsd's.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
logs="${1:-}"
if [[ -z "$logs" ]]; then
    logs="$root/../shared/gpsd-logs"
    [[ -d "$logs" ]] || logs=/work/shared/gpsd-logs
fi
[[ -f "$logs/compare.py" ]] || { echo "no compare.py in $logs" >&2; exit 1; }

(cd "$root" && swift build -c release --static-swift-stdlib --product patrol-agent >&2)
python3 "$logs/compare.py" --decoder "$root/.build/release/patrol-agent nmea decode" "$logs"
