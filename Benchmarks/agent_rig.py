"""What the benchmarks that drive a real patrol-agent share, so each measures the same agent the
same way: the simulated PLBX button box on a pseudo-terminal, the agent's configuration, starting
it until its box is acknowledged, filling a backlog, draining it while panic is pressed, a
byte-counting proxy, the agent's status, and percentiles."""
import json, os, select, socket, subprocess, sys, threading, time, tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest_benchmark import free_port  # noqa: E402,F401  (one definition, re-exported for the agent benchmarks)


def frame(seq, *fields):
    body = ",".join(["PLBX", str(seq)] + [str(f) for f in fields])
    checksum = 0
    for byte in body.encode():
        checksum ^= byte
    return f"${body}*{checksum:02X}\r\n".encode()


class Box:
    """A PLBX button box on a pseudo-terminal: writes frames, reads what the agent sends it."""

    def __init__(self):
        self.controller, device = os.openpty()
        tty.setraw(device)
        self.path = os.ttyname(device)
        self.device = device  # kept open so the pty stays up between agent opens
        self.pending = b""
        self.seq = 0

    def send(self, *fields):
        os.write(self.controller, frame(self.seq, *fields))
        self.seq += 1

    def wait_for(self, token, timeout):
        """Reads frames until one contains `token`; returns the time it arrived, None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.pending:
                line, self.pending = self.pending.split(b"\n", 1)
                if token in line:
                    return time.perf_counter_ns()
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.controller], [], [], left)[0]:
                return None
            self.pending += os.read(self.controller, 4096)


def gpsd_gps(port):
    """The [gps] table for gpsd (gpsfake) on 127.0.0.1:`port`."""
    return f'[gps]\ngpsd_host = "127.0.0.1"\ngpsd_port = {port}\nrollover_pivot = "2017-01-01"'


def serial_gps(gps_device):
    """The [gps] and [track] tables for a receiver on the pseudo-terminal `gps_device`, recording every fix."""
    return (f'[gps]\nsource = "serial"\nserial_port = "{os.ttyname(gps_device)}"\nserial_driver = "termios"\n'
            f'rollover_pivot = "2017-01-01"\n[track]\nrecord_every_fix = true')


def agent_config(work, box_port, gps, uplinks="", device="bench", button="panic"):
    """The benchmarks' agent (`device`): store and status under `work` (status every 0.5 s, as the
    drains poll it), no GPS-lost faults (a feed ends after its fill), a box on `box_port` with
    button 1 of role `button` pressed on its DOWN frame (the box debounced already, so the figure
    is the pipeline, not a configured hold), then the `[[uplink]]` tables."""
    return f"""[device]
id = "{device}"
{gps}
[store]
path = "{work}/store/agent.db"
[status]
runtime_dir = "{work}/run"
interval = 0.5
[events]
gps_lost_after_s = 86400
[[button_box]]
id = "box-1"
port = "{box_port}"
silence_ms = 86400000
[[button_box.button]]
number = 1
id = "{button}-1"
role = "{button}"
debounce_ms = 0
min_hold_ms = 0
{uplinks}
"""


def start_agent(agent, config, box, log_path):
    """Starts `agent run` and says HELLO until it has the box's port open and acknowledges it."""
    log = open(log_path, "w")
    process = subprocess.Popen([agent, "run", "--config", config], stderr=log)
    for _ in range(100):
        box.send("HELLO", "box-1", "bench", 1)
        if box.wait_for(b",ACK,", 0.2):
            return process
    process.kill()
    sys.exit("the agent never acknowledged HELLO; see " + log_path)


def stop(*processes):
    """SIGTERM, then SIGKILL whatever has not exited within 15 s (None: never started)."""
    processes = [p for p in processes if p is not None]
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def status(agent, config):
    out = subprocess.run([agent, "status", "--config", config, "--json"], capture_output=True, text=True).stdout
    try:
        return json.loads(out)
    except ValueError:
        return {}


def fill(agent, config, gps_controller, nmea_log):
    """Plays `nmea_log` into the receiver's pty and waits until the stored point count has been
    stable for 15 s (the batcher commits within 10 s); returns the points and the seconds it took."""
    started = time.monotonic()
    with open(nmea_log, "rb") as log:
        while chunk := log.read(16384):
            os.write(gps_controller, chunk)
    points, stable_since = 0, time.monotonic()
    while time.monotonic() - stable_since < 15:
        stored = (status(agent, config).get("store") or {}).get("trackPoints", 0)
        if stored != points:
            points, stable_since = stored, time.monotonic()
        time.sleep(0.5)
    return points, time.monotonic() - started - 15


def drain_while_pressing(agent, config, box, points, log_path, limit_s):
    """Presses panic again and again until the first uplink has delivered all `points` of the
    backlog; each press is timed from writing DOWN to the LED 'delivered' command (FAST), which the
    agent sends only after the far end confirmed the alarm. Returns the latencies (ms) and the
    seconds the drain took."""
    started = time.monotonic()
    latencies = []
    while time.monotonic() - started < limit_s:
        press = time.perf_counter_ns()
        box.send("DOWN", 1)
        delivered = box.wait_for(b",LED,1,FAST", 120)
        if delivered is None:
            sys.exit("no 'delivered' LED within 120 s; see " + log_path)
        latencies.append((delivered - press) / 1e6)
        box.send("UP", 1)
        uplink = (status(agent, config).get("uplinks") or [{}])[0]
        if uplink.get("trackPending") == 0 and uplink.get("trackDelivered", 0) >= points:
            return latencies, time.monotonic() - started
        time.sleep(0.1)
    sys.exit(f"the backlog did not drain within {limit_s} s; see " + log_path)


def fill_drain_idle(agent, config, box, gps_controller, nmea_log, agent_log, link_up, idle, limit_s, delivered):
    """The drain benchmarks' three phases, printed: fill a backlog from `nmea_log` while the far end
    is unreachable; `link_up()` starts the CountingProxy to it and the backlog drains while panic
    is pressed (`delivered` says what the 'delivered' LED waits for); then `idle` seconds of
    heartbeats only."""
    points, seconds = fill(agent, config, gps_controller, nmea_log)
    print(f"fill: {points} points stored in {seconds:.0f} s", flush=True)
    proxy = link_up()
    latencies, drain_seconds = drain_while_pressing(agent, config, box, points, agent_log, limit_s)
    print(f"drain: {drain_seconds:.1f} s for {points} points; {proxy.up} B up, {proxy.down} B down "
          f"-> {proxy.total() / points:.2f} B/point all-in (includes {len(latencies)} alarms)")
    print(f"press -> {delivered} ('delivered' LED) during the drain: {len(latencies)} presses, "
          f"p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms, max {max(latencies):.0f} ms")
    idle_bytes = proxy.bytes_while_idle(idle)
    print(f"idle: {idle_bytes} B in {idle} s -> {idle_bytes * 3600 / idle:.0f} B/hour of heartbeats (30 s interval)")


class CountingProxy:
    """Forwards 127.0.0.1:port to 127.0.0.1:target and counts the bytes each way."""

    def __init__(self, port, target):
        self.port, self.target = port, target
        self.up = self.down = 0
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", port), reuse_port=False)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.server.accept()
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self.pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self.pump, args=(upstream, client, False), daemon=True).start()

    def pump(self, source, sink, is_up):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
                with self.lock:
                    if is_up:
                        self.up += len(data)
                    else:
                        self.down += len(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def total(self):
        with self.lock:
            return self.up + self.down

    def bytes_while_idle(self, seconds):
        """The bytes both ways in `seconds` of quiet (heartbeats only), after 2 s to settle."""
        time.sleep(2)
        before = self.total()
        time.sleep(seconds)
        return self.total() - before


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]
