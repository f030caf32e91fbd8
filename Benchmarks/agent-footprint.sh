#!/usr/bin/env bash
# The agent's footprint at 1 Hz, side by side with gpsd's own gpxlogger on the same gpsd feed:
# bytes written to storage per hour (/proc/PID/io write_bytes), RSS, CPU; plus the stripped size of
# the static release binary.
#
# Usage: Benchmarks/agent-footprint.sh [MINUTES] [--uplink]   (default 10; figures are scaled to one hour)
#   --uplink  the agent also forwards everything to a local patrol-centre (plain HTTP on 127.0.0.1,
#             its SQLite store in the same temporary folder), as in service: the delivery progress
#             it records and the uplink's threads count in the agent's figures.
#
# The feed is a synthetic 1 Hz drive (Benchmarks/synthetic-nmea.py: GGA+GSA+RMC each second) played
# by gpsfake, since the real logs are too short for a long 1 Hz run. The agent records every fix
# (record_every_fix = true) and commits every 10 s, the default window; its status file goes to a
# tmpfs (/dev/shm), as /run is on a board.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
minutes=10 uplink=no
for argument in "$@"; do
    case "$argument" in
        --uplink) uplink=yes ;;
        *[!0-9]* | "") echo "usage: $0 [MINUTES] [--uplink]" >&2; exit 64 ;;
        *) minutes=$argument ;;
    esac
done
seconds=$((minutes * 60))

echo "Building the static release binary…" >&2
(cd "$root" && swift build -c release --static-swift-stdlib --product patrol-agent >&2)
[ "$uplink" = yes ] && (cd "$root" && swift build -c release --static-swift-stdlib --product patrol-centre >&2)
agent="$root/.build/release/patrol-agent"

work="$(mktemp -d -p "${TMPDIR:-/var/tmp}")"   # on disk, not tmpfs: write_bytes needs a real block device
runtime="$(mktemp -d -p /dev/shm)"
cleanup() { kill "${pids[@]}" 2>/dev/null || true; pkill -f "gpsfake.*$port" 2>/dev/null || true; rm -rf "$work" "$runtime"; }
pids=()
trap cleanup EXIT

cp "$agent" "$work/patrol-agent" && strip "$work/patrol-agent"
size=$(stat -c %s "$work/patrol-agent")

python3 "$root/Benchmarks/synthetic-nmea.py" --seconds $((seconds + 120)) > "$work/drive.nmea"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# 3 sentences per second: one every 1/3 s gives 1 Hz.
python3 "$root/Tests/Support/gpsfake_session.py" "$port" -- -1 -q -c 0.3333 -W 2 -P "$port" "$work/drive.nmea" > "$work/gpsfake.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

cat > "$work/agent.toml" <<TOML
[device]
id = "bench-car"
[gps]
gpsd_host = "127.0.0.1"
gpsd_port = $port
[track]
record_every_fix = true
[store]
path = "$work/store/agent.db"
commit_window = 10
[status]
runtime_dir = "$runtime"
[log]
level = "warning"
TOML

if [ "$uplink" = yes ]; then
    centre_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$work/centre"
    printf '[server]\naddress = "127.0.0.1"\nport = %s\n[storage]\ndatabase = "%s"\n' "$centre_port" "$work/centre/centre.db" > "$work/centre.toml"
    "$root/.build/release/patrol-centre" devices add bench-car --config "$work/centre.toml" | tail -1 > "$work/device.key"
    "$root/.build/release/patrol-centre" serve --config "$work/centre.toml" > "$work/centre.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$centre_port) 2>/dev/null && break; sleep 0.1; done
    printf '[[uplink]]\nname = "centre"\nkind = "centre-http"\nurl = "http://127.0.0.1:%s"\nkey_file = "%s"\n' \
        "$centre_port" "$work/device.key" >> "$work/agent.toml"
fi

"$work/patrol-agent" run --config "$work/agent.toml" 2> "$work/agent.err" &
agent_pid=$!; pids+=($agent_pid)
gpxlogger -e sockets -m 0 -f "$work/track.gpx" "127.0.0.1:$port" 2> "$work/gpxlogger.err" &
gpx_pid=$!; pids+=($gpx_pid)
sleep 15   # let both connect and settle before the measurement window

python3 - "$agent_pid" "$gpx_pid" "$seconds" "$size" "$work/agent.toml" "$agent" "$uplink" <<'PY'
import os, statistics, subprocess, sys, time
agent, gpx, seconds, size, config, binary = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
uplink = sys.argv[7] == "yes"
tick = os.sysconf("SC_CLK_TCK")

def write_bytes(pid):
    for line in open(f"/proc/{pid}/io"):
        if line.startswith("write_bytes:"):
            return int(line.split()[1])

def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def status():
    out = subprocess.run([binary, "status", "--config", config, "--json"], capture_output=True, text=True).stdout
    import json
    return json.loads(out)

def points():
    return status()["store"]["trackPoints"]

start = {p: (write_bytes(p), cpu_seconds(p)) for p in (agent, gpx)}
points_start, t0 = points(), time.monotonic()
rss = {agent: [], gpx: []}
while time.monotonic() - t0 < seconds:
    time.sleep(5)
    for p in rss:
        rss[p].append(rss_kib(p))
elapsed = time.monotonic() - t0
points_end = points()
hour = 3600 / elapsed
print(f"window: {elapsed:.0f} s, points committed by the agent: {points_end - points_start} ({(points_end - points_start) / elapsed:.2f}/s)")
if uplink:
    print("uplink to a local centre:", status().get("uplinks"))
print(f"{'':24}{'patrol-agent':>16}{'gpxlogger':>16}")
wb = {p: (write_bytes(p) - start[p][0]) * hour for p in rss}
cpu = {p: (cpu_seconds(p) - start[p][1]) / elapsed * 100 for p in rss}
print(f"{'written, MB/hour':24}{wb[agent] / 1e6:16.3f}{wb[gpx] / 1e6:16.3f}")
print(f"{'RSS median, MiB':24}{statistics.median(rss[agent]) / 1024:16.1f}{statistics.median(rss[gpx]) / 1024:16.1f}")
print(f"{'CPU, % of one core':24}{cpu[agent]:16.3f}{cpu[gpx]:16.3f}")
per_point = wb[agent] / hour / max(1, points_end - points_start)
print(f"agent bytes written per committed point: {per_point:.0f}")
print(f"static release binary, stripped: {size / 1e6:.1f} MB ({size} bytes)")
PY
