#!/usr/bin/env python3
"""District sustained load: `--units` simulated boards (5,000) each reporting every 5 s for `--minutes`
(10) to two real `patrol-centre serve` instances sharing one PostgreSQL database, as behind a load
balancer: each request goes to either instance at random.

Setup (timed and printed): Debian's postgresql-15 started by this script (ingest_postgres.py's
PostgresServer, fsync on), `patrol-centre migrate`, an admin made with `staff add`, both instances
started, and every unit registered through the product's own device registration (the console's
POST /console/api/devices, as an admin adding boards does; its key is in the answer), not by writing
the database.

What each unit sends is the agent's batch shape (Sources/PatrolUplink/UplinkRunner.swift,
Docs/uplink-protocol.md), encoded by ingest_benchmark.py's encoder and signed with its signer:
* every 5 s, the last 5 s of its 1 Hz track (5 points);
* an alarm (`panic`) on average once per `--alarm-hours` per unit, at a random moment, in a batch of its
  own carrying the unit's newest position, which the next report sends again (the centre acknowledges
  it again and stores it once);
* heartbeats: the agent sends one only when nothing else went for 30 s, so a driving unit sends none;
  `--garage` of the units (2%) stand without a fix and send only a heartbeat every 30 s (and their
  alarms, without a position).
A unit sends one request at a time (as the agent does), on kept-alive connections (one per instance,
over plain HTTP on loopback: Python's TLS would cost the generator more CPU than the centres it
measures). The centre closes a connection idle for `limits.header_timeout_seconds` (10 s); like the
agent, a unit then opens a new one and sends again once; those re-opens are counted, not errors.

Coordinated omission: every answer time runs from the request's *scheduled* time, so a slow centre
(or a late generator) shows as latency rather than as fewer requests. The generator's own lag
(from when a request was due to its first byte written; due is its scheduled time, or the unit's
previous answer when that came later, as a unit sends one request at a time) is reported
separately, so a slow generator is not mistaken for a slow centre. Errors are any answer other than 200 with nothing rejected, any connection failure, an
answer later than 30 s (the agent's timeout_s), and every report a unit could not send by 60 s after
the run's end because the centre had fallen that far behind.

At the end the database is checked: track points, alarms and heartbeats stored == distinct ones
sent, none twice; its size per unit-day (growth during the run / (track points sent / 86,400)), per table; CPU of
each instance, of PostgreSQL and of the generator, each instance's RSS; and the whole machine's CPU
use, so what else ran (other builds) shows.

With `--consoles N`, N web consoles (each its own sign-in) keep the live feed open through the run,
alternately at each instance, and the time from each alarm's and unit's commit to the console reading
it is reported, with the resyncs (a feed that fell behind).

Usage: Benchmarks/district_load.py [--binary .build/release/patrol-centre] [--units 5000] [--minutes 10]
       [--workers 3] [--alarm-hours 2] [--garage 0.02] [--consoles 0]
"""
import argparse, asyncio, json, multiprocessing, os, random, shutil, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_load import PASSWORD, cpu_seconds, request, rss_bytes, sign_in, sse_clients  # noqa: E402
from ingest_benchmark import drive, encode_batch, free_port, signed_headers, wait_for_port  # noqa: E402
from ingest_postgres import POSTGRES, PostgresServer, configure  # noqa: E402
from agent_rig import percentile  # noqa: E402

REPORT_SECONDS = 5
HEARTBEAT_SECONDS = 30
TIMEOUT_SECONDS = 30  # the agent's timeout_s: an answer later than this is an error
GRACE_SECONDS = 60  # after the run's end a unit still behind its schedule gives up: the rest count as errors
ANSWER_OK = b'"rejected":[]'


class Link:
    """One unit's kept-alive connections, one per instance; a connection the centre closed while idle is
    opened again and the request sent once more, as the agent's HTTPConnection does."""

    def __init__(self, stats):
        self.connections = {}
        self.stats = stats

    async def post(self, port, headers, body):
        """(status, answer) of one POST /v1/ingest; raises OSError/IncompleteReadError on a failure."""
        head = "POST /v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) \
            + f"Content-Length: {len(body)}\r\n\r\n"
        request_bytes = head.encode() + body
        connection = self.connections.get(port)
        if connection is not None and connection[0].at_eof():
            connection = None  # closed by the centre while idle
            self.stats["reopened"] += 1
        reused = connection is not None
        try:
            return await self.exchange(port, connection, request_bytes)
        except (OSError, asyncio.IncompleteReadError) as error:
            self.close(port)
            if not (reused and isinstance(error, (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError))
                    and getattr(error, "partial", b"") == b""):
                raise
            self.stats["reopened"] += 1
            return await self.exchange(port, None, request_bytes)

    async def exchange(self, port, connection, request_bytes):
        if connection is None:
            connection = await asyncio.open_connection("127.0.0.1", port)
            self.connections[port] = connection
        reader, writer = connection
        writer.write(request_bytes)
        status_line = await reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, close = 0, False
        while True:
            line = await reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        answer = await reader.readexactly(length)
        if close:
            self.close(port)
        return status, answer

    def close(self, port):
        connection = self.connections.pop(port, None)
        if connection is not None:
            connection[1].close()


class Unit:
    """One simulated board: its sequences, its next report's points (made a report ahead, so an alarm can
    carry the newest position exactly as the next report resends it) and its schedule."""

    def __init__(self, name, key, index, start, garage, alarm_hours, stats):
        self.name, self.key, self.garage = name, key, garage
        self.rng = random.Random(index)
        self.stats = stats
        self.link = Link(stats)
        self.next_report = start + self.rng.uniform(0, REPORT_SECONDS)
        self.next_alarm = self.next_report + self.rng.expovariate(1 / (alarm_hours * 3600))
        self.alarm_hours = alarm_hours
        self.last_sent = None
        self.track_sequence = 1
        # Live positions an alarm carried whose report has not been accepted (yet): counted at the end.
        self.live_only = set()
        # When the unit's previous request ended: it sends one at a time, so its next is not due before.
        self.ready_at = start
        self.event_sequence = 1
        self.upcoming = [] if garage else self.points_for(self.next_report)

    def points_for(self, due):
        """The 1 Hz points of the 5 s ending at `due`."""
        last_ms = int(due * 1000)
        return drive(self.track_sequence, REPORT_SECONDS, last_ms - (REPORT_SECONDS - 1) * 1000, self.rng)

    async def run(self, ports, end, results):
        while self.next_report < end:
            if time.time() > end + GRACE_SECONDS:
                behind = int((end - self.next_report) / REPORT_SECONDS) + 1
                self.stats["errors"] += behind
                self.stats["abandoned"] += behind
                return
            if self.next_alarm < self.next_report:
                await self.send_alarm(ports, results)
                continue
            await sleep_until(self.next_report)
            due = self.next_report
            self.next_report += REPORT_SECONDS
            if self.garage:
                if self.last_sent is None or due - self.last_sent >= HEARTBEAT_SECONDS:
                    heartbeat = dict(seq=int(due * 1000), t=int(due * 1000), pending=0)
                    if await self.send(ports, encode_batch(self.name, [], heartbeats=[heartbeat]), due, results, "heartbeat"):
                        self.stats["heartbeats"] += 1
                continue
            points = self.upcoming
            self.track_sequence += len(points)
            self.upcoming = self.points_for(self.next_report)
            if await self.send(ports, encode_batch(self.name, points), due, results, "report"):
                self.stats["points"] += len(points)
                self.live_only -= {point["seq"] for point in points}

    async def send_alarm(self, ports, results):
        due = self.next_alarm
        self.next_alarm += self.rng.expovariate(1 / (self.alarm_hours * 3600))
        await sleep_until(due)
        due_ms = int(due * 1000)
        live = [] if self.garage else [point for point in self.upcoming if point["t"] <= due_ms][-1:]
        sequence = self.event_sequence
        self.event_sequence += 1
        body = encode_batch(self.name, live, [dict(seq=sequence, kind="panic", t=due_ms)])
        if await self.send(ports, body, due, results, "alarm", expect=f'"event":[[{sequence},{sequence}]]'.encode()):
            self.stats["alarms"] += 1
            self.live_only |= {point["seq"] for point in live}

    async def send(self, ports, body, due, results, kind, expect=None):
        """Sends one batch to a random instance; records the answer time from `due`. True when accepted."""
        port = self.rng.choice(ports)
        headers = signed_headers(self.name, self.key, body)
        results["lag"].append(time.time() - max(due, self.ready_at))
        try:
            status, answer = await asyncio.wait_for(self.link.post(port, headers, body), TIMEOUT_SECONDS)
        except (OSError, asyncio.IncompleteReadError, ValueError, asyncio.TimeoutError) as error:
            self.link.close(port)
            self.ready_at = time.time()
            self.stats["errors"] += 1
            results["problems"].append(f"{kind} to :{port}: {type(error).__name__} {error}")
            return False
        results[kind].append(time.time() - due)
        self.last_sent = self.ready_at = time.time()
        self.stats["requests"] += 1
        if status != 200 or ANSWER_OK not in answer or (expect is not None and expect not in answer):
            self.stats["errors"] += 1
            results["problems"].append(f"{kind} to :{port}: {status} {answer[:200]!r}")
            return False
        return True


async def sleep_until(moment):
    delay = moment - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


def generator(units, ports, start, end, alarm_hours, queue):
    """One worker process: its share of the units on one asyncio loop; puts its results on `queue`."""
    stats = dict(requests=0, errors=0, reopened=0, points=0, alarms=0, heartbeats=0, abandoned=0)
    results = dict(lag=[], report=[], alarm=[], heartbeat=[], problems=[])

    async def main():
        boards = [Unit(name, key, index, start, garage, alarm_hours, stats) for name, key, index, garage in units]
        await asyncio.gather(*(board.run(ports, end, results) for board in boards))
        for board in boards:
            stats["points"] += len(board.live_only)
            for port in list(board.link.connections):
                board.link.close(port)

    asyncio.run(main())
    results["problems"] = results["problems"][:20]
    queue.put((stats, results))


class Sampler(threading.Thread):
    """Every second: CPU seconds of each process of interest (new processes count from zero), each
    centre's RSS, and the machine's busy CPU from /proc/stat."""

    def __init__(self, groups):
        super().__init__(daemon=True)
        self.groups = groups  # name -> function returning its pids now
        self.first, self.last, self.rss = {}, {}, {}
        self.stop_event = threading.Event()
        self.machine_start = machine_cpu()
        self.started = time.time()
        self.sample(initial=True)

    def sample(self, initial=False):
        for group, pids in self.groups.items():
            for pid in pids():
                try:
                    used = cpu_seconds(pid)
                    if group.startswith("centre"):
                        self.rss[group] = max(self.rss.get(group, 0), rss_bytes(pid))
                except (FileNotFoundError, ProcessLookupError):
                    continue
                self.first.setdefault((group, pid), used if initial else 0.0)
                self.last[(group, pid)] = used

    def run(self):
        while not self.stop_event.wait(1):
            self.sample()

    def finish(self):
        self.stop_event.set()
        self.join()
        self.sample()
        elapsed = time.time() - self.started
        busy, total = (end - start for end, start in zip(machine_cpu(), self.machine_start))
        cores = {group: sum(self.last[key] - self.first[key] for key in self.last if key[0] == group) / elapsed
                 for group in self.groups}
        return cores, busy / total * os.cpu_count()


def machine_cpu():
    """(busy, total) jiffies of all CPUs."""
    fields = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def descendants(pid):
    """`pid` and every process under it (PostgreSQL's postmaster, started through runuser, and its backends)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                pass
    found = [pid]
    for process in found:
        found += [child for child, parent in parents.items() if parent == process]
    return found


def psql(postgres, database, sql):
    return subprocess.run([f"{POSTGRES}/psql", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "patrol", "-d", database,
                           "-At", "-F", "\t", "-c", sql], check=True, capture_output=True, text=True).stdout.strip()


TABLES = ("track_points", "events", "heartbeats", "nonces", "devices", "downlink")


def sizes(postgres, database):
    """Bytes of the whole database and of each table with its indexes and TOAST."""
    total = int(psql(postgres, database, "SELECT pg_database_size(current_database())"))
    tables = {table: int(psql(postgres, database, f"SELECT pg_total_relation_size('{table}')")) for table in TABLES}
    return total, tables


def summary(name, seconds):
    if not seconds:
        return f"  {name}: none"
    ms = [s * 1000 for s in seconds]
    return (f"  {name}: n={len(ms):,} p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
            f"max {max(ms):.1f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/patrol-centre")
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--workers", type=int, default=3, help="generator processes")
    parser.add_argument("--alarm-hours", type=float, default=2, help="mean hours between one unit's alarms")
    parser.add_argument("--garage", type=float, default=0.02, help="share of units without a fix (heartbeats only)")
    parser.add_argument("--consoles", type=int, default=0,
                        help="web consoles whose live feeds stay open through the run, alternately on each instance")
    args = parser.parse_args()

    postgres = PostgresServer()
    folder = tempfile.mkdtemp(prefix="district-load-")
    servers = []
    try:
        url = postgres.create_database()
        database = url.rsplit("/", 1)[1]
        storage = f'backend = "postgres"\nurl = "{url}"'
        ports = [free_port() for _ in range(2)]
        configs = [configure(args.binary, folder, storage, port) for port in ports]
        began = time.time()
        subprocess.run([args.binary, "migrate", "--config", configs[0]], check=True, capture_output=True)
        subprocess.run([args.binary, "staff", "add", "bench", "--role", "admin", "--config", configs[0]], input=PASSWORD + "\n",
                       check=True, capture_output=True, text=True)
        logs = [open(os.path.join(folder, f"centre-{port}.log"), "w") for port in ports]
        for config, log in zip(configs, logs):
            servers.append(subprocess.Popen([args.binary, "serve", "--config", config], stdout=log, stderr=log))
        for port in ports:
            wait_for_port(port)
        cookie, csrf = sign_in(ports[0])
        keys = {}
        for i in range(args.units):
            name = f"unit-{i:04d}"
            response, data = request(ports[0], "POST", "/console/api/devices", json.dumps({"name": name}),
                                     {"Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": csrf})
            if response.status != 200:
                raise SystemExit(f"registering {name} failed: {response.status} {data[:200]!r}")
            keys[name] = bytes.fromhex(json.loads(data)["key"])
        print(f"setup: PostgreSQL 15, migrate, {args.units:,} units registered through POST /console/api/devices, two instances: "
              f"{time.time() - began:.0f} s", flush=True)
        size_before, tables_before = sizes(postgres, database)

        garage_every = round(1 / args.garage) if args.garage > 0 else 0
        units = [(name, keys[name], i, garage_every > 0 and i % garage_every == 0) for i, name in enumerate(sorted(keys))]
        start = time.time() + 3  # the workers' first reports, spread over the 5 s after this
        end = start + args.minutes * 60
        feeds = multiprocessing.Queue()
        consoles = [multiprocessing.Process(target=sse_clients, args=(ports[c % 2], [sign_in(ports[c % 2])[0]], end - time.time() + 2, feeds))
                    for c in range(args.consoles)]
        for console in consoles:
            console.start()
        queue = multiprocessing.Queue()
        workers = [multiprocessing.Process(target=generator, args=(units[w::args.workers], ports, start, end, args.alarm_hours, queue))
                   for w in range(args.workers)]
        for worker in workers:
            worker.start()
        sampler = Sampler({"centre A": lambda: [servers[0].pid], "centre B": lambda: [servers[1].pid],
                           "PostgreSQL": lambda: descendants(postgres.process.pid),
                           "generator": lambda: [w.pid for w in workers if w.is_alive()]})
        sampler.start()
        stats, results = {}, dict(lag=[], report=[], alarm=[], heartbeat=[], problems=[])
        for _ in workers:
            worker_stats, worker_results = queue.get()
            for key, value in worker_stats.items():
                stats[key] = stats.get(key, 0) + value
            for key, value in worker_results.items():
                results[key] += value
        cores, machine = sampler.finish()
        for worker in workers:
            worker.join()
        console_results = [feeds.get() for _ in consoles]
        for console in consoles:
            console.join()
        elapsed = time.time() - start

        size_after, tables_after = sizes(postgres, database)
        stored = dict(zip(("points", "alarms", "heartbeats"), (int(psql(postgres, database, sql)) for sql in (
            "SELECT count(*) FROM track_points", "SELECT count(*) FROM events WHERE kind = 'panic'", "SELECT count(*) FROM heartbeats"))))
        # (device, sequence) is the key; an alarm stored twice would be one (unit, time) under two sequences.
        twice = psql(postgres, database, "SELECT count(*) - count(DISTINCT (device, time_ms)) FROM events WHERE kind = 'panic'")
        # A driving unit's day is 86,400 points: the unit-days actually sent, however far the centres fell behind.
        unit_days = stats["points"] / 86_400

        answers = results["report"] + results["alarm"] + results["heartbeat"]
        print(f"{args.units:,} units ({stats['requests']:,} requests in {elapsed:.0f} s = {stats['requests'] / elapsed:,.0f}/s), "
              f"two instances on one PostgreSQL, {args.workers} generator processes, plain HTTP on loopback")
        print("answer time, from each request's scheduled time:")
        print(summary("all        ", answers))
        print(summary("reports    ", results["report"]))
        print(summary("alarms     ", results["alarm"]))
        print(summary("heartbeats ", results["heartbeat"]))
        print(summary("generator lag (due -> sent; due: scheduled, or the unit's previous answer if later)", results["lag"]))
        print(f"errors: {stats['errors']} (of them reports never sent, the units still behind {GRACE_SECONDS} s after the end: "
              f"{stats['abandoned']:,})" + "".join(f"\n  {problem}" for problem in results["problems"]))
        for c, (latencies, resyncs) in enumerate(console_results):
            print(f"console {c + 1} (live feed at :{ports[c % 2]}): {resyncs} resyncs; from commit to the browser reading it:")
            for event in ("alarm", "unit"):
                print(summary(f"{event} events", [ms / 1000 for kind, ms in latencies if kind == event]))
        print(f"kept-alive connections the centre had closed when idle, opened again: {stats['reopened']:,}")
        print(f"stored == sent: track points {stored['points']:,} / {stats['points']:,}, alarms {stored['alarms']:,} / "
              f"{stats['alarms']:,}, heartbeats {stored['heartbeats']:,} / {stats['heartbeats']:,}; alarms stored twice: {twice}")
        growth = size_after - size_before
        nonces = tables_after["nonces"] - tables_before["nonces"]
        print(f"database: {size_after / 2**20:.1f} MiB after ({size_before / 2**20:.1f} MiB before the load), "
              f"{unit_days:.2f} unit-days sent (track points / 86,400); growth {growth / unit_days / 2**20:.2f} MiB per unit-day, "
              f"{(growth - nonces) / unit_days / 2**20:.2f} MiB without the nonces (kept only for the clock-skew window, "
              f"so they stay at a steady size rather than grow by the day)")
        for table in TABLES:
            print(f"  {table}: {tables_after[table] / 2**20:.1f} MiB after, "
                  f"{(tables_after[table] - tables_before[table]) / unit_days / 2**20:.3f} MiB per unit-day")
        print("CPU (cores, over the run): " + ", ".join(f"{group} {used:.2f}" for group, used in cores.items())
              + f"; whole machine {machine:.2f} of {os.cpu_count()} (others: {machine - sum(cores.values()):.2f})")
        print("RSS peak: " + ", ".join(f"{group} {rss / 2**20:.0f} MiB" for group, rss in sampler.rss.items()))
        for port, log in zip(ports, logs):
            log.flush()
            lines = open(log.name).read().splitlines()
            print(f"centre :{port} log: {len(lines)} lines" + "".join(f"\n  {line[:300]}" for line in lines[-5:]))
        ok = stats["errors"] == 0 and stored["points"] == stats["points"] and stored["alarms"] == stats["alarms"] \
            and stored["heartbeats"] == stats["heartbeats"] and twice == "0"
        print("RESULT: " + ("no errors, everything stored once" if ok else "FAILED"), flush=True)
        sys.exit(0 if ok else 1)
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
