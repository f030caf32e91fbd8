#!/usr/bin/env python3
"""Coverage benchmark: 100 units × 8 h × 1 Hz (2.82 M points: 2.88 M less a ten-minute silence
per unit) ingested into a fresh centre store through the real ingest API (signed batches from
ingest_benchmark.py's independent encoder), then `patrol-centre coverage` for all units timed
several times. Prints the median wall time and the peak RSS of the coverage process (from wait4).

Each unit patrols its own 1.5 km square (about 200 cells of 100 m) with two hourly checkpoints,
driving 8–16 m/s, stopping two minutes at a checkpoint every twenty minutes, and goes silent for
ten minutes once.

With `--days 7` every unit works the same shift on seven days (100 units: 20.2 M points) and
the week is also summed up per area and unit (`--format summary-csv`), timed the same way.

With `--duty` each unit's person (one per unit, posted to its area) signs on at the start of every
shift and off at its end with a badge read (duty.sign-on / duty.sign-off events), and
`patrol-centre duty report` for the whole range is timed too: it reads every signed-on track.

Usage: Benchmarks/coverage_benchmark.py [--binary .build/release/patrol-centre] [--units 100] [--hours 8] [--days 1] [--runs 5] [--duty]
"""
import argparse, http.client, math, os, random, re, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest_benchmark import encode_batch, free_port, signed_headers, wait_for_port  # noqa: E402

DAY_MS = 1_795_132_800_000  # 2026-11-20T00:00:00Z
SHIFT_START_MS = DAY_MS + 8 * 3_600_000
SIDE_LAT, SIDE_LON = 0.0135, 0.0200  # ≈ 1.5 km × 1.36 km at 52.3°


def area_origin(unit):
    return 52.30 + (unit // 10) * 0.015, 4.80 + (unit % 10) * 0.022


def plan_text(units, duty=False):
    lines = ['name = "benchmark"', "[grid]", "origin = { lat = 52.29, lon = 4.79 }", "cell_size = 100"]
    for unit in range(units):
        lat, lon = area_origin(unit)
        ring = [[lon, lat], [lon + SIDE_LON, lat], [lon + SIDE_LON, lat + SIDE_LAT], [lon, lat + SIDE_LAT], [lon, lat]]
        coordinates = ",".join(f"[{x:.6f},{y:.6f}]" for x, y in ring)
        lines += ["[[area]]", f'id = "area-{unit}"', f"geojson = '{{\"type\":\"Polygon\",\"coordinates\":[[{coordinates}]]}}'"]
        for index, (f_lat, f_lon) in enumerate(CHECKPOINT_FRACTIONS):
            lines += ["[[checkpoint]]", f'id = "cp-{unit}-{index}"',
                      f"position = {{ lat = {lat + SIDE_LAT * f_lat:.6f}, lon = {lon + SIDE_LON * f_lon:.6f} }}",
                      "radius = 40", "min_dwell_seconds = 30", "every_minutes = 60"]
    for unit in range(units):
        lines += ["[[unit]]", f'device = "unit-{unit}"', "[[unit.shift]]", 'start = "08:00"', 'end = "16:00"',
                  f'areas = ["area-{unit}"]', f'checkpoints = ["cp-{unit}-0", "cp-{unit}-1"]']
        if duty:
            lines += ["[[post]]", f'id = "post-{unit}"', f'areas = ["area-{unit}"]', f'units = ["unit-{unit}"]',
                      "[[person]]", f'id = "person-{unit}"', f'badges = ["B{unit:08d}"]', f'posts = ["post-{unit}"]',
                      "min_hours_per_week = 20"]
    return "\n".join(lines) + "\n"


def duty_events(unit, day, seconds):
    """The person's badge read at the start and the end of the unit's shift on `day`."""
    start_ms = SHIFT_START_MS + day * 86_400_000
    return [dict(seq=2 * day + 1 + offset, kind=kind, t=start_ms + offset * seconds * 1000,
                 payload=f'{{"kind":"{kind}","badge":"B{unit:08d}"}}')
            for offset, kind in enumerate(("duty.sign-on", "duty.sign-off"))]


CHECKPOINT_FRACTIONS = [(0.3, 0.3), (0.7, 0.6)]


def patrol(unit, seconds, rng, day=0, sequence=1):
    """1 Hz points inside the unit's square, bouncing off its edges; every 20 minutes it heads for
    its checkpoints in turn (the last 5 minutes before a stop) and stops there for 2 minutes.
    Integers as on the wire; the shift of `day` days after the first, numbered from `sequence`."""
    lat0, lon0 = area_origin(unit)
    lat, lon = lat0 + SIDE_LAT / 2, lon0 + SIDE_LON / 2
    heading, points = rng.uniform(0, 360), []
    start_ms = SHIFT_START_MS + day * 86_400_000
    silent_from = rng.randint(seconds // 8, seconds - seconds // 8 - 600)
    for second in range(seconds):
        phase = second % 1200
        f_lat, f_lon = CHECKPOINT_FRACTIONS[(second // 1200 + 1) % 2]
        target = (lat0 + SIDE_LAT * f_lat, lon0 + SIDE_LON * f_lon)
        north = (target[0] - lat) * 111_195
        east = (target[1] - lon) * 111_195 * math.cos(math.radians(lat))
        homing, distance = phase >= 900 or phase < 120, math.hypot(north, east)
        if homing:
            heading = math.degrees(math.atan2(east, north))
            speed = 0.0 if phase < 120 and distance < 15 else min(8 + rng.random() * 8, max(1.0, distance))
        else:
            heading += rng.uniform(-8, 8)
            speed = 8 + rng.random() * 8
        lat += speed * math.cos(math.radians(heading)) / 111_195
        lon += speed * math.sin(math.radians(heading)) / (111_195 * math.cos(math.radians(lat)))
        if not (lat0 < lat < lat0 + SIDE_LAT and lon0 < lon < lon0 + SIDE_LON):
            heading += 180
            lat = min(max(lat, lat0 + 1e-5), lat0 + SIDE_LAT - 1e-5)
            lon = min(max(lon, lon0 + 1e-5), lon0 + SIDE_LON - 1e-5)
        if silent_from <= second < silent_from + 600:
            continue
        points.append(dict(seq=sequence, t=start_ms + second * 1000, lat=round(lat * 1e7), lon=round(lon * 1e7),
                           alt=340, speed=int(speed * 100), track=int(heading % 360 * 100), hdop=90 + rng.randint(0, 30),
                           sats=10))
        sequence += 1
    return points


def send(connection, device, key, body):
    connection.request("POST", "/v1/ingest", body=body, headers=signed_headers(device, key, body))
    response = connection.getresponse()
    answer = response.read()
    assert response.status == 200, answer


def fill(binary, folder, units, seconds, days=1, duty=False):
    port = free_port()
    config = os.path.join(folder, "centre.toml")
    with open(config, "w") as f:
        f.write(f'[server]\naddress = "127.0.0.1"\nport = {port}\n[storage]\ndatabase = "centre.db"\n'
                f'[limits]\nmax_body_bytes = 33554432\n')
    keys = {}
    for unit in range(units):
        added = subprocess.run([binary, "devices", "add", f"unit-{unit}", "--config", config], check=True,
                               capture_output=True, text=True).stdout
        keys[unit] = bytes.fromhex(re.findall(r"^[0-9a-f]{64}$", added, re.M)[0])
    server = subprocess.Popen([binary, "serve", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        rng, total, began = random.Random(7), 0, time.perf_counter()
        for unit in range(units):
            sequence = 1
            for day in range(days):
                points = patrol(unit, seconds, rng, day, sequence)
                sequence += len(points)
                total += len(points)
                send(connection, f"unit-{unit}", keys[unit], encode_batch(f"unit-{unit}", points))
                if duty:
                    send(connection, f"unit-{unit}", keys[unit], encode_batch(f"unit-{unit}", [], duty_events(unit, day, seconds)))
        print(f"filled: {total:,} points of {units} units through POST /v1/ingest in {time.perf_counter() - began:.0f} s")
    finally:
        server.terminate()
        server.wait()
    return config


def timed(arguments):
    """Wall seconds and peak RSS (MiB) of one run, stdout discarded."""
    began = time.perf_counter()
    process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - began
    if status != 0:
        raise SystemExit(f"{' '.join(arguments)} failed: {process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/patrol-centre")
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--hours", type=float, default=8)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", help="keep the filled store in this folder")
    parser.add_argument("--duty", action="store_true", help="add sign-ons and time `duty report` too")
    args = parser.parse_args()
    folder = args.keep or tempfile.mkdtemp(prefix="coverage-bench-")
    os.makedirs(folder, exist_ok=True)
    try:
        config = fill(args.binary, folder, args.units, int(args.hours * 3600), args.days, args.duty)
        plan = os.path.join(folder, "plan.toml")
        with open(plan, "w") as f:
            f.write(plan_text(args.units, args.duty))
        until = SHIFT_START_MS + (args.days - 1) * 86_400_000 + int(args.hours * 3_600_000)
        iso = lambda ms: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))
        command = [args.binary, "coverage", "--config", config, "--plan", plan, "--from", iso(SHIFT_START_MS), "--to", iso(until)]
        for fmt in ("csv", "html") if args.days == 1 else ("csv", "summary-csv"):
            runs = [timed(command + ["--format", fmt]) for _ in range(args.runs)]
            seconds = [r[0] for r in runs]
            print(f"coverage --format {fmt}, all {args.units} units: median {statistics.median(seconds):.2f} s "
                  f"(min {min(seconds):.2f}, max {max(seconds):.2f}, {args.runs} runs), peak RSS {max(r[1] for r in runs):.0f} MiB")
        if args.duty:
            duty = [args.binary, "duty", "report", "--config", config, "--plan", plan, "--from", iso(SHIFT_START_MS), "--to", iso(until),
                    "--format", "csv"]
            runs = [timed(duty) for _ in range(args.runs)]
            seconds = [r[0] for r in runs]
            print(f"duty report --format csv, all {args.units} persons: median {statistics.median(seconds):.2f} s "
                  f"(min {min(seconds):.2f}, max {max(seconds):.2f}, {args.runs} runs), peak RSS {max(r[1] for r in runs):.0f} MiB")
            rows = subprocess.run(duty, capture_output=True, text=True, check=True).stdout.splitlines()
            print("duty rows:\n  " + "\n  ".join(row[:160] for row in rows[:3]))
        summary = subprocess.run(command + ["--format", "csv"], capture_output=True, text=True, check=True).stdout.splitlines()
        print("first rows:\n  " + "\n  ".join(row[:160] for row in summary[:3]))
    finally:
        if not args.keep:
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()
