#!/usr/bin/env python3
"""Ingest benchmark: runs the real patrol-centre on 127.0.0.1 with a fresh SQLite file, registers a
device, and sends large signed batches of 1 Hz track points, timing until each response (which is
sent only after the SQLite commit). Side by side in the same run, its peer: the same rows inserted
with Python's sqlite3 `executemany` (no HTTP, no decoding) into a fresh file with the centre's own
track table and indexes (read from the centre's store), the same INSERT, the same pragmas (WAL,
synchronous=FULL), in one transaction: what the SQLite engine itself can do on this machine.
Each run uses fresh files; it prints every run and the medians with their ratio.

It encodes batches with its own small Python encoder written from Docs/uplink-protocol.md, so it also
checks that the document is enough to implement the format.

Usage: Benchmarks/ingest_benchmark.py [--binary .build/release/patrol-centre] [--batches 5] [--points 86400] [--runs 3]
"""
import argparse, hashlib, hmac, http.client, math, os, random, re, secrets, shutil, socket, sqlite3, statistics, subprocess, \
    tempfile, time, zlib


def uvarint(value, out):
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def svarint(value, out):
    uvarint((value << 1) ^ (value >> 63) if value >= 0 else ((-value) << 1) - 1, out)


def string(text, out):
    data = text.encode()
    uvarint(len(data), out)
    out.extend(data)


def encode_batch(device, points, events=(), heartbeats=()):
    """points: list of dicts with seq, t, lat, lon, alt, speed, track, hdop, sats (all integers, always present);
    events: list of dicts with seq, kind, t and optionally payload (button "panic", no position, the payload's JSON
    object or an empty one); heartbeats: list of dicts with seq, t and pending (time source "system")."""
    payload = bytearray()
    string(device, payload)
    uvarint(0, payload)  # downlink acknowledged through
    uvarint(len(points), payload)
    if points:
        uvarint(points[0]["seq"], payload)
        for previous, point in zip(points, points[1:]):
            svarint(point["seq"] - previous["seq"] - 1, payload)
        for field in ("t", "lat", "lon"):
            previous = previous_delta = 0
            for point in points:
                delta = point[field] - previous
                svarint(delta - previous_delta, payload)
                previous, previous_delta = point[field], delta
        payload.extend(bytes([3 | 0b1111100]) * len(points))  # 3D fix, all five optional fields present
        for field in ("alt", "speed", "track", "hdop", "sats"):
            previous = 0
            for point in points:
                svarint(point[field] - previous, payload)
                previous = point[field]
    uvarint(len(events), payload)
    for event in events:
        uvarint(event["seq"], payload)
        string(event["kind"], payload)
        svarint(event["t"], payload)
        string("gnss", payload)
        payload.append(0b10)  # no position, a button id
        string("panic", payload)
        string(event.get("payload", "{}"), payload)
    uvarint(len(heartbeats), payload)
    for heartbeat in heartbeats:
        uvarint(heartbeat["seq"], payload)
        svarint(heartbeat["t"], payload)
        string("system", payload)
        uvarint(heartbeat["pending"], payload)
    body = bytearray(b"PLB\x01\x01")
    uvarint(len(payload), body)
    body.extend(zlib.compress(bytes(payload)))
    return bytes(body)


def drive(first_seq, count, start_ms, rng):
    lat, lon, heading, points = 525_200_000, 134_050_000, 0.0, []
    for i in range(count):
        speed = 8 + rng.random() * 8
        heading += rng.uniform(-5, 5)
        lat += int(speed * 90 * math.cos(math.radians(heading))) + rng.randint(-3, 3)
        lon += int(speed * 140 * math.sin(math.radians(heading))) + rng.randint(-3, 3)
        points.append(dict(seq=first_seq + i, t=start_ms + i * 1000, lat=lat, lon=lon, alt=340 + rng.randint(0, 4),
                           speed=int(speed * 100), track=int(heading % 360 * 100), hdop=90 + rng.randint(0, 19),
                           sats=9 + rng.randint(0, 2)))
    return points


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_headers(device, key, body):
    """The headers of a POST /v1/ingest of `body` signed with the device's key (Docs/uplink-protocol.md)."""
    timestamp, nonce = str(int(time.time() * 1000)), secrets.token_hex(16)
    text = "\n".join(["PATROL-HMAC-SHA256-1", "POST", "/v1/ingest", timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return {"Content-Type": "application/vnd.patrol.batch", "X-Patrol-Device": device, "X-Patrol-Timestamp": timestamp,
            "X-Patrol-Nonce": nonce, "X-Patrol-Signature": hmac.new(key, text.encode(), hashlib.sha256).hexdigest()}


def wait_for_port(port):
    """Waits up to 10 s for a server on 127.0.0.1:port; a centre that never listens ends the benchmark."""
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}: the centre did not start")


def start_centre(binary, folder, devices):
    """Configures a centre in `folder` on a free loopback port, registers `devices` and starts
    `patrol-centre serve`; returns the process, the port, the configuration file and each device's key."""
    port = free_port()
    config = os.path.join(folder, "centre.toml")
    with open(config, "w") as f:
        f.write(f'[server]\naddress = "127.0.0.1"\nport = {port}\n[storage]\ndatabase = "centre.db"\n'
                f'[limits]\nmax_body_bytes = 33554432\n')
    keys = {}
    for device in devices:
        added = subprocess.run([binary, "devices", "add", device, "--config", config], check=True,
                               capture_output=True, text=True).stdout
        keys[device] = bytes.fromhex(re.findall(r"^[0-9a-f]{64}$", added, re.M)[0])
    server = subprocess.Popen([binary, "serve", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return server, port, config, keys


def stop(server):
    server.terminate()
    server.wait()


def centre_rate(binary, bodies, total):
    """Points per second through POST /v1/ingest into a fresh store, and wire bytes per point."""
    folder = tempfile.mkdtemp(prefix="centre-bench-")
    server, port, _, keys = start_centre(binary, folder, ["bench-1"])
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        wire_bytes, elapsed = 0, 0.0
        for body in bodies:
            headers = signed_headers("bench-1", keys["bench-1"], body)
            began = time.perf_counter()
            connection.request("POST", "/v1/ingest", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            elapsed += time.perf_counter() - began
            assert response.status == 200, answer
            assert b'"track":[[' in answer, answer
            head = "POST /v1/ingest HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            wire_bytes += len(body) + len(head) + len(answer) + 200  # + response head
        return total / elapsed, wire_bytes / total
    finally:
        stop(server)
        shutil.rmtree(folder)


def bare_sqlite_rate(binary, rows):
    """Rows per second of one `executemany` of the centre's INSERT, in one transaction, into a fresh
    file made with the centre's own track table and indexes (copied from a store the centre created)."""
    folder = tempfile.mkdtemp(prefix="bare-sqlite-bench-")
    try:
        config = os.path.join(folder, "centre.toml")
        with open(config, "w") as f:
            f.write('[server]\naddress = "127.0.0.1"\n[storage]\ndatabase = "centre.db"\n')
        subprocess.run([binary, "devices", "list", "--config", config], check=True, capture_output=True)
        with sqlite3.connect(os.path.join(folder, "centre.db")) as centre:
            schema = [sql for (sql,) in centre.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'track_points' AND sql IS NOT NULL ORDER BY type DESC")]
        database = sqlite3.connect(os.path.join(folder, "bare.db"), isolation_level=None)
        database.execute("PRAGMA journal_mode = WAL")
        database.execute("PRAGMA synchronous = FULL")
        for sql in schema:
            database.execute(sql)
        began = time.perf_counter()
        database.execute("BEGIN IMMEDIATE")
        database.executemany("INSERT OR IGNORE INTO track_points (device, sequence, time_ms, lat_e7, lon_e7, mode, alt_dm, "
                             "speed_cm_s, track_cdeg, hdop_c, satellites, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             rows)
        database.execute("COMMIT")
        elapsed = time.perf_counter() - began
        assert database.execute("SELECT count(*) FROM track_points").fetchone()[0] == len(rows)
        database.close()
        return len(rows) / elapsed
    finally:
        shutil.rmtree(folder)


def ingest_workload():
    """The ingest benchmarks' command line and their workload: `--batches` batches of `--points`
    1 Hz points of one drive (the same seed every run), ending now."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/patrol-centre")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--points", type=int, default=86_400)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(42)
    start_ms = int(time.time() * 1000) - 86_400_000
    return args, [drive(1 + b * args.points, args.points, start_ms, rng) for b in range(args.batches)]


def main():
    args, batches = ingest_workload()
    bodies = [encode_batch("bench-1", points) for points in batches]
    received_ms = int(time.time() * 1000)
    rows = [("bench-1", p["seq"], p["t"], p["lat"], p["lon"], 3, p["alt"], p["speed"], p["track"], p["hdop"], p["sats"],
             received_ms) for points in batches for p in points]
    total = args.batches * args.points
    centre, bare, wire = [], [], 0.0
    for run in range(1, args.runs + 1):
        rate, wire = centre_rate(args.binary, bodies, total)
        centre.append(rate)
        bare.append(bare_sqlite_rate(args.binary, rows))
        print(f"run {run}: centre {centre[-1]:,.0f} points/s, bare SQLite {bare[-1]:,.0f} rows/s "
              f"({centre[-1] / bare[-1]:.0%})", flush=True)
    print(f"{total} points in {args.batches} batches of {args.points}, {args.runs} runs, medians:")
    print(f"  centre (POST /v1/ingest, signed, committed before each answer): {statistics.median(centre):,.0f} points/s "
          f"({min(centre):,.0f}–{max(centre):,.0f})")
    print(f"  bare SQLite executemany, same rows, table and indexes, one transaction: {statistics.median(bare):,.0f} rows/s "
          f"({min(bare):,.0f}–{max(bare):,.0f})")
    print(f"  centre / bare SQLite: {statistics.median(centre) / statistics.median(bare):.0%}")
    print(f"wire: {wire:.2f} bytes per point (HTTP bodies and headers both ways; "
          f"TLS adds about 29 bytes per 16 KiB record, < 0.2%)")


if __name__ == "__main__":
    main()
