#!/usr/bin/env bash
# Throughput of `patrol-agent nmea decode` against gpsd's own offline decoder, gpsdecode.
#
# Usage: Benchmarks/nmea-throughput.sh [LOG_DIR] [RUNS]
#   LOG_DIR  folder of gpsd's NMEA logs (default: ../shared/gpsd-logs beside the repository,
#            else /work/shared/gpsd-logs)
#   RUNS     timed runs of each decoder (default 5)
#
# Builds the release binary, concatenates the logs into a ~100 MB file in a temporary folder,
# then times both decoders on it alternately (so machine load hits both alike) and prints the
# median seconds, MB/s and the speed ratio.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
logs="${1:-}"
if [[ -z "$logs" ]]; then
    logs="$root/../shared/gpsd-logs"
    [[ -d "$logs" ]] || logs=/work/shared/gpsd-logs
fi
runs="${2:-5}"
target_bytes=100000000

command -v gpsdecode >/dev/null || { echo "gpsdecode not found (Debian package gpsd-clients)" >&2; exit 1; }
compgen -G "$logs/*.log" >/dev/null || { echo "no *.log files in $logs" >&2; exit 1; }

echo "Building release patrol-agent…" >&2
(cd "$root" && swift build -c release --static-swift-stdlib --product patrol-agent >&2)
agent="$root/.build/release/patrol-agent"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat "$logs"/*.log > "$work/once.nmea"
once=$(stat -c %s "$work/once.nmea")
copies=$(( (target_bytes + once - 1) / once ))
for ((i = 0; i < copies; i++)); do cat "$work/once.nmea"; done > "$work/input.nmea"

python3 - "$work/input.nmea" "$agent" "$runs" <<'PY'
import os, statistics, subprocess, sys, time

path, agent, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
size = os.path.getsize(path)
commands = {
    "gpsdecode": (["gpsdecode"], True),                     # reads standard input
    "patrol-agent": ([agent, "nmea", "decode", path], False),
}
times = {name: [] for name in commands}

def run(argv, stdin_from_file):
    with open(path, "rb") as source, open(os.devnull, "wb") as sink:
        start = time.perf_counter()
        subprocess.run(argv, stdin=source if stdin_from_file else subprocess.DEVNULL, stdout=sink, check=True)
        return time.perf_counter() - start

for name, (argv, piped) in commands.items():   # one untimed warm-up each (page cache)
    run(argv, piped)
for i in range(runs):                            # alternate the two decoders
    for name, (argv, piped) in commands.items():
        times[name].append(run(argv, piped))

print(f"input: {size / 1e6:.1f} MB, {runs} runs each, alternating")
print(f"{'decoder':14s} {'median s':>9s} {'MB/s':>8s}   runs")
medians = {}
for name, values in times.items():
    medians[name] = statistics.median(values)
    print(f"{name:14s} {medians[name]:9.3f} {size / 1e6 / medians[name]:8.1f}   " + " ".join(f"{v:.3f}" for v in values))
print(f"patrol-agent is {medians['gpsdecode'] / medians['patrol-agent']:.1f}x as fast as gpsdecode")
PY
