#!/usr/bin/env python3
"""Alarm under a flood of uploads: how long a panic takes to be committed at the centre while other
uploads hammer it, against the same panics with the centre quiet, side by side in one run.

A real patrol-centre on 127.0.0.1 with a fresh store. One process (`panics`) sends a signed batch
holding one panic (and the newest position, as the agent does) every ~100 ms and times each POST
until its 200, which the centre sends only after the commit: the time is an upper bound of
"panic committed at the centre". First with the centre quiet, then while another process (`flood`)
keeps 200 connections each posting 2,000-point track batches back to back, as one device
(`--flood-devices 1`, the issue's case) or spread over several. On `429` a flood connection waits
`Retry-After` and sends the batch again, as the agent's uplink does; `--hostile` sends again at once.
The flood client runs on the same machine as the centre, so it also takes CPU from it. Prints
p50/p99/max of both series, and what the flood got answered.

Usage: Benchmarks/alarm_under_flood.py [--binary .build/release/patrol-centre] [--panics 100]
       [--connections 200] [--points 2000] [--flood-devices 1] [--flood-bodies 600] [--hostile]
"""
import argparse, asyncio, http.client, multiprocessing, os, shutil, statistics, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest_benchmark import encode_batch, signed_headers, start_centre, stop  # noqa: E402
from agent_rig import percentile  # noqa: E402

FLOOD_START_MS = int(time.time() * 1000) - 60 * 86_400_000  # a backlog: 600 batches of 2,000 s end ~46 days later


def flood_body(arguments):
    """The `index`-th flood batch of `device`: `points` 1 Hz points with their own sequences."""
    device, index, points = arguments
    first = 1 + index * points
    track = [dict(seq=first + i, t=FLOOD_START_MS + (first + i) * 1000, lat=525_200_000 + i * 90, lon=134_050_000 + i * 140,
                  alt=340, speed=1200, track=4500, hdop=90, sats=10) for i in range(points)]
    return device, encode_batch(device, track)


async def post(reader, writer, device, key, body):
    """One signed POST /v1/ingest on a kept-alive connection; returns the status code and Retry-After."""
    headers = signed_headers(device, key, body)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(f"POST /v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
    status_line = await reader.readline()
    fields = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        fields[name.strip().lower()] = value.strip()
    await reader.readexactly(int(fields.get("content-length", 0)))
    return int(status_line.split()[1]), int(fields.get("retry-after", 0))


def flood(port, keys, bodies, connections, hostile, stop_event, counts):
    """Keeps `connections` connections posting `bodies` round robin until `stop_event` is set; a
    batch refused with 429 is sent again after Retry-After (at once when `hostile`)."""
    async def worker(number):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        turn = number
        while not stop_event.is_set():
            device, body = bodies[turn % len(bodies)]
            status, retry_after = await post(reader, writer, device, keys[device], body)
            with counts.get_lock():
                counts[0 if status == 200 else 1 if status == 429 else 2] += 1
            if status == 429 and not hostile:
                await asyncio.sleep(retry_after)
            if status != 429:
                turn += connections
        writer.close()

    async def run():
        await asyncio.gather(*(worker(number) for number in range(connections)))

    asyncio.run(run())


def panics(port, key, count, first_sequence, results):
    """Sends `count` panics ~100 ms apart on one kept-alive connection; appends each POST's seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for number in range(count):
        sequence = first_sequence + number
        now = int(time.time() * 1000)
        position = dict(seq=sequence, t=now, lat=525_300_000, lon=134_100_000, alt=340, speed=0, track=0, hdop=90, sats=10)
        body = encode_batch("panic-1", [position], [dict(seq=sequence, kind="panic", t=now)])
        began = time.perf_counter()
        connection.request("POST", "/v1/ingest", body=body, headers=signed_headers("panic-1", key, body))
        response = connection.getresponse()
        answer = response.read()
        elapsed = time.perf_counter() - began
        assert response.status == 200 and f'"event":[[{sequence},{sequence}]]'.encode() in answer, answer
        results.append(elapsed)
        time.sleep(max(0.0, 0.1 - elapsed))


def series(port, key, count, first_sequence):
    """Runs `panics` in a process of its own (so the flood's Python does not delay its timing)."""
    with multiprocessing.Manager() as manager:
        results = manager.list()
        process = multiprocessing.Process(target=panics, args=(port, key, count, first_sequence, results))
        process.start()
        process.join()
        if process.exitcode != 0:
            raise SystemExit("the panic sender failed")
        return list(results)


def summary(name, seconds):
    ms = [s * 1000 for s in seconds]
    return (f"{name:<28} n={len(ms):<4} p50 {statistics.median(ms):7.1f} ms   p99 {percentile(ms, 99):7.1f} ms"
            f"   max {max(ms):7.1f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/patrol-centre")
    parser.add_argument("--panics", type=int, default=100)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--flood-devices", type=int, default=1)
    parser.add_argument("--flood-bodies", type=int, default=600, help="distinct batches; later posts resend them")
    parser.add_argument("--hostile", action="store_true", help="ignore 429's Retry-After and send again at once")
    args = parser.parse_args()
    flood_devices = [f"flood-{number}" for number in range(args.flood_devices)]
    with multiprocessing.Pool() as pool:
        bodies = pool.map(flood_body, [(flood_devices[i % len(flood_devices)], i // len(flood_devices), args.points)
                                       for i in range(args.flood_bodies)])
    folder = tempfile.mkdtemp(prefix="alarm-flood-bench-")
    server, port, _, keys = start_centre(args.binary, folder, ["panic-1"] + flood_devices)
    try:
        quiet = series(port, keys["panic-1"], args.panics, 1)
        stop_event, counts = multiprocessing.Event(), multiprocessing.Array("q", 3)
        flooder = multiprocessing.Process(target=flood, args=(port, keys, bodies, args.connections, args.hostile, stop_event, counts))
        began = time.perf_counter()
        flooder.start()
        time.sleep(2)  # let the flood fill the centre's queues
        flooded = series(port, keys["panic-1"], args.panics, 1 + args.panics)
        stop_event.set()
        flood_seconds = time.perf_counter() - began
        flooder.join(timeout=120)
        if flooder.is_alive():
            flooder.kill()
        print(f"panic POST until its 200 (committed), one every ~100 ms; flood: {args.connections} connections × "
              f"{args.points}-point batches from {args.flood_devices} device(s), "
              f"{'429 ignored (hostile)' if args.hostile else 'Retry-After honoured'}")
        print(summary("quiet centre", quiet))
        print(summary("under the flood", flooded))
        print(f"flood answers over the whole flood: {counts[0]} × 200 ({counts[0] * args.points / flood_seconds:,.0f} "
              f"points/s, resends of stored points included), {counts[1]} × 429, {counts[2]} other")
    finally:
        stop(server)
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
