#!/usr/bin/env bash
# The main job, end to end on embedded defaults: a real gpsd (gpsfake) replays a recorded receiver
# log, patrol-agent records the patrol track into SQLite, shows its status, stops cleanly on
# SIGTERM, and the stored track is exported as GPX and GeoJSON into out/demo/. A simulated button box
# on a socat pseudo-terminal pair raises a panic meanwhile; `patrol-agent events` lists it at the end.
# A local patrol-centre (plain HTTP on 127.0.0.1, SQLite in out/demo) receives the uplink: the panic
# shows in `patrol-centre alarms`, is acknowledged with `patrol-centre alarms ack`, and the box gets
# the LED 'acknowledged' command. Last, the centre checks the example patrol plan
# (Config/plan.example.toml) against what it received: a coverage table, an SVG map and an HTML page.
# It ends by printing the web console's address and a demo sign-in; on a terminal the centre keeps
# running until Enter is pressed.
# Usage: scripts/demo.sh [release|debug]   (debug reuses the test build: no release build needed)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
configuration="${1:-release}"
scripts/setup.sh "$configuration"
[ "$configuration" = release ] && swift build -c release --static-swift-stdlib --product patrol-centre
agent="$root/.build/$configuration/patrol-agent"
centre="$root/.build/$configuration/patrol-centre"
demo="$root/out/demo"
rm -rf "$demo" && mkdir -p "$demo"

log="$root/Tests/Fixtures/gpsd-logs/bundg_zeus_9.log"   # a boat on the IJsselmeer, 2018, 1 Hz
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== gpsd (gpsfake) replays $(basename "$log") on 127.0.0.1:$port"
python3 Tests/Support/gpsfake_session.py "$port" -- -1 -q -c 0.004 -W 2 -P "$port" "$log" > "$demo/gpsfake.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

centre_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$demo/centre.toml" <<TOML
[server]
address = "127.0.0.1"          # plain HTTP: loopback only
port = $centre_port
[storage]
database = "$demo/centre/centre.db"
[console]
time_zone = "UTC"               # the recording's plan is in UTC
plans = ["$root/Config/plan.example.toml"]
TOML
mkdir -p "$demo/centre"
demo_password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')
echo "== patrol-centre staff add demo-admin --role admin (the password from stdin)"
printf '%s\n' "$demo_password" | "$centre" staff add demo-admin --role admin --config "$demo/centre.toml" > /dev/null
echo "== patrol-centre devices add demo-car (the key goes into $demo/device.key, mode 600)"
umask 077
"$centre" devices add demo-car --config "$demo/centre.toml" | tail -1 > "$demo/device.key"
umask 022
echo "== patrol-centre serve on 127.0.0.1:$centre_port"
"$centre" serve --config "$demo/centre.toml" > "$demo/centre.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$centre_port) 2>/dev/null && break; sleep 0.1; done

echo "== a button box on a socat pseudo-terminal pair: the demo writes $demo/box, the agent opens $demo/box-agent"
socat pty,raw,echo=0,link="$demo/box" pty,raw,echo=0,link="$demo/box-agent" &
pids+=($!)
for _ in $(seq 50); do [[ -e "$demo/box" && -e "$demo/box-agent" ]] && break; sleep 0.1; done
# One PLBX frame (Board/button-box-protocol.md): the checksum is the XOR of the bytes between $ and *.
box_frame() {
    python3 -c 'import sys, functools; body = "PLBX," + ",".join(sys.argv[1:]); print("$%s*%02X" % (body, functools.reduce(lambda c, b: c ^ b, body.encode(), 0)), end="\r\n")' "$@"
}

cat > "$demo/agent.toml" <<TOML
# Demo configuration: the car defaults of Config/patrol-car.toml, with paths inside out/demo.
[device]
id = "demo-car"
[gps]
source = "gpsd"
gpsd_host = "127.0.0.1"
gpsd_port = $port
rollover_pivot = "2017-01-01"   # the recording is from 2018: not a week-rollover date
[track]
profile = "car"
[store]
path = "$demo/store/agent.db"
commit_window = 10
[status]
runtime_dir = "$demo/run"
interval = 1
[[button_box]]
id = "demo-box"
port = "$demo/box-agent"
silence_ms = 600000             # the simulated box sends no heartbeats
[[button_box.button]]
number = 1
id = "demo-panic"
role = "panic"
[[uplink]]
name = "centre"
kind = "centre-http"
url = "http://127.0.0.1:$centre_port"
key_file = "$demo/device.key"
heartbeat_s = 5
TOML
"$agent" config check "$demo/agent.toml"

echo "== patrol-agent run"
"$agent" run --config "$demo/agent.toml" 2> "$demo/agent.log" &
agent_pid=$!
pids+=($agent_pid)
sleep 6
echo "== the guard presses the panic button (HELLO, DOWN, UP frames)"
cat "$demo/box" > "$demo/box-received.log" 2>/dev/null &   # ends with an I/O error when socat stops
pids+=($!)
{ box_frame 0 HELLO demo-box 1.0.0 42; box_frame 1 DOWN 1; sleep 0.3; box_frame 2 UP 1; } > "$demo/box"
for _ in $(seq 50); do grep -aq ',LED,1,' "$demo/box-received.log" && break; sleep 0.1; done
echo "   the box got (ACKs, then the LED/buzzer 'stored' cue, sent only after the fsync'ed commit):"
tr -d '\r' < "$demo/box-received.log" | sed 's/^/   box <- /'
echo "== patrol-centre alarms: the panic has arrived"
for _ in $(seq 100); do "$centre" alarms --open --config "$demo/centre.toml" | grep -q demo-car && break; sleep 0.1; done
"$centre" alarms --config "$demo/centre.toml" | sed 's/^/   /'
alarm_id=$("$centre" alarms --open --config "$demo/centre.toml" | awk -F'\t' '$2 == "demo-car" { print $1; exit }')
echo "== patrol-centre alarms ack $alarm_id --by operator-ann"
"$centre" alarms ack "$alarm_id" --by operator-ann --config "$demo/centre.toml" | sed 's/^/   /'
for _ in $(seq 150); do grep -aq ',LED,1,ON\*' "$demo/box-received.log" && break; sleep 0.1; done
echo "   the box got (after the 'delivered' FAST blink, the steady LED: the centre has seen the alarm):"
tr -d '\r' < "$demo/box-received.log" | grep -a ',LED,' | sed 's/^/   box <- /'
grep -a 'acknowledged by operator' "$demo/agent.log" | sed 's/^/   agent log: /' || true
echo "== patrol-agent status (while running)"
"$agent" status --config "$demo/agent.toml"
# Let the recording play to its end (gpsfake exits then).
wait "${pids[0]}" 2>/dev/null || true
echo "== SIGTERM: the agent commits what it holds and exits 0"
kill -TERM "$agent_pid"
wait "$agent_pid"
echo "exit status $?"
sed 's/^/   agent log: /' "$demo/agent.log"
echo "== patrol-agent status (stopped)"
"$agent" status --config "$demo/agent.toml"
"$agent" export --config "$demo/agent.toml" --format gpx > "$demo/track.gpx"
"$agent" export --config "$demo/agent.toml" --format geojson > "$demo/track.geojson"
echo "== patrol-agent events (the store, now that the agent has let go of it)"
"$agent" events --config "$demo/agent.toml"
echo "== exported $(grep -c '<trkpt' "$demo/track.gpx") track points to out/demo/track.gpx and out/demo/track.geojson"
echo "== the centre holds $(sqlite3 -readonly "$demo/centre/centre.db" 'SELECT count(*) FROM track_points') track points of demo-car; devices:"
"$centre" devices --config "$demo/centre.toml" | sed 's/^/   /'


plan="$root/Config/plan.example.toml"
shift_range=(--from 2018-08-20T09:00:00Z --to 2018-08-20T11:00:00Z)   # the recording's day, demo-car's morning shift
echo "== patrol-centre plan check $(basename "$plan")"
"$centre" plan check "$plan"
echo "== patrol-centre coverage: did demo-car cover its cells and visit its checkpoints in its 09:00-11:00 shift?"
"$centre" coverage --config "$demo/centre.toml" --plan "$plan" "${shift_range[@]}"
"$centre" coverage --config "$demo/centre.toml" --plan "$plan" "${shift_range[@]}" --format html > "$demo/coverage.html"
"$centre" coverage --config "$demo/centre.toml" --plan "$plan" "${shift_range[@]}" --format svg > "$demo/coverage.svg"
"$centre" tracks export --config "$demo/centre.toml" --unit demo-car "${shift_range[@]}" --format gpx > "$demo/centre-track.gpx"
echo "== the coverage map is in out/demo/coverage.svg (with the summary: out/demo/coverage.html);"
echo "   the track as the centre received it in out/demo/centre-track.gpx ($(grep -c '<trkpt' "$demo/centre-track.gpx") points)"
echo "== the web console: http://127.0.0.1:$centre_port/console/  sign in as demo-admin, password $demo_password"
echo "   (coverage review: plan plan.example, date 2018-08-20, shift 09:00-11:00; track playback: demo-car on that morning)"
if [ -t 0 ]; then
  read -r -p "   press Enter to stop the centre " _
fi
