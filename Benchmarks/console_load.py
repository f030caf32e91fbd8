#!/usr/bin/env python3
"""Console load: a real patrol-centre on 127.0.0.1 with a fresh store, `--units` simulated units
each posting a signed batch (10 s of 1 Hz points) every `--interval` seconds, and `--clients`
browsers' live feeds (Server-Sent Events on GET /console/api/events, each its own sign-in) connected
for `--seconds`. About one batch a second also carries a panic.

Measured:
* push latency: from the centre's commit to the SSE client reading the event, for `alarm` and `unit`
  events. Commit time is the server's timestamp in the event (`committedMs`, taken right after the
  storage committed the batch, the moment the ingest answer is sent); the client stamps the moment
  it reads the event's data line. Both clocks are this machine's. p50 / p99 / max.
* ingest answer time under this load (p50 / p99), for reference.
* the centre's CPU (user + system, percent of one core over the run) and resident memory (peak,
  and at the end).
* GET /console/api/units (the map's full reload, e.g. after a resync) with every unit, after the run.
* the console's first load: index.html and every file it references (scripts, styles), and all
  embedded assets, as served with `Accept-Encoding: gzip, deflate`.

Signing and batch encoding come from ingest_benchmark.py (Docs/uplink-protocol.md), imported.

Usage: Benchmarks/console_load.py [--binary .build/release/patrol-centre] [--units 1000] [--interval 10]
       [--clients 20] [--seconds 60] [--runs 3]    (each run on a fresh centre; prints every run and the medians)
"""
import argparse, http.client, json, multiprocessing, os, random, re, selectors, shutil, socket, statistics, subprocess, sys, \
    tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest_benchmark import drive, encode_batch, signed_headers, start_centre, stop  # noqa: E402
from agent_rig import percentile  # noqa: E402

PASSWORD = "console-load-benchmark"
ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "PatrolConsole", "Assets")


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def sign_in(port):
    """A new console session: (cookie, csrf)."""
    response, data = request(port, "POST", "/console/api/session", json.dumps({"name": "bench", "password": PASSWORD}),
                             {"Content-Type": "application/json"})
    if response.status != 200:
        raise SystemExit(f"sign-in refused: {response.status} {data!r}")
    cookie = response.getheader("Set-Cookie").split(";")[0]
    return cookie, json.loads(data)["csrf"]


def sse_clients(port, cookies, seconds, results):
    """One process reading `cookies`' live feeds with one selector: (event, latency ms) for each
    `alarm` and `unit` event, measured from its `committedMs`."""
    selector = selectors.DefaultSelector()
    for cookie in cookies:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(f"GET /console/api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                     f"Accept: text/event-stream\r\n\r\n".encode())
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, {"buffer": b"", "event": None})
    latencies, resyncs, end = [], 0, time.time() + seconds
    committed = re.compile(rb'"committedMs":(\d+)')
    while time.time() < end:
        for key, _ in selector.select(timeout=0.5):
            chunk = key.fileobj.recv(262_144)
            now_ms = time.time() * 1000
            if not chunk:
                selector.unregister(key.fileobj)
                continue
            state = key.data
            state["buffer"] += chunk
            *lines, state["buffer"] = state["buffer"].split(b"\n")
            for line in lines:
                if line.startswith(b"event: "):
                    state["event"] = line[7:].strip().decode()
                    resyncs += state["event"] == "resync"
                elif line.startswith(b"data: ") and state["event"] in ("alarm", "unit"):
                    match = committed.search(line)
                    if match:
                        latencies.append((state["event"], now_ms - int(match.group(1))))
    results.put((latencies, resyncs))


def units(port, keys, interval, seconds, answers, errors):
    """Every unit posts 10 s of 1 Hz track every `interval` s, staggered; one batch a second carries a panic."""
    names = sorted(keys)
    start = time.time()
    rng = random.Random(7)
    sequence = {name: 1 for name in names}
    panic_every = max(1, int(len(names) / interval))

    def worker(share):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        slot = 0
        while time.time() - start < seconds:
            for name in share:
                due = start + (names.index(name) / len(names)) * interval + slot * interval
                wait = due - time.time()
                if wait > 0:
                    time.sleep(wait)
                if time.time() - start >= seconds:
                    return
                first = sequence[name]
                points = drive(first, 10, int(time.time() * 1000) - 10_000, rng)
                events = [dict(seq=first + 10, kind="panic", t=int(time.time() * 1000))] if names.index(name) % panic_every == 0 else []
                sequence[name] = first + 11
                body = encode_batch(name, points, events)
                sent = time.time()
                try:
                    connection.request("POST", "/v1/ingest", body=body, headers=signed_headers(name, keys[name], body))
                    response = connection.getresponse()
                    response.read()
                    if response.status != 200:
                        errors.append(response.status)
                    answers.append((time.time() - sent) * 1000)
                except (OSError, http.client.HTTPException) as error:
                    errors.append(str(error))
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            slot += 1

    threads = [threading.Thread(target=worker, args=(names[i::25],)) for i in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid, field="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def first_load(port, cookie):
    """Bytes on the wire (compressed as served) of index.html plus what it references, and of every asset."""
    headers = {"Accept-Encoding": "gzip, deflate", "Cookie": cookie}
    response, page = request(port, "GET", "/console/", headers=headers)
    sizes = {"index.html": len(page)}
    _, plain = request(port, "GET", "/console/", headers={"Cookie": cookie})
    for reference in re.findall(rb'(?:src|href)="(?:/console/)?assets/([^"]+)"', plain):
        _, data = request(port, "GET", "/console/assets/" + reference.decode(), headers=headers)
        sizes[reference.decode()] = len(data)
    everything = 0
    for folder, _, files in os.walk(ASSETS):
        for file in files:
            path = os.path.relpath(os.path.join(folder, file), ASSETS)
            _, data = request(port, "GET", "/console/assets/" + path, headers=headers)
            everything += len(data)
    return sum(sizes.values()), len(sizes), everything


def summary(name, values):
    if not values:
        return f"{name}: none"
    return f"{name}: n={len(values)} p50 {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms, max {max(values):.1f} ms"


def run(arguments):
    """One run on a fresh centre; prints it and returns its figures."""
    folder = tempfile.mkdtemp(prefix="console-load.")
    server, port, config, _ = start_centre(arguments.binary, folder, [])
    try:
        subprocess.run([arguments.binary, "staff", "add", "bench", "--role", "admin", "--config", config], input=PASSWORD + "\n",
                       check=True, capture_output=True, text=True)
        cookie, csrf = sign_in(port)
        keys = {}
        for i in range(arguments.units):
            name = f"unit-{i:04d}"
            response, data = request(port, "POST", "/console/api/devices", json.dumps({"name": name}),
                                     {"Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": csrf})
            keys[name] = bytes.fromhex(json.loads(data)["key"])
        total_load, load_files, all_assets = first_load(port, cookie)
        cookies = [sign_in(port)[0] for _ in range(arguments.clients)]
        results = multiprocessing.Queue()
        readers = [multiprocessing.Process(target=sse_clients, args=(port, cookies[i::2], arguments.seconds + 3, results))
                   for i in range(min(2, arguments.clients))]
        for reader in readers:
            reader.start()
        time.sleep(1)
        answers, errors, rss_samples = [], [], []
        with open(f"/proc/{server.pid}/clear_refs", "w") as f:
            f.write("5")  # the peak below is the load's, not the sign-ins' (scrypt takes 32 MiB a check)
        cpu_start, wall_start = cpu_seconds(server.pid), time.time()
        load = threading.Thread(target=units, args=(port, keys, arguments.interval, arguments.seconds, answers, errors))
        load.start()
        while load.is_alive():
            rss_samples.append(rss_bytes(server.pid))
            load.join(timeout=1)
        cpu = (cpu_seconds(server.pid) - cpu_start) / (time.time() - wall_start) * 100
        rss_end, rss_peak = rss_bytes(server.pid), rss_bytes(server.pid, "VmHWM")
        snapshot_times, snapshot = [], b""
        for _ in range(5):
            began = time.time()
            _, snapshot = request(port, "GET", "/console/api/units", headers={"Cookie": cookie, "Accept-Encoding": "identity"})
            snapshot_times.append((time.time() - began) * 1000)
        latencies, resyncs = [], 0
        for _ in readers:
            found, resynced = results.get()
            latencies += found
            resyncs += resynced
        for reader in readers:
            reader.join()
        alarms = [ms for event, ms in latencies if event == "alarm"]
        unit_events = [ms for event, ms in latencies if event == "unit"]
        print(f"{arguments.units} units every {arguments.interval:g} s, {arguments.clients} SSE clients, {arguments.seconds:g} s "
              f"({len(answers)} batches, {len(errors)} errors{': ' + str(errors[:5]) if errors else ''}, {resyncs} resyncs)")
        print(summary("commit -> SSE alarm", alarms))
        print(summary("commit -> SSE unit ", unit_events))
        print(summary("ingest answer      ", answers))
        print(f"centre CPU {cpu:.0f}% of one core; RSS peak {rss_peak / 2**20:.0f} MiB, at end {rss_end / 2**20:.0f} MiB "
              f"(max sampled {max(rss_samples, default=0) / 2**20:.0f} MiB)")
        print(f"GET /console/api/units ({arguments.units} units, {len(snapshot) / 1024:.0f} KiB): "
              f"median {sorted(snapshot_times)[2]:.0f} ms of 5 after the run")
        print(f"console first load: {total_load / 1024:.1f} KiB in {load_files} files (compressed as served); "
              f"all assets {all_assets / 1024:.1f} KiB", flush=True)
        def at(values, p):
            return percentile(values, p) if values else float("nan")
        return {"alarm p50": at(alarms, 50), "alarm p99": at(alarms, 99),
                "unit p50": at(unit_events, 50), "unit p99": at(unit_events, 99),
                "ingest p50": at(answers, 50), "ingest p99": at(answers, 99),
                "CPU %": cpu, "RSS peak MiB": rss_peak / 2**20, "units list ms": sorted(snapshot_times)[2],
                "first load KiB": total_load / 1024}
    finally:
        stop(server)
        shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/patrol-centre")
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=10)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    runs = []
    for number in range(arguments.runs):
        print(f"run {number + 1}:")
        runs.append(run(arguments))
    print(f"medians of {len(runs)} runs: " + ", ".join(f"{key} {statistics.median(r[key] for r in runs):.1f}" for key in runs[0]))


if __name__ == "__main__":
    main()
