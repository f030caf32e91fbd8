#!/usr/bin/env python3
"""Ingest benchmark: runs the real patrol-centre on 127.0.0.1 with a fresh SQLite file, registers a
device, and sends large signed batches of 1 Hz track points, timing until each response (which is
sent only after the SQLite commit).

It encodes batches with its own small Python encoder written from Docs/uplink-protocol.md, so it also
checks that the document is enough to implement the format.

Usage: Benchmarks/ingest_benchmark.py [--binary .build/release/patrol-centre] [--batches 5] [--points 86400]
"""
import argparse, hashlib, hmac, http.client, math, os, random, re, secrets, shutil, socket, subprocess, tempfile, time, zlib


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


def encode_batch(device, points):
    """points: list of dicts with seq, t, lat, lon, alt, speed, track, hdop, sats (all integers, always present)."""
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
    uvarint(0, payload)  # events
    uvarint(0, payload)  # heartbeats
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/patrol-centre")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--points", type=int, default=86_400)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="centre-bench-")
    port = free_port()
    config = os.path.join(folder, "centre.toml")
    with open(config, "w") as f:
        f.write(f'[server]\naddress = "127.0.0.1"\nport = {port}\n[storage]\ndatabase = "centre.db"\n'
                f'[limits]\nmax_body_bytes = 33554432\n')
    added = subprocess.run([args.binary, "devices", "add", "bench-1", "--config", config], check=True,
                           capture_output=True, text=True).stdout
    key = bytes.fromhex(re.findall(r"^[0-9a-f]{64}$", added, re.M)[0])
    server = subprocess.Popen([args.binary, "serve", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rng = random.Random(42)
        start_ms = int(time.time() * 1000) - 86_400_000
        bodies = [encode_batch("bench-1", drive(1 + b * args.points, args.points, start_ms, rng)) for b in range(args.batches)]
        wait_for_port(port)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        wire_bytes, elapsed = 0, 0.0
        for body in bodies:
            headers = signed_headers("bench-1", key, body)
            began = time.perf_counter()
            connection.request("POST", "/v1/ingest", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            elapsed += time.perf_counter() - began
            assert response.status == 200, answer
            assert b'"track":[[' in answer, answer
            head = "POST /v1/ingest HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            wire_bytes += len(body) + len(head) + len(answer) + 200  # + response head
        total = args.batches * args.points
        print(f"{total} points in {args.batches} batches of {args.points}: {elapsed:.2f} s, {total / elapsed:,.0f} points/s")
        print(f"wire: {wire_bytes / total:.2f} bytes per point (HTTP bodies and headers both ways; "
              f"TLS adds about 29 bytes per 16 KiB record, < 0.2%)")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
