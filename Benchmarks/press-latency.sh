#!/usr/bin/env bash
# Press latency of the release agent, measured from outside: a simulated button box on a
# pseudo-terminal presses N times (default 200); each press is timed from writing DOWN to
# receiving the LED "stored" command, which the agent sends only after the fsync'ed commit.
# gpsd (gpsfake) replays a receiver log meanwhile, so events carry positions as in service.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
count="${1:-200}"
work="$(mktemp -d /tmp/press-latency.XXXXXX)"   # on disk here: a tmpfs would make fsync free
swift build -c release --static-swift-stdlib --product patrol-agent > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$root/Tests/Support/gpsfake_session.py" "$port" -- -q -c 0.1 -P "$port" "$root/Tests/Fixtures/gpsd-logs/bundg_zeus_9.log" > "$work/gpsfake.log" 2>&1 &
gpsfake_pid=$!
trap 'kill "$gpsfake_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
python3 Benchmarks/press_latency.py "$root/.build/release/patrol-agent" "$port" "$work" "$count"
echo "(agent log and store in $work)"
