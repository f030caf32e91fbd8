#!/usr/bin/env python3
"""The uplink under load, measured from outside the processes (see uplink-drain.sh).

1. A real patrol-agent records a synthetic 24 h, 1 Hz drive (86,400 fixes fed as fast as it takes
   them through a pty, as from a serial receiver) while its centre is unreachable: a day of backlog.
2. The link comes up through a byte-counting TCP proxy to a real patrol-centre. While the backlog
   drains, a button box on a pty presses panic again and again; each press is timed from writing
   DOWN to the LED 'delivered' command (FAST), which the agent sends only after the centre answered
   200, i.e. after the centre committed the alarm.
3. Once drained, the link idles for IDLE seconds with 30 s heartbeats.

Prints drain time, press->committed-at-centre p50/p99, bytes per track point on the wire (both
directions, HTTP headers included, through the proxy) and heartbeat bytes per hour.

With --tls the centre serves TLS with a certificate from a CA made here with the openssl command,
and the agent uses https with that CA as ca_file; the proxy then counts TLS records, handshakes
and all, so bytes per point are all-in as deployed.

Usage: uplink_drain.py AGENT CENTRE WORKDIR NMEA_LOG [IDLE_SECONDS] [--tls]
"""
import json, os, socket, subprocess, sys, threading, time, tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from press_latency import Box  # noqa: E402  (the same simulated button box)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


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


def make_certificates(folder):
    """A CA and a server certificate for 127.0.0.1 (P-256, as Sources/PatrolTestSupport/TestCertificates.swift
    makes them for the tests); returns (ca.pem, server.pem, server-key.pem)."""
    os.makedirs(folder, exist_ok=True)
    ca, ca_key, cert, key = (f"{folder}/{name}.pem" for name in ("ca", "ca-key", "server", "server-key"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: E731
    openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=uplink benchmark CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
            "-keyout", ca_key, "-out", ca)
    openssl("req", "-new", *ec, "-subj", "/CN=localhost", "-keyout", key, "-out", f"{folder}/server.csr")
    with open(f"{folder}/server.ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", f"{folder}/server.csr", "-CA", ca, "-CAkey", ca_key, "-set_serial", "2",
            "-days", "2", "-extfile", f"{folder}/server.ext", "-out", cert)
    return ca, cert, key


def serial_gps(gps_device):
    """The [gps] and [track] tables for a receiver on the pseudo-terminal `gps_device`, recording every fix."""
    return (f'[gps]\nsource = "serial"\nserial_port = "{os.ttyname(gps_device)}"\nserial_driver = "termios"\n'
            f'rollover_pivot = "2017-01-01"\n[track]\nrecord_every_fix = true')


def agent_config(work, box, gps, uplinks, device="bench"):
    """The benchmarks' agent (`device`): store and status under `work`, no GPS-lost faults (a feed
    ends after its fill), `box` with one panic button pressed on its DOWN frame, then the `[[uplink]]` tables."""
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
port = "{box.path}"
silence_ms = 86400000
[[button_box.button]]
number = 1
id = "panic-1"
role = "panic"
debounce_ms = 0
min_hold_ms = 0
{uplinks}
"""


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


def status(agent, config):
    out = subprocess.run([agent, "status", "--config", config, "--json"], capture_output=True, text=True).stdout
    try:
        return json.loads(out)
    except ValueError:
        return {}


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def main():
    arguments = [a for a in sys.argv[1:] if a != "--tls"]
    tls = "--tls" in sys.argv[1:]
    agent, centre, work, nmea_log = arguments[:4]
    idle = int(arguments[4]) if len(arguments) > 4 else 150
    os.makedirs(f"{work}/centre", exist_ok=True)
    centre_port, proxy_port = free_port(), free_port()
    centre_config = f"{work}/centre.toml"
    uplink = f'url = "http://127.0.0.1:{proxy_port}"'
    with open(centre_config, "w") as f:
        f.write(f'[server]\naddress = "127.0.0.1"\nport = {centre_port}\n[storage]\ndatabase = "{work}/centre/centre.db"\n')
        if tls:
            ca, cert, key = make_certificates(f"{work}/pki")
            f.write(f'[tls]\ncertificate = "{cert}"\nprivate_key = "{key}"\n')
            uplink = f'url = "https://127.0.0.1:{proxy_port}"\nca_file = "{ca}"'
    print(f"transport: {'TLS (https, ca_file)' if tls else 'plain HTTP'}", flush=True)
    key = subprocess.run([centre, "devices", "add", "bench", "--config", centre_config],
                         capture_output=True, text=True, check=True).stdout.split()[-1]
    with open(f"{work}/device.key", "w") as f:
        f.write(key + "\n")
    centre_log = open(f"{work}/centre.log", "w")
    centre_process = subprocess.Popen([centre, "serve", "--config", centre_config], stderr=centre_log, stdout=centre_log)

    gps_controller, gps_device = os.openpty()
    tty.setraw(gps_device)
    box = Box()
    config = f"{work}/agent.toml"
    with open(config, "w") as f:
        f.write(agent_config(work, box, serial_gps(gps_device), f'[[uplink]]\n{uplink}\nkey_file = "{work}/device.key"\nheartbeat_s = 30'))
    agent_log = open(f"{work}/agent.log", "w")
    agent_process = subprocess.Popen([agent, "run", "--config", config], stderr=agent_log)
    try:
        for _ in range(100):
            box.send("HELLO", "box-1", "bench", 1)
            if box.wait_for(b",ACK,", 0.2):
                break
        else:
            sys.exit("the agent never acknowledged HELLO; see " + agent_log.name)

        # 1. Fill: a day of fixes while nothing listens on the proxy port.
        points, seconds = fill(agent, config, gps_controller, nmea_log)
        print(f"fill: {points} points stored in {seconds:.0f} s", flush=True)

        # 2. Drain through the counting proxy, pressing panic meanwhile.
        proxy = CountingProxy(proxy_port, centre_port)
        drain_started = time.monotonic()
        latencies, drained_at = [], None
        while drained_at is None and time.monotonic() - drain_started < 1800:
            press = time.perf_counter_ns()
            box.send("DOWN", 1)
            delivered = box.wait_for(b",LED,1,FAST", 120)
            if delivered is None:
                sys.exit("no 'delivered' LED within 120 s; see " + agent_log.name)
            latencies.append((delivered - press) / 1e6)
            box.send("UP", 1)
            uplink = (status(agent, config).get("uplinks") or [{}])[0]
            if uplink.get("trackPending") == 0 and uplink.get("trackDelivered", 0) >= points:
                drained_at = time.monotonic()
            time.sleep(0.1)
        drain_bytes = proxy.total()
        print(f"drain: {drained_at - drain_started:.1f} s for {points} points; {proxy.up} B up, {proxy.down} B down "
              f"-> {drain_bytes / points:.2f} B/point all-in (includes {len(latencies)} alarms)")
        print(f"press -> committed at centre ('delivered' LED) during the drain: {len(latencies)} presses, "
              f"p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms, max {max(latencies):.0f} ms")

        # 3. Idle: heartbeats only.
        time.sleep(2)
        before = proxy.total()
        time.sleep(idle)
        idle_bytes = proxy.total() - before
        print(f"idle: {idle_bytes} B in {idle} s -> {idle_bytes * 3600 / idle:.0f} B/hour of heartbeats (30 s interval)")
    finally:
        agent_process.terminate()
        centre_process.terminate()
        for p in (agent_process, centre_process):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
