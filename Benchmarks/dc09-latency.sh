#!/usr/bin/env bash
# Press -> ACK from a SIA DC-09 receiver (pysiaalarm 3.2.2 on loopback), measured from outside a real
# patrol-agent: plain, AES-128, and while a 24 h track backlog drains to a real patrol-centre output
# at the same time (dc09_latency.py). Needs scripts/setup.sh's .venv with pysiaalarm.
#
# Usage: Benchmarks/dc09-latency.sh [release|debug] [PRESSES]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
configuration="${1:-release}"
presses="${2:-200}"
if [[ "$configuration" == release ]]; then
    (cd "$root" && swift build -c release --static-swift-stdlib --product patrol-agent >&2 \
        && swift build -c release --static-swift-stdlib --product patrol-centre >&2)
fi
[[ -x "$root/.venv/bin/python" ]] || { echo "run scripts/setup.sh first (it installs pysiaalarm into .venv)" >&2; exit 1; }
work="$(mktemp -d /tmp/dc09-latency.XXXXXX)"   # on disk: a tmpfs would make fsync free
python3 "$root/Benchmarks/synthetic-nmea.py" --seconds 86400 --noise > "$work/day.nmea"
"$root/.venv/bin/python" "$root/Benchmarks/dc09_latency.py" "$root/.build/$configuration/patrol-agent" \
    "$root/.build/$configuration/patrol-centre" "$work" "$work/day.nmea" "$presses" \
    || { echo "(logs and stores kept in $work)" >&2; exit 1; }
rm -rf "$work"
