#!/usr/bin/env bash
# Soak test, outside CI: the whole chain (gpsd, patrol-agent, a button box, patrol-centre) runs for
# MINUTES while faults hit it at random (link cut, link stalled, centre answering garbage, centre and
# agent killed with -9); then the agent drains and its store is compared with the centre's.
# Prints presses, events, duplicates, losses, track points, dead letters, faults and the longest
# alarm delay; exits 1 if anything was lost or duplicated. A run is repeated with its --seed (the
# same faults in the same order; process timing still varies). Output and logs: out/soak/.
#
# Usage: scripts/soak.sh [MINUTES] [--seed N] [release|debug]   (defaults: 10, a random seed, release)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
minutes=10 seed=$((RANDOM * 32768 + RANDOM)) configuration=release
while [ $# -gt 0 ]; do
    case "$1" in
        --seed) seed="$2"; shift 2 ;;
        release|debug) configuration="$1"; shift ;;
        *) minutes="$1"; shift ;;
    esac
done
command -v gpsfake >/dev/null || { echo "soak: gpsfake is missing; run scripts/setup.sh first" >&2; exit 1; }
if [ "$configuration" = release ]; then
    swift build -c release --static-swift-stdlib --product patrol-agent && swift build -c release --static-swift-stdlib --product patrol-centre
else
    swift build --product patrol-agent && swift build --product patrol-centre
fi
work="$root/out/soak"
rm -rf "$work" && mkdir -p "$work"
exec python3 scripts/soak.py "$root/.build/$configuration/patrol-agent" "$root/.build/$configuration/patrol-centre" \
    "$work" "$minutes" "$seed"
