#!/usr/bin/env bash
# Time and peak memory of the configuration parser (Sources/PatrolCore/Config/TOML.swift) on
# hostile files, this checkout's parser side by side with the one at BASE (default: 2698fb8, before
# the parser was made linear and depth-bounded).
#
# Usage: Benchmarks/toml-hostile.sh [BASE] [RUNS]
#
# Each parser is compiled on its own with `swiftc -O` (TOML.swift needs nothing else), so the
# figures are the parser's, not the agent's start-up. Inputs: arrays and inline tables 50,000
# deep, dotted keys and table headers 8,000 and 100,000 deep, 20,000 and 40,000 `[[checkpoint]]`
# tables. Every run is capped at 4 GB of address space and 120 s; a run that hits a cap or
# crashes is shown as such. Prints the median seconds and the largest peak RSS of RUNS runs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${1:-2698fb8}"
runs="${2:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat > "$work/main.swift" <<'SWIFT'
#if canImport(Glibc)
import Glibc
#endif
var bytes: [UInt8] = []
while let line = readLine(strippingNewline: false) { bytes += Array(line.utf8) }
do {
    let table = try TOMLParser.parse(String(decoding: bytes, as: UTF8.self))
    print("parsed, \(table.keys.count) top-level keys")
} catch {
    print("refused: \(String("\(error)".prefix(100)))")
}
SWIFT
mkdir -p "$work/base" "$work/head"
git -C "$root" show "$base:Sources/PatrolCore/Config/TOML.swift" > "$work/base/TOML.swift"
cp "$root/Sources/PatrolCore/Config/TOML.swift" "$work/head/TOML.swift"
for side in base head; do
    echo "Compiling the $side parser…" >&2
    swiftc -O -o "$work/$side/parse" "$work/$side/TOML.swift" "$work/main.swift"
done

python3 - "$work" "$runs" "$base" <<'PY'
import os, resource, signal, statistics, subprocess, sys, threading, time

work, runs, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def nested(open_, middle, close, depth):
    return "a = " + open_ * depth + middle + close * depth + "\n"

def checkpoints(count):
    return "".join(f'[[checkpoint]]\nid = "cp-{i}"\nlat = 52.5\nlon = 13.4\n' for i in range(count))

inputs = {
    "arrays 50,000 deep": nested("[", "", "]", 50_000),
    "inline tables 50,000 deep": nested("{ b = ", "1", " }", 50_000),
    "dotted key 8,000 deep": ".".join(["k"] * 8_000) + " = 1\n",
    "dotted key 100,000 deep": ".".join(["k"] * 100_000) + " = 1\n",
    "table header 8,000 deep": "[" + ".".join(["k"] * 8_000) + "]\n",
    "20,000 [[checkpoint]]": checkpoints(20_000),
    "40,000 [[checkpoint]]": checkpoints(40_000),
}

def cap():
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

def run(binary, path):
    """Seconds, peak RSS in MB and what the parser said (or how it ended) for one run."""
    with open(path, "rb") as stdin, open(path + ".out", "wb") as stdout:
        started = time.monotonic()
        process = subprocess.Popen([binary], stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL, preexec_fn=cap)
        timer = threading.Timer(120, process.kill)
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.monotonic() - started
        timer.cancel()
    peak = usage.ru_maxrss / 1024
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return elapsed, peak, "killed after 120 s" if name == "SIGKILL" and elapsed >= 119 else f"crashed ({name})"
    said = open(path + ".out").read().strip()
    return elapsed, peak, said.split(",")[0].split(":")[0] if said else "no answer (out of memory?)"

print(f"| input | {base}: median s / peak MB / outcome | this checkout: median s / peak MB / outcome |")
print("|---|---|---|")
for name, text in inputs.items():
    path = os.path.join(work, "input.toml")
    with open(path, "w") as f:
        f.write(text)
    cells = []
    for side in ("base", "head"):
        results = [run(os.path.join(work, side, "parse"), path) for _ in range(runs)]
        cells.append(f"{statistics.median(r[0] for r in results):.3f} s / {max(r[1] for r in results):.0f} MB / {results[-1][2]}")
    print(f"| {name} | {cells[0]} | {cells[1]} |", flush=True)
PY
