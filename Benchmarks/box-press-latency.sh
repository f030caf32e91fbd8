#!/usr/bin/env bash
# Press latency with the box's real firmware: the unmodified image runs in simavr (plbx-sim), the
# release agent reads it on the harness's pseudo-terminal as a PLBX 2 box. Each of N presses
# (default 200) is timed on the simulator's clock from the contact's pin edge to the "stored" LED
# pin turning on, which follows the agent's LED command, sent only after the fsync'ed commit.
# The same firmware with its protocol 1 jumper set follows as the peer. gpsd (gpsfake) replays a
# receiver log meanwhile, so events carry positions as in service.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
count="${1:-200}"
work="$(mktemp -d /tmp/box-press-latency.XXXXXX)"   # on disk here: a tmpfs would make fsync free
swift build -c release --static-swift-stdlib --product patrol-agent > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
make -C Board/button-box firmware sim > "$work/firmware.log" 2>&1 || { cat "$work/firmware.log"; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$root/Tests/Support/gpsfake_session.py" "$port" -- -q -c 0.1 -P "$port" "$root/Tests/Fixtures/gpsd-logs/bundg_zeus_9.log" > "$work/gpsfake.log" 2>&1 &
gpsfake_pid=$!
trap 'kill "$gpsfake_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
python3 Benchmarks/box_press_latency.py "$root/.build/release/patrol-agent" "$root/Board/button-box/build" "$port" "$work" "$count"
echo "(agent log, simulator log and store in $work)"
