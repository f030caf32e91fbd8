#!/usr/bin/env python3
"""The centre's JT/T 808 listener under a fleet's load, measured from outside (see jt808-ingest.sh).

A real `patrol-centre serve` with `[jt808]`; TERMINALS terminals (registered in its database the
way `devices add --jt808` does, in one transaction, to keep the setup short) connect at once,
register (0x0100), authenticate (0x0102) and then each sends a 0x0200 location report every
INTERVAL seconds, their phases spread evenly over the interval. The terminals are written here
from the standard with jt808_drain.py's Python framing (independent of the Swift codec), all on
one asyncio loop. Measured over DURATION seconds after everyone authenticated:

* sustained points/s: reports answered 0x8001 result 0 per second, and the points the centre's
  track table holds afterwards (both, so a lost point shows);
* answer latency: 0x0200 written -> its 0x8001 read, p50 / p99 / max;
* the centre's CPU (% of one core, utime+stime from /proc) and RSS (median of 1 s samples, peak).

Usage: jt808_ingest.py CENTRE WORKDIR [TERMINALS] [INTERVAL] [DURATION]
"""
import asyncio, datetime, os, socket, sqlite3, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jt808_drain import escape, unescape  # noqa: E402
from agent_rig import free_port, percentile  # noqa: E402

GMT8 = datetime.timezone(datetime.timedelta(hours=8))


def frame(message_id, phone, serial, body):
    content = message_id.to_bytes(2, "big") + len(body).to_bytes(2, "big") + phone + serial.to_bytes(2, "big") + body
    check = 0
    for b in content:
        check ^= b
    return escape(content + bytes([check]))


def report(index, when):
    """A 0x0200 body: positioned, north-east, a point on a small circle per terminal, satellites."""
    local = datetime.datetime.fromtimestamp(int(when), GMT8)
    bcd = bytes.fromhex(local.strftime("%y%m%d%H%M%S"))
    lat = 22_500_000 + index * 100 + int(when) % 1000
    lon = 114_000_000 + index * 100
    return ((0).to_bytes(4, "big") + (2).to_bytes(4, "big") + lat.to_bytes(4, "big") + lon.to_bytes(4, "big")
            + (30).to_bytes(2, "big") + (360).to_bytes(2, "big") + (90).to_bytes(2, "big") + bcd + b"\x31\x01\x09")


class Terminal:
    def __init__(self, index):
        self.index = index
        self.phone = bytes.fromhex("0139%08d" % index)
        self.serial = 0
        self.waiting = {}  # serial -> (future, sent time)

    async def connect(self, port):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.pump = asyncio.create_task(self.read())

    def send(self, message_id, body):
        self.serial = (self.serial + 1) & 0xFFFF
        future = asyncio.get_running_loop().create_future()
        self.waiting[self.serial] = (future, time.perf_counter())
        self.writer.write(frame(message_id, self.phone, self.serial, body))
        return future

    async def read(self):
        pending = b""
        while data := await self.reader.read(65536):
            pending += data
            while True:
                start = pending.find(b"\x7e")
                end = pending.find(b"\x7e", start + 1)
                if start < 0 or end < 0:
                    break
                content, pending = unescape(pending[start + 1:end]), pending[end + 1:]
                if len(content) < 13:
                    continue
                message_id, body = int.from_bytes(content[0:2], "big"), content[12:-1]
                answered = int.from_bytes(body[0:2], "big")
                if message_id in (0x8001, 0x8100) and answered in self.waiting:
                    future, sent = self.waiting.pop(answered)
                    if not future.done():
                        future.set_result((body, time.perf_counter() - sent))

    async def login(self):
        body, _ = await self.send(0x0100, b"\x00\x2c\x01\x2c" + b"BENCH" + b"load-generator".ljust(20, b"\x00") + b"T000001" + b"\x01" + b"B-BENCH")
        assert body[2] == 0, "registration refused: result %d" % body[2]
        answer, _ = await self.send(0x0102, body[3:])
        assert answer[4] == 0, "authentication refused"


async def load(port, terminals, interval, duration):
    fleet = [Terminal(i) for i in range(terminals)]
    for terminal in fleet:
        await terminal.connect(port)
    await asyncio.gather(*(terminal.login() for terminal in fleet))
    latencies, failures = [], 0
    start = time.time()

    async def run(terminal):
        nonlocal failures
        await asyncio.sleep(interval * terminal.index / terminals)
        next_at = time.time()
        while next_at < start + duration:
            answer, latency = await terminal.send(0x0200, report(terminal.index, next_at))
            if answer[4] == 0:
                latencies.append(latency)
            else:
                failures += 1
            next_at += interval
            await asyncio.sleep(max(0, next_at - time.time()))

    await asyncio.gather(*(run(terminal) for terminal in fleet))
    elapsed = time.time() - start
    for terminal in fleet:
        terminal.writer.close()
    return latencies, failures, elapsed


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid, key="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    centre, work = sys.argv[1:3]
    terminals = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    interval = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
    duration = float(sys.argv[5]) if len(sys.argv) > 5 else 120.0
    http_port, jt808_port = free_port(), free_port()
    config = os.path.join(work, "centre.toml")
    with open(config, "w") as f:
        f.write(f'[server]\naddress = "127.0.0.1"\nport = {http_port}\n[storage]\ndatabase = "{work}/centre.db"\n'
                f'[jt808]\naddress = "127.0.0.1"\nport = {jt808_port}\nmax_connections = {terminals + 100}\n')
    subprocess.run([centre, "devices", "add", "t0", "--jt808", "0139%08d" % 0, "--config", config], check=True, capture_output=True)
    db = sqlite3.connect(f"{work}/centre.db")
    with db:
        for i in range(1, terminals):
            db.execute("INSERT INTO devices (id, hmac_key, registered_ms) VALUES (?, ?, ?)", (f"t{i}", os.urandom(32), int(time.time() * 1000)))
            db.execute("INSERT INTO terminals (phone, device) VALUES (?, ?)", ("139%08d" % i, f"t{i}"))
    db.close()
    server = subprocess.Popen(["prlimit", f"--nofile={terminals + 1024}:{terminals + 1024}", "--", centre, "serve", "--config", config],
                              stdout=open(os.path.join(work, "centre.log"), "w"), stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", jt808_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        samples = []

        async def sampled():
            cpu_before, wall_before = cpu_seconds(server.pid), time.time()
            task = asyncio.create_task(load(jt808_port, terminals, interval, duration))
            while not task.done():
                await asyncio.sleep(1)
                samples.append(rss_mib(server.pid))
            cpu = (cpu_seconds(server.pid) - cpu_before) / (time.time() - wall_before) * 100
            return (*task.result(), cpu)

        latencies, failures, elapsed, cpu = asyncio.run(sampled())
        stored = sqlite3.connect(f"file:{work}/centre.db?mode=ro", uri=True).execute("SELECT count(*) FROM track_points").fetchone()[0]
        print(f"terminals {terminals}, one report every {interval:g} s each, offered {terminals / interval:.0f} points/s for {duration:g} s "
              f"(last answer after {elapsed:.0f} s)")
        print(f"answered 0x8001 result 0: {len(latencies)} ({len(latencies) / max(duration, elapsed - interval):.1f} points/s), refused or failed: {failures}; "
              f"in the track table: {stored}")
        ms = [l * 1000 for l in latencies]
        print(f"0x0200 -> 0x8001: p50 {percentile(ms, 50):.2f} ms, p99 {percentile(ms, 99):.2f} ms, max {max(ms):.2f} ms")
        print(f"centre: CPU {cpu:.1f}% of one core (login included), RSS median {statistics.median(samples):.1f} MiB, "
              f"peak {rss_mib(server.pid, 'VmHWM'):.1f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
