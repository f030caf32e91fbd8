#!/usr/bin/env python3
"""Soak: the whole chain under random faults for a chosen time, then an audit of both stores.

Real processes on 127.0.0.1: gpsd (gpsfake playing a synthetic 1 Hz drive that starts now, so the
track keeps growing), patrol-centre, patrol-agent, a simulated PLBX button box on a pseudo-terminal
(HELLO at boot, 1 s heartbeats with the down mask, acked frames repeated every 250 ms, numbering kept
across agent restarts) pressing panic and check-in at random, and a proxy between agent and centre.
Faults, one at a time at random moments, each logged with its time:

  link-cut        the proxy drops every connection and refuses new ones, then lets them through again
  link-stall      the proxy keeps connections open but moves no byte, then resumes
  centre-garbage  the proxy answers each request itself (5xx, a 200 that is not an ingest answer,
                  bytes that are not HTTP) instead of forwarding it
  centre-kill     patrol-centre gets SIGKILL just after a request went up to it, restarts later
  agent-kill      patrol-agent gets SIGKILL (1-3 times in a row: mid-upload, just after a press or
                  at any moment) and is started again

Then faults stop, the feed stops, the agent drains, everything stops cleanly, and the agent's store is
compared with the centre's (both SQLite files, read-only). Exit status 1 when anything was lost or
duplicated, the uplink did not drain, or a process did not stop cleanly.

Usage: soak.py AGENT CENTRE WORKDIR MINUTES SEED
"""
import json, os, random, select, signal, socket, sqlite3, subprocess, sys, threading, time
from datetime import datetime, timezone

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(root, "Benchmarks"))
from agent_rig import Box, frame, free_port, percentile, status  # noqa: E402
sys.path.insert(0, os.path.join(root, "Tests", "Support"))
from gpsfake_session import start_gpsfake  # noqa: E402

DEVICE = "soak-car"
# Box button number -> (button id in the agent's configuration, event kind it raises).
BUTTONS = {1: ("panic-1", "panic"), 2: ("check-in-1", "check-in.button")}
# The box's (LED, buzzer) command pair that says "stored" for each kind (LocalFeedback.cue).
STORED_CUE = {"panic": ("SLOW", "P1"), "check-in.button": ("P1", "P1")}
FAULTS = ["link-cut", "link-stall", "centre-garbage", "centre-kill", "agent-kill"]
# How much earlier than the box saw its DOWN acked an event may be stamped and still be that press:
# the GNSS time the agent stamps with is known to within about one gpsd epoch.
MATCH_EARLY_SECONDS = 1.5
# How much later: an agent killed between acking a DOWN and storing it learns of a button still held
# from the next heartbeat's down mask once it is back.
MATCH_LATE_SECONDS = 10
# A "stored" cue follows the ACK of its DOWN by the commit's fsync; later than this it is another's.
CUE_SECONDS = 3


class Timeline:
    """Prints and keeps every line with seconds since the start and UTC, so a failing run can be
    read against the agent's and the centre's logs and repeated with its seed."""

    def __init__(self, path):
        self.started, self.wall_started = time.monotonic(), time.time()
        self.file = open(path, "w")
        self.lock = threading.Lock()

    def __call__(self, text):
        stamp = datetime.now(timezone.utc).strftime("%H:%M:%S.%f")[:-3]
        line = f"[{time.monotonic() - self.started:7.1f} s {stamp}Z] {text}"
        with self.lock:
            print(line, flush=True)
            self.file.write(line + "\n")
            self.file.flush()

    def elapsed(self):
        return time.monotonic() - self.started


class Tripwire:
    """Set once by the next occurrence of something (a request going up, a press), so that a fault
    lands exactly then rather than whenever a timer fires."""

    def __init__(self):
        self.lock = threading.Lock()
        self.armed = None

    def arm(self):
        event = threading.Event()
        with self.lock:
            self.armed = event
        return event

    def trip(self):
        with self.lock:
            event, self.armed = self.armed, None
        if event:
            event.set()


class Service:
    """A child process that can be killed and started again with the same command; every run's
    output goes to one log. A process found already gone when it is to be killed had exited by
    itself (a crash): its status is kept in `exited_by_itself`."""

    def __init__(self, name, argv, log_path):
        self.name, self.argv, self.log_path = name, argv, log_path
        self.process = None
        self.signalled = False
        self.exited_by_itself = []

    def start(self):
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(self.argv, stdout=log, stderr=log)
        self.signalled = False

    def kill(self, sig=signal.SIGKILL, timeout=15):
        """Sends `sig` and returns the exit status (None if it had to be killed after `timeout`)."""
        if self.process is None:
            return None
        if self.process.poll() is not None:
            if not self.signalled:
                self.exited_by_itself.append(self.process.returncode)
                self.signalled = True
            return self.process.returncode
        self.signalled = True
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


def http_reply(status_line, body):
    return (f"HTTP/1.1 {status_line}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode() + body


class FaultProxy:
    """127.0.0.1:port -> 127.0.0.1:target in one of four modes: 'pass' forwards; 'cut' drops every
    connection and refuses new ones (the listener is closed); 'stall' keeps connections open and
    holds every byte; 'answer' stands in for a broken centre, replying to each request itself."""

    # A broken centre or a middlebox in front of it; none of these may count as delivered.
    BROKEN_REPLIES = [
        http_reply("500 Internal Server Error", b'{"error":"internal"}\n'),
        http_reply("503 Service Unavailable", b""),
        http_reply("502 Bad Gateway", b"<html>bad gateway</html>"),
        http_reply("200 OK", b"not json!"),
        http_reply("200 OK", b'{"centreTimeMs": 1, "accepted": {"track": [[1, '),
        b"\x00\xff garbage that is not HTTP\r\n\r\n",
    ]

    def __init__(self, port, target, rng):
        self.port, self.target, self.rng = port, target, rng
        self.mode = "pass"
        self.lock = threading.Lock()
        self.sockets = set()
        self.request_went_up = Tripwire()
        threading.Thread(target=self.serve, daemon=True).start()

    def set_mode(self, mode):
        with self.lock:
            self.mode = mode
            doomed = list(self.sockets) if mode in ("cut", "answer") else []
        for s in doomed:
            self.close(s)

    @staticmethod
    def close(s):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def serve(self):
        listener = None
        while True:
            mode = self.mode
            if mode == "cut" and listener:
                listener.close()
                listener = None
            elif mode != "cut" and not listener:
                listener = socket.create_server(("127.0.0.1", self.port))
                listener.settimeout(0.1)
            if not listener:
                time.sleep(0.05)
                continue
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            client.settimeout(None)
            handler = self.answer if mode == "answer" else self.forward
            threading.Thread(target=handler, args=(client,), daemon=True).start()

    def track(self, *sockets):
        """Registers sockets for dropping; False (and closes them) if the mode changed meanwhile."""
        with self.lock:
            if self.mode in ("cut", "answer"):
                admitted = False
            else:
                self.sockets.update(sockets)
                admitted = True
        if not admitted:
            for s in sockets:
                self.close(s)
        return admitted

    def forward(self, client):
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=2)
        except OSError:  # the centre is down: the agent sees its connection closed
            self.close(client)
            return
        upstream.settimeout(None)
        if self.track(client, upstream):
            threading.Thread(target=self.pump, args=(client, upstream, True), daemon=True).start()
            self.pump(upstream, client, False)

    def pump(self, source, sink, is_up):
        try:
            while data := source.recv(65536):
                while self.mode == "stall":
                    time.sleep(0.05)
                sink.sendall(data)
                if is_up:
                    self.request_went_up.trip()
        except OSError:
            pass
        finally:
            with self.lock:
                self.sockets.discard(source)
                self.sockets.discard(sink)
            self.close(source)
            self.close(sink)

    def answer(self, client):
        """Reads one request (head and the body its Content-Length announces), answers, closes."""
        client.settimeout(10)
        try:
            request = b""
            while b"\r\n\r\n" not in request and (chunk := client.recv(65536)):
                request += chunk
            head, _, body = request.partition(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length and (chunk := client.recv(65536)):
                body += chunk
            with self.lock:
                reply = self.rng.choice(self.BROKEN_REPLIES)
            client.sendall(reply)
        except OSError:
            pass
        finally:
            self.close(client)


class SoakBox(Box):
    """The button box as its firmware behaves (Board/button-box-protocol.md): HELLO at boot, a
    heartbeat every second carrying the down mask, every acked frame repeated every 250 ms until the
    agent acks it (at most 20 times). The box does not reboot when the agent does, so its numbering
    runs on across agent restarts. Records when each frame was acked and every LED/buzzer cue."""

    def __init__(self, box_id):
        super().__init__()
        self.box_id = box_id
        self.booted = time.monotonic()
        self.write_lock = threading.RLock()  # press() holds it across send()
        self.down = set()
        self.unacked = {}  # seq -> [fields, repeats left, next repeat (monotonic)]
        self.acked_at = {}  # seq -> wall time of the first ACK
        self.cues = []  # (wall time, LED pattern, buzzer pattern)
        self.pressed = Tripwire()
        self.running = True
        self.send("HELLO", box_id, "soak", 0, acked=True)
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self.read_loop, self.tick_loop)]
        for t in self.threads:
            t.start()

    def uptime(self):
        return int(time.monotonic() - self.booted)

    def send(self, *fields, acked=False):
        with self.write_lock:
            seq = self.seq
            super().send(*fields)
            self.seq %= 65536
            if acked:
                self.unacked[seq] = [fields, 20, time.monotonic() + 0.25]
            return seq

    def press(self, button, hold):
        """DOWN, held `hold` seconds, UP; returns the DOWN frame's number and its wall time."""
        with self.write_lock:
            self.down.add(button)
            seq = self.send("DOWN", button, acked=True)
        written = time.time()
        self.pressed.trip()
        time.sleep(hold)
        with self.write_lock:
            self.down.discard(button)
            self.send("UP", button, acked=True)
        return seq, written

    def tick_loop(self):
        next_heartbeat = time.monotonic() + 1
        while self.running:
            time.sleep(0.05)
            now = time.monotonic()
            with self.write_lock:
                for seq, entry in list(self.unacked.items()):
                    fields, left, due = entry
                    if now >= due:
                        os.write(self.controller, frame(seq, *fields))  # same number: a repeat
                        entry[1], entry[2] = left - 1, now + 0.25
                        if entry[1] == 0:
                            del self.unacked[seq]  # the firmware gives up; the heartbeat's mask still tells
                if now >= next_heartbeat:
                    mask = sum(1 << (b - 1) for b in self.down)
                    self.send("HB", self.uptime(), f"{mask:X}")
                    next_heartbeat += 1

    def read_loop(self):
        pending, led = b"", None
        while self.running:
            if not select.select([self.controller], [], [], 0.2)[0]:
                continue
            pending += os.read(self.controller, 4096)
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                fields = line.strip().split(b"*")[0].decode(errors="replace").split(",")
                if len(fields) < 3 or not fields[0].endswith("PLBX"):
                    continue
                kind, args, now = fields[2], fields[3:], time.time()
                if kind == "ACK":
                    with self.write_lock:
                        self.acked_at.setdefault(int(args[0]), now)
                        self.unacked.pop(int(args[0]), None)
                elif kind == "LED":
                    led = args[1]
                elif kind == "BUZ":
                    self.cues.append((now, led, args[0]))
                elif kind == "QUERY":
                    self.send("HELLO", self.box_id, "soak", self.uptime(), acked=True)

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join()


class GNSSClock:
    """Wall time minus the GNSS time gpsd reports, sampled from gpsd itself. The agent stamps events
    with GNSS time, and gpsfake plays a little slower than real time (about 1.4 % here), so an event
    is matched to its press only after this correction."""

    def __init__(self, port):
        self.samples = []  # (GNSS seconds, wall - GNSS)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(b'?WATCH={"enable":true,"json":true}\n')
        threading.Thread(target=self.watch, daemon=True).start()

    def watch(self):
        try:
            for line in self.sock.makefile("r"):
                report = json.loads(line)
                if report.get("class") == "TPV" and "time" in report:
                    gnss = datetime.fromisoformat(report["time"].replace("Z", "+00:00")).timestamp()
                    self.samples.append((gnss, time.time() - gnss))
        except (OSError, ValueError):
            pass  # gpsd stopped at the end of the run

    def wall(self, gnss):
        """The wall time at which the receiver reported GNSS time `gnss` (the nearest sample's offset)."""
        nearest = min(self.samples, key=lambda s: abs(s[0] - gnss), default=(gnss, 0.0))
        return gnss + nearest[1]


def agent_toml(work, gpsd_port, proxy_port, box_path):
    return f"""[device]
id = "{DEVICE}"
[gps]
gpsd_host = "127.0.0.1"
gpsd_port = {gpsd_port}
[track]
record_every_fix = true
[store]
path = "{work}/store/agent.db"
[status]
runtime_dir = "{work}/run"
interval = 0.5
[events]
gps_lost_after_s = 86400   # the feed is stopped before the final drain: no fault may race the audit
[[button_box]]
id = "box-1"
port = "{box_path}"
[[button_box.button]]
number = 1
id = "{BUTTONS[1][0]}"
role = "panic"
debounce_ms = 0            # the box debounced already, so DOWN is the press and its ACK the detection
min_hold_ms = 0
[[button_box.button]]
number = 2
id = "{BUTTONS[2][0]}"
role = "check-in"
debounce_ms = 0
min_hold_ms = 0
[[uplink]]
name = "centre"
url = "http://127.0.0.1:{proxy_port}"
key_file = "{work}/device.key"
heartbeat_s = 5
retry_max_s = 5            # back within seconds of a fault's end, so faults follow each other closely
timeout_s = 5              # a stalled link is given up after this
batch_points = 50          # a backlog drains in many requests, so faults land mid-backlog
"""


def counted(sequences):
    """A count, followed by the sequence numbers when there are any."""
    return f"{len(sequences)} {sequences}" if sequences else "0"


def wait_until(predicate, timeout, interval=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


class Soak:
    def __init__(self, agent, centre, work, minutes, seed):
        self.agent_binary, self.work, self.minutes, self.seed = agent, work, minutes, seed
        os.makedirs(f"{work}/centre", exist_ok=True)
        self.log = Timeline(f"{work}/soak.log")
        self.fault_rng, self.press_rng = random.Random(seed), random.Random(seed + 1)
        self.faults = []  # (kind, start s, end s, detail)
        self.presses = []  # dicts: button, seq, wall, t
        self.agent_kills = []  # wall times of the SIGKILLs
        self.stopping = threading.Event()

        gpsd_port, centre_port, proxy_port = free_port(), free_port(), free_port()
        self.centre_config = f"{work}/centre.toml"
        with open(self.centre_config, "w") as f:
            f.write(f'[server]\naddress = "127.0.0.1"\nport = {centre_port}\n'
                    f'[storage]\ndatabase = "{work}/centre/centre.db"\n')
        key = subprocess.run([centre, "devices", "add", DEVICE, "--config", self.centre_config],
                             capture_output=True, text=True, check=True).stdout.split()[-1]
        with os.fdopen(os.open(f"{work}/device.key", os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(key + "\n")
        self.centre = Service("centre", [centre, "serve", "--config", self.centre_config], f"{work}/centre.log")
        self.centre.start()

        # A drive long enough for the soak, the drain and gpsfake's slower-than-real-time pace.
        drive = f"{work}/drive.nmea"
        start = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        with open(drive, "w") as f:
            subprocess.run([sys.executable, f"{root}/Benchmarks/synthetic-nmea.py", "--seconds",
                            str(int(minutes * 72) + 900), "--start", start, "--noise"], stdout=f, check=True)
        # Three sentences per second: one every 1/3 s is 1 Hz.
        self.gpsd = start_gpsfake(["-1", "-q", "-c", "0.3333", "-W", "2", "-P", str(gpsd_port), drive], gpsd_port,
                                  f"{work}/gpsfake.log")
        self.gnss = GNSSClock(gpsd_port)

        self.proxy = FaultProxy(proxy_port, centre_port, random.Random(seed + 2))
        self.box = SoakBox("box-1")
        self.agent_config = f"{work}/agent.toml"
        with open(self.agent_config, "w") as f:
            f.write(agent_toml(work, gpsd_port, proxy_port, self.box.path))
        self.agent = Service("agent", [agent, "run", "--config", self.agent_config], f"{work}/agent.log")
        self.agent.start()

    def uplink(self):
        return (status(self.agent_binary, self.agent_config).get("uplinks") or [{}])[0]

    def drained(self):
        """The uplink's status once it is up with nothing pending, else None."""
        uplink = self.uplink()
        done = uplink.get("state") == "up" and uplink.get("eventPending") == 0 and uplink.get("trackPending") == 0
        return uplink if done else None

    def sleep(self, seconds):
        """Sleeps, or returns early (True) when the soak's time is up."""
        return self.stopping.wait(seconds)

    # Faults. Every random choice of a fault is drawn before it starts, so the same seed gives the
    # same sequence of faults, durations and moments whatever the processes' timing.

    def run_faults(self):
        number = 0
        while not self.sleep(self.fault_rng.uniform(3, 15)):
            number += 1
            kind = self.fault_rng.choice(FAULTS)
            getattr(self, kind.replace("-", "_"))(number)

    def record(self, number, kind, started, detail):
        self.faults.append((kind, started, self.log.elapsed(), detail))
        self.log(f"fault #{number} {kind}: {detail}; over")

    def link_fault(self, number, kind, mode, low, high):
        seconds = self.fault_rng.uniform(low, high)
        started = self.log.elapsed()
        self.log(f"fault #{number} {kind}: proxy '{mode}' for {seconds:.1f} s")
        self.proxy.set_mode(mode)
        time.sleep(seconds)
        self.proxy.set_mode("pass")
        self.record(number, kind, started, f"{seconds:.1f} s")

    def link_cut(self, number):
        self.link_fault(number, "link-cut", "cut", 5, 45)

    def link_stall(self, number):
        self.link_fault(number, "link-stall", "stall", 5, 30)

    def centre_garbage(self, number):
        self.link_fault(number, "centre-garbage", "answer", 5, 20)

    def kill_at(self, tripwire, delay, timeout):
        """Waits for `tripwire` (at most `timeout` s) and then `delay`; says when the kill lands."""
        fired = tripwire.arm().wait(timeout)
        time.sleep(delay)
        return f"{delay * 1000:.0f} ms after" if fired else f"no occasion in {timeout} s, so {delay * 1000:.0f} ms after giving up on"

    def centre_kill(self, number):
        delay, down = self.fault_rng.uniform(0, 0.05), self.fault_rng.uniform(1, 10)
        started = self.log.elapsed()
        when = self.kill_at(self.proxy.request_went_up, delay, 15)
        self.centre.kill()
        self.log(f"fault #{number} centre-kill: SIGKILL {when} a request went up; down {down:.1f} s")
        time.sleep(down)
        self.centre.start()
        self.record(number, "centre-kill", started, f"down {down:.1f} s")

    def agent_kill(self, number):
        plan = [(self.fault_rng.choice(["mid-upload", "after-press", "any"]), self.fault_rng.uniform(0, 0.05),
                 self.fault_rng.uniform(0.2, 3), self.fault_rng.uniform(1, 8))
                for _ in range(self.fault_rng.randint(1, 3))]
        started = self.log.elapsed()
        for moment, delay, down, up in plan:
            if moment == "mid-upload":
                when = self.kill_at(self.proxy.request_went_up, delay, 15) + " a request went up"
            elif moment == "after-press":
                when = self.kill_at(self.box.pressed, delay, 30) + " a press"
            else:
                when = "at a random moment"
            self.agent.kill()
            self.agent_kills.append(time.time())
            self.log(f"fault #{number} agent-kill: SIGKILL {when}; restart after {down:.1f} s, then up {up:.1f} s")
            time.sleep(down)
            self.agent.start()
            time.sleep(up)
        self.record(number, "agent-kill", started, f"{len(plan)} kill(s)")

    def run_presses(self):
        while not self.sleep(self.press_rng.uniform(4, 20)):
            button, hold = self.press_rng.choice(sorted(BUTTONS)), self.press_rng.uniform(0.1, 0.6)
            seq, wall = self.box.press(button, hold)
            self.presses.append({"button": button, "seq": seq, "wall": wall, "released": time.time(),
                                 "t": self.log.elapsed() - hold})
            self.log(f"press #{len(self.presses)}: {BUTTONS[button][1]} (box frame {seq}, held {hold * 1000:.0f} ms)")

    # The run.

    def run(self):
        ready = wait_until(lambda: any(i.get("state") == "connected" for i in
                                       status(self.agent_binary, self.agent_config).get("inputs", [])), 60)
        if not ready:
            sys.exit(f"the agent did not come up; see {self.work}/agent.log")
        self.log(f"soak: seed {self.seed}, {self.minutes} min of faults; work directory {self.work}")
        workers = [threading.Thread(target=f) for f in (self.run_faults, self.run_presses)]
        for w in workers:
            w.start()
        time.sleep(self.minutes * 60)
        self.stopping.set()
        for w in workers:
            w.join()
        self.log("faults over: proxy passes, centre and agent running")
        time.sleep(6)  # the box's last acked frames are acked or given up (20 repeats, 250 ms apart)
        self.gpsd.terminate()
        self.gpsd.wait()
        time.sleep(12)  # the batcher commits what it holds within its 10 s window
        self.log("feed stopped; waiting for the uplink to drain")
        drained = wait_until(self.drained, 300)
        self.log(f"drained: {drained}" if drained else f"NOT drained after 300 s: {self.uplink()}")
        self.box.stop()
        agent_exit = self.agent.kill(signal.SIGTERM)
        centre_exit = self.centre.kill(signal.SIGTERM)
        self.log(f"stopped: agent exit {agent_exit}, centre exit {centre_exit}")
        return Audit(self, drained is not None, agent_exit, centre_exit).report()


class Audit:
    """Compares what the box pressed, the agent stored and the centre committed."""

    def __init__(self, soak, drained, agent_exit, centre_exit):
        self.soak, self.drained, self.agent_exit, self.centre_exit = soak, drained, agent_exit, centre_exit
        store = f"{soak.work}/store/agent.db"
        agent = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        centre = sqlite3.connect(f"file:{soak.work}/centre/centre.db?mode=ro", uri=True)
        self.agent_events = {row[0]: row[1:] for row in agent.execute(
            "SELECT sequence, kind, time, time_source, button_id FROM event")}
        self.agent_points = set()
        for first, count in agent.execute("SELECT first_seq, point_count FROM track_chunk"):
            self.agent_points.update(range(first, first + count))
        self.dead_letters = agent.execute("SELECT stream, count(*) FROM dead_letter GROUP BY stream").fetchall()
        self.centre_events = {}
        self.centre_event_copies = centre.execute(
            "SELECT sequence, count(*) FROM events WHERE device = ? GROUP BY sequence HAVING count(*) > 1",
            (DEVICE,)).fetchall()
        for sequence, kind, time_ms, button, received_ms in centre.execute(
                "SELECT sequence, kind, time_ms, button, received_ms FROM events WHERE device = ?", (DEVICE,)):
            self.centre_events[sequence] = (kind, time_ms, button, received_ms)
        self.centre_points = {row[0] for row in centre.execute(
            "SELECT sequence FROM track_points WHERE device = ?", (DEVICE,))}
        self.centre_same_fix = centre.execute(
            "SELECT count(*) FROM (SELECT time_ms FROM track_points WHERE device = ? GROUP BY time_ms HAVING count(*) > 1)",
            (DEVICE,)).fetchone()[0]
        self.corrupt_stores = [n for n in os.listdir(os.path.dirname(store)) if ".corrupt-" in n]

    def match_presses(self):
        """Pairs each stored press event, in sequence order, with the press of that button whose DOWN
        the agent acked nearest the event's time (the DOWN is the press: no debounce or minimum hold).
        Returns the press events that match no press."""
        box = self.soak.box
        for press in self.soak.presses:
            press["acked"] = box.acked_at.get(press["seq"])
            press["event"] = None
        unmatched_events = []  # (sequence, button, wall time)
        for sequence in sorted(self.agent_events):
            kind, time_ms, source, button_id = self.agent_events[sequence]
            button = next((b for b, (bid, k) in BUTTONS.items() if bid == button_id and k == kind), None)
            if button is None:
                continue
            when = self.soak.gnss.wall(time_ms / 1000) if source == "gnss" else time_ms / 1000
            candidates = [p for p in self.soak.presses if p["button"] == button and p["event"] is None
                          and p["acked"] and -MATCH_EARLY_SECONDS <= when - p["acked"] <= MATCH_LATE_SECONDS]
            if candidates:
                min(candidates, key=lambda p: abs(p["acked"] - when))["event"] = sequence
            else:
                unmatched_events.append((sequence, button, when))
        # A "stored" cue confirms the unconfirmed press of its kind acked last before it (cues carry no
        # button, and a restarted agent shows none for what it stored before the kill).
        for press in self.soak.presses:
            press["confirmed"] = False
        for at, led, buzzer in box.cues:
            kind = next((k for k, cue in STORED_CUE.items() if cue == (led, buzzer)), None)
            waiting = [p for p in self.soak.presses if BUTTONS[p["button"]][1] == kind and not p["confirmed"]
                       and p["acked"] and 0 <= at - p["acked"] <= CUE_SECONDS]
            if waiting:
                max(waiting, key=lambda p: p["acked"])["confirmed"] = True
        return unmatched_events

    def held_across_kill(self, button, when):
        """Why a press event may have no press of its own: the agent was killed while that button was
        held, and the restarted agent took the heartbeat's down mask (button down) for a new press."""
        start = self.soak.log.wall_started
        for press in reversed([p for p in self.soak.presses if p["button"] == button and p["wall"] <= when]):
            kill = next((k for k in self.soak.agent_kills if press["wall"] <= k <= press["released"]), None)
            if kill:
                return (f"the agent was killed at {kill - start:.1f} s while press #{self.soak.presses.index(press) + 1} "
                        f"({press['wall'] - start:.1f} s) was held: the restarted agent took a heartbeat showing the "
                        f"button down for a new press")
        return "no agent kill during a press of that button"

    def fault_at(self, t):
        return next((f"{kind} ({start:.0f}-{end:.0f} s)" for kind, start, end, _ in self.soak.faults if start <= t <= end),
                    "no fault")

    def report(self):
        soak, log = self.soak, self.soak.log
        presses = soak.presses
        twice_at_agent = self.match_presses()
        acked = [p for p in presses if p["acked"]]
        confirmed_lost = [p for p in presses if p["confirmed"] and p["event"] is None]
        acked_unstored = [p for p in acked if not p["confirmed"] and p["event"] is None]
        lost = sorted(set(self.agent_events) - set(self.centre_events))
        centre_only = sorted(set(self.centre_events) - set(self.agent_events))
        differing = sorted(s for s in set(self.agent_events) & set(self.centre_events)
                           if self.agent_events[s][0] != self.centre_events[s][0]
                           or self.agent_events[s][1] != self.centre_events[s][1])
        same_press_at_centre = len(self.centre_events) - len({(k, t, b) for k, t, b, _ in self.centre_events.values()})
        missing_points = len(self.agent_points - self.centre_points)
        centre_only_points = len(self.centre_points - self.agent_points)
        delays = sorted((self.centre_events[p["event"]][3] / 1000 - p["wall"], p) for p in presses
                        if p["button"] == 1 and p["event"] in self.centre_events)

        counts = {k: sum(1 for f in soak.faults if f[0] == k) for k in FAULTS}
        kinds = {}
        for kind, *_ in self.agent_events.values():
            kinds[kind] = kinds.get(kind, 0) + 1
        by_button = {k: sum(1 for p in presses if BUTTONS[p["button"]][1] == k) for _, k in BUTTONS.values()}
        log("== summary")
        lines = [
            f"seed {soak.seed}, {soak.minutes} min of faults",
            "faults applied: " + ", ".join(f"{k} {n}" for k, n in counts.items()) + f" ({len(soak.agent_kills)} agent SIGKILLs)",
            f"presses made: {len(presses)} (" + ", ".join(f"{k} {n}" for k, n in by_button.items()) + f"); "
            f"acked by the agent {len(acked)}, 'stored' cue seen by the box {sum(p['confirmed'] for p in presses)}",
            f"events on the agent: {len(self.agent_events)} (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")",
            f"events at the centre: {len(self.centre_events)}",
            f"duplicates at the centre: same device+sequence {len(self.centre_event_copies)}, "
            f"same press under two sequences {same_press_at_centre}; press events at the agent matching no press "
            f"(a press stored twice) {len(twice_at_agent)}",
            f"events lost (on the agent, not at the centre): {counted(lost)}",
            f"events at the centre the agent does not hold: {counted(centre_only)}; "
            f"differing in kind or time: {counted(differing)}",
            f"presses confirmed 'stored' to the guard but not on the agent: {len(confirmed_lost)}",
            f"presses acked by the agent, never confirmed and not stored: {len(acked_unstored)}; "
            f"never acked: {len(presses) - len(acked)}",
            f"track points committed: agent {len(self.agent_points)}, centre {len(self.centre_points)}; "
            f"missing at the centre {missing_points}, at the centre only {centre_only_points}, "
            f"same fix twice at the centre {self.centre_same_fix}",
            "dead letters: " + (", ".join(f"{s} {n}" for s, n in self.dead_letters) or "0"),
            f"corrupt stores set aside by the agent: {len(self.corrupt_stores)}; exits nobody asked for: "
            f"agent {soak.agent.exited_by_itself or 0}, centre {soak.centre.exited_by_itself or 0}",
        ]
        if delays:
            worst, press = delays[-1]
            lines.append(f"alarm delay, press -> committed at the centre: {len(delays)} panics, "
                         f"p50 {percentile([d for d, _ in delays], 50):.2f} s, longest {worst:.1f} s "
                         f"(press at {press['t']:.0f} s, during {self.fault_at(press['t'])})")
        for line in lines:
            log("   " + line)
        failures = [name for name, bad in [
            ("events lost", lost), ("events duplicated at the centre", self.centre_event_copies or same_press_at_centre),
            ("a press stored twice", twice_at_agent), ("events differing", differing or centre_only),
            ("confirmed presses not stored", confirmed_lost), ("track points missing", missing_points),
            ("track points duplicated", self.centre_same_fix or centre_only_points),
            ("the uplink did not drain", not self.drained), ("corrupt store", self.corrupt_stores),
            ("a process exited by itself", soak.agent.exited_by_itself or soak.centre.exited_by_itself),
            ("agent did not stop cleanly", self.agent_exit != 0), ("centre did not stop cleanly", self.centre_exit != 0),
        ] if bad]
        for sequence, button, when in twice_at_agent:
            log(f"   event #{sequence} ({BUTTONS[button][1]}, at {when - soak.log.wall_started:.1f} s) matches no press; "
                + self.held_across_kill(button, when))
        for press in confirmed_lost + acked_unstored:
            log(f"   press #{presses.index(press) + 1} at {press['t']:.1f} s (box frame {press['seq']}) not stored; "
                f"during {self.fault_at(press['t'])}")
        log("RESULT: " + ("FAIL: " + ", ".join(failures) if failures else "PASS: nothing lost, nothing duplicated"))
        return 1 if failures else 0


def main():
    agent, centre, work, minutes, seed = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
    soak = Soak(agent, centre, work, minutes, seed)
    try:
        code = soak.run()
    finally:
        for service in (soak.agent, soak.centre):
            service.kill()
        soak.gpsd.terminate()  # gpsfake stops its gpsd on SIGTERM, not on SIGKILL
        soak.gpsd.wait()
    sys.exit(code)


if __name__ == "__main__":
    main()
