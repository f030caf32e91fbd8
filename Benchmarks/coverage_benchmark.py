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

With `--backend both` the same points go into a fresh SQLite store and a fresh PostgreSQL database
(ingest_postgres.py's server, through a second real `serve`), and each run times, side by side,
`coverage` on SQLite, `coverage` on PostgreSQL and the plain PostGIS query a GIS engineer would
write for the same cells (`POSTGIS_PEER`). The two CSVs must be identical and the peer's assigned
and covered cells per unit must equal ours; any difference is printed and fails the run.
`--backend postgres` leaves SQLite out.

Usage: Benchmarks/coverage_benchmark.py [--binary .build/release/patrol-centre] [--units 100] [--hours 8] [--days 1] [--runs 5] [--duty]
                                        [--backend sqlite|postgres|both]
"""
import argparse, csv, http.client, io, math, os, random, re, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest_benchmark import encode_batch, free_port, signed_headers, wait_for_port  # noqa: E402
from ingest_postgres import POSTGRES, PostgresServer  # noqa: E402

DAY_MS = 1_795_132_800_000  # 2026-11-20T00:00:00Z
SHIFT_START_MS = DAY_MS + 8 * 3_600_000
SIDE_LAT, SIDE_LON = 0.0135, 0.0200  # ≈ 1.5 km × 1.36 km at 52.3°
GRID_ORIGIN, CELL_SIZE = (52.29, 4.79), 100


def area_origin(unit):
    return 52.30 + (unit // 10) * 0.015, 4.80 + (unit % 10) * 0.022


def plan_text(units, duty=False):
    lines = ['name = "benchmark"', "[grid]", f"origin = {{ lat = {GRID_ORIGIN[0]}, lon = {GRID_ORIGIN[1]} }}", f"cell_size = {CELL_SIZE}"]
    for unit in range(units):
        lat, lon = area_origin(unit)
        lines += ["[[area]]", f'id = "area-{unit}"', f"geojson = '{area_geojson(unit)}'"]
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


def area_geojson(unit):
    """The unit's square as a GeoJSON polygon, the text the plan and the PostGIS peer both read."""
    lat, lon = area_origin(unit)
    ring = [[lon, lat], [lon + SIDE_LON, lat], [lon + SIDE_LON, lat + SIDE_LAT], [lon, lat + SIDE_LAT], [lon, lat]]
    coordinates = ",".join(f"[{x:.6f},{y:.6f}]" for x, y in ring)
    return f'{{"type":"Polygon","coordinates":[[{coordinates}]]}}'


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


def fill(binary, folder, storages, units, seconds, days=1, duty=False):
    """The same points into every store of `storages` (name: its `[storage]` TOML lines), each
    through its own `serve`; returns each store's centre.toml."""
    configs, keys, servers = {}, {}, []
    for name, storage in storages.items():
        port = free_port()
        configs[name] = os.path.join(folder, f"centre-{name}.toml")
        with open(configs[name], "w") as f:
            f.write(f'[server]\naddress = "127.0.0.1"\nport = {port}\n[storage]\n{storage}\n'
                    f'[limits]\nmax_body_bytes = 33554432\n')
        subprocess.run([binary, "migrate", "--config", configs[name]], check=True, capture_output=True)
        keys[name] = {}
        for unit in range(units):
            added = subprocess.run([binary, "devices", "add", f"unit-{unit}", "--config", configs[name]], check=True,
                                   capture_output=True, text=True).stdout
            keys[name][unit] = bytes.fromhex(re.findall(r"^[0-9a-f]{64}$", added, re.M)[0])
        servers.append((name, port, subprocess.Popen([binary, "serve", "--config", configs[name]],
                                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    try:
        connections = {}
        for name, port, _ in servers:
            wait_for_port(port)
            connections[name] = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        rng, total, began = random.Random(7), 0, time.perf_counter()
        for unit in range(units):
            sequence = 1
            for day in range(days):
                points = patrol(unit, seconds, rng, day, sequence)
                sequence += len(points)
                total += len(points)
                bodies = [encode_batch(f"unit-{unit}", points)]
                if duty:
                    bodies.append(encode_batch(f"unit-{unit}", [], duty_events(unit, day, seconds)))
                for name, connection in connections.items():
                    for body in bodies:
                        send(connection, f"unit-{unit}", keys[name][unit], body)
        print(f"filled: {total:,} points of {units} units through POST /v1/ingest into {' and '.join(storages)} "
              f"in {time.perf_counter() - began:.0f} s")
    finally:
        for _, _, server in servers:
            server.terminate()
            server.wait()
    return configs


# The plain PostGIS query a GIS engineer would write for "cells of its area each unit covered":
# cells from ST_SquareGrid over the areas on the plan's grid plane (a cell is the area's when its
# centre is inside), each unit's fixes in the shift made into lines (ST_MakeLine of consecutive fixes
# at most the join gap apart), COUNT DISTINCT of the cells the lines intersect. The plane is the
# plan's own (`CellGrid`: equirectangular from the grid origin, computed with the same operations),
# so the cells have the same ids and edges as ours.
#
# How it differs from the one definition (`TrackJoiner`, `CellGrid.forEachCell`), and why the
# counts must still be identical here: it joins fixes by their time gap alone (ours also breaks a
# line at a silence of the device and joins a longer gap while the unit stood still), and
# ST_Intersects counts a cell a line only touches at a corner or edge (ours does not). The
# benchmark's fixes are 1 s apart except one ten-minute silence per unit (not joined by either
# rule: over fix_gap_seconds), every fix is usable (HDOP ≤ 1.2), and no line runs exactly along a
# cell border or through a corner (coordinates are random doubles).
POSTGIS_PEER = """
CREATE TEMP TABLE cells AS
    WITH grid AS (SELECT {lat0}::float8 AS lat0, {lon0}::float8 AS lon0, 6371008.8::float8 * pi() / 180 AS m_lat,
                         6371008.8::float8 * pi() / 180 * cos({lat0}::float8 * pi() / 180) AS m_lon)
    SELECT a.device, c.i, c.j, c.geom
    FROM plan_areas a CROSS JOIN grid
        CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_Scale(ST_Translate(a.geom, -lon0, -lat0), m_lon, m_lat), 0) AS plane) p
        CROSS JOIN LATERAL ST_SquareGrid({cell}, p.plane) c
    WHERE ST_Contains(p.plane, ST_Centroid(c.geom));
CREATE INDEX ON cells USING gist (geom);
ANALYZE cells;
WITH grid AS (SELECT {lat0}::float8 AS lat0, {lon0}::float8 AS lon0, 6371008.8::float8 * pi() / 180 AS m_lat,
                     6371008.8::float8 * pi() / 180 * cos({lat0}::float8 * pi() / 180) AS m_lon),
fixes AS (
    SELECT device, time_ms, sequence,
        ST_MakePoint((lon_e7::float8 / 1e7::float8 - lon0) * m_lon, (lat_e7::float8 / 1e7::float8 - lat0) * m_lat) AS point,
        CASE WHEN time_ms - lag(time_ms) OVER (PARTITION BY device ORDER BY time_ms, sequence) <= {join_ms} THEN 0 ELSE 1 END AS starts_line
    FROM track_points CROSS JOIN grid
    WHERE time_ms >= {start_ms} AND time_ms < {end_ms} AND coalesce(hdop_c, 0) <= {max_hdop_c}),
numbered AS (
    SELECT *, sum(starts_line) OVER (PARTITION BY device ORDER BY time_ms, sequence) AS line FROM fixes),
lines AS (
    SELECT device, CASE WHEN count(*) = 1 THEN ST_Collect(point) ELSE ST_MakeLine(point ORDER BY time_ms, sequence) END AS geom
    FROM numbered GROUP BY device, line)
SELECT c.device, (SELECT count(*) FROM cells a WHERE a.device = c.device), count(DISTINCT (c.i, c.j))
FROM cells c JOIN lines l ON l.device = c.device AND ST_Intersects(c.geom, l.geom)
GROUP BY c.device;
"""


def psql(url, sql, *options):
    return subprocess.run([f"{POSTGRES}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *options, url], input=sql, text=True,
                          capture_output=True, check=True).stdout


def load_plan_areas(url, units):
    """The plan's areas as PostGIS polygons, each with the unit whose shift patrols it."""
    rows = ",".join(f"('unit-{unit}', ST_GeomFromGeoJSON('{area_geojson(unit)}'))" for unit in range(units))
    psql(url, "CREATE EXTENSION IF NOT EXISTS postgis;\n"
              f"CREATE TABLE plan_areas (device text NOT NULL, geom geometry NOT NULL);\nINSERT INTO plan_areas VALUES {rows};\n")


def peer_query(start_ms, end_ms):
    """POSTGIS_PEER for the shift; join gap and HDOP limit are the plan's defaults (CoverageRules)."""
    return POSTGIS_PEER.format(lat0=GRID_ORIGIN[0], lon0=GRID_ORIGIN[1], cell=CELL_SIZE, join_ms=120_000, max_hdop_c=500,
                               start_ms=start_ms, end_ms=end_ms)


# "Which units were in area X between t1 and t2", on the track table as the centre lays it out
# (index (device, time_ms, sequence)): one index range scan per unit; then with a GiST index on the
# fixes' positions, which a layout for per-area queries would add.
AREA_QUERY = """
SELECT DISTINCT t.device FROM track_points t, plan_areas a
WHERE a.device = '{area_unit}' AND t.time_ms >= {from_ms} AND t.time_ms < {to_ms}
    AND ST_Intersects(a.geom, ST_SetSRID(ST_MakePoint(t.lon_e7::float8 / 1e7::float8, t.lat_e7::float8 / 1e7::float8), 4326));
"""
AREA_INDEX = ("CREATE INDEX track_points_where ON track_points "
              "USING gist (ST_SetSRID(ST_MakePoint(lon_e7::float8 / 1e7::float8, lat_e7::float8 / 1e7::float8), 4326));\n")


def area_query_figures(url, units, runs):
    """Median seconds of AREA_QUERY (an hour of the middle unit's area) without and with the GiST
    index, the index's build time and size, and the units found (the same both ways)."""
    query = AREA_QUERY.format(area_unit=f"unit-{units // 2}", from_ms=SHIFT_START_MS + 2 * 3_600_000,
                              to_ms=SHIFT_START_MS + 3 * 3_600_000)
    figures, answers = [], []
    for label in ("index (device, time_ms, sequence) only", "with a GiST index on the position"):
        if answers:
            began = time.perf_counter()
            psql(url, AREA_INDEX + "ANALYZE track_points;\n")
            size = psql(url, "SELECT pg_size_pretty(pg_relation_size('track_points_where'))", "-A", "-t").strip()
            figures.append(f"GiST index built in {time.perf_counter() - began:.1f} s, {size}")
        seconds = []
        for _ in range(runs):
            began = time.perf_counter()
            answers.append(psql(url, query, "-A", "-t").split())
            seconds.append(time.perf_counter() - began)
        figures.append(f"{label}: median {statistics.median(seconds) * 1000:.0f} ms ({runs} runs), units {answers[-1]}")
    psql(url, "DROP INDEX track_points_where;\n")
    if any(answer != answers[0] for answer in answers):
        raise SystemExit(f"MISMATCH: the area query found {answers}")
    return figures


def cell_counts_of_ours(csv_text):
    """device: (assigned cells, covered cells) from `coverage --format csv`."""
    return {row["device"]: (int(row["assigned_cells"]), int(row["covered_cells"])) for row in csv.DictReader(io.StringIO(csv_text))}


def cell_counts_of_peer(output, units):
    counts = {f"unit-{unit}": None for unit in range(units)}
    for line in output.splitlines():
        device, assigned, covered = line.split("|")
        counts[device] = (int(assigned), int(covered))
    return counts


def timed(arguments):
    """Wall seconds and peak RSS (MiB) of one run, stdout discarded."""
    began = time.perf_counter()
    process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - began
    if status != 0:
        raise SystemExit(f"{' '.join(arguments)} failed: {process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def median_line(label, runs):
    seconds = [r[0] for r in runs]
    rss = f", peak RSS {max(r[1] for r in runs):.0f} MiB" if runs[0][1] is not None else ""
    return (f"{label}: median {statistics.median(seconds):.2f} s (min {min(seconds):.2f}, max {max(seconds):.2f}, "
            f"{len(runs)} runs){rss}")


def compare(units, sqlite_csv, postgres_csv, peer_output):
    """Every difference between the stores' reports and between ours and the peer's cell counts."""
    problems = []
    if sqlite_csv is not None and postgres_csv is not None and sqlite_csv != postgres_csv:
        for ours, theirs in zip(sqlite_csv.splitlines(), postgres_csv.splitlines()):
            if ours != theirs:
                problems.append(f"coverage CSV differs between the stores:\n  SQLite:     {ours[:200]}\n  PostgreSQL: {theirs[:200]}")
                break
        else:
            problems.append("coverage CSV differs between the stores in its number of rows")
    ours = cell_counts_of_ours(postgres_csv if postgres_csv is not None else sqlite_csv)
    peer = cell_counts_of_peer(peer_output, units)
    for device in sorted(peer, key=lambda d: int(d.split("-")[1])):
        if ours.get(device) != peer[device]:
            problems.append(f"{device}: ours {ours.get(device)} (assigned, covered) cells, the PostGIS query {peer[device]}")
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/patrol-centre")
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--hours", type=float, default=8)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", help="keep the filled store in this folder")
    parser.add_argument("--duty", action="store_true", help="add sign-ons and time `duty report` too")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="sqlite",
                        help="which stores to fill and time; with PostgreSQL the PostGIS peer query is timed and checked too")
    args = parser.parse_args()
    folder = args.keep or tempfile.mkdtemp(prefix="coverage-bench-")
    os.makedirs(folder, exist_ok=True)
    postgres = PostgresServer() if args.backend != "sqlite" else None
    try:
        storages = {}
        if args.backend != "postgres":
            storages["sqlite"] = 'backend = "sqlite"\ndatabase = "centre.db"'
        if postgres:
            url = postgres.create_database()
            storages["postgres"] = f'backend = "postgres"\nurl = "{url}"'
        configs = fill(args.binary, folder, storages, args.units, int(args.hours * 3600), args.days, args.duty)
        plan = os.path.join(folder, "plan.toml")
        with open(plan, "w") as f:
            f.write(plan_text(args.units, args.duty))
        until = SHIFT_START_MS + (args.days - 1) * 86_400_000 + int(args.hours * 3_600_000)
        iso = lambda ms: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))
        commands = {name: [args.binary, "coverage", "--config", config, "--plan", plan, "--from", iso(SHIFT_START_MS), "--to", iso(until)]
                    for name, config in configs.items()}
        names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
        if postgres:
            load_plan_areas(url, args.units)
            peer = peer_query(SHIFT_START_MS, until)
            psql(url, "VACUUM ANALYZE track_points;\n")
        for fmt in ("csv", "html") if args.days == 1 else ("csv", "summary-csv"):
            runs = {name: [] for name in commands}
            peer_runs = []
            for _ in range(args.runs):  # side by side: each run times every store (and the peer) in turn
                for name, command in commands.items():
                    runs[name].append(timed(command + ["--format", fmt]))
                if postgres and fmt == "csv" and args.days == 1:
                    began = time.perf_counter()
                    peer_output = psql(url, peer, "-A", "-t")
                    peer_runs.append((time.perf_counter() - began, None))
            for name in commands:
                print(median_line(f"coverage --format {fmt} on {names[name]}, all {args.units} units", runs[name]))
            if peer_runs:
                print(median_line(f"plain PostGIS query (psql), cells covered per unit, all {args.units} units", peer_runs))
        if args.duty:
            for name, config in configs.items():
                duty = [args.binary, "duty", "report", "--config", config, "--plan", plan, "--from", iso(SHIFT_START_MS), "--to", iso(until),
                        "--format", "csv"]
                runs = [timed(duty) for _ in range(args.runs)]
                print(median_line(f"duty report --format csv on {names[name]}, all {args.units} persons", runs))
                rows = subprocess.run(duty, capture_output=True, text=True, check=True).stdout.splitlines()
                print("duty rows:\n  " + "\n  ".join(row[:160] for row in rows[:3]))
        reports = {name: subprocess.run(command + ["--format", "csv"], capture_output=True, text=True, check=True).stdout
                   for name, command in commands.items()}
        print("first rows:\n  " + "\n  ".join(row[:160] for row in next(iter(reports.values())).splitlines()[:3]))
        if postgres and args.days == 1:
            problems = compare(args.units, reports.get("sqlite"), reports["postgres"], peer_output)
            if problems:
                raise SystemExit("MISMATCH:\n" + "\n".join(problems))
            print(f"identical: the {' and '.join(names[n] for n in reports)} reports, and every unit's assigned and covered "
                  f"cells with the PostGIS query's")
            print("which units were in one area during one hour (psql):\n  " + "\n  ".join(area_query_figures(url, args.units, args.runs)))
    finally:
        if postgres:
            postgres.stop()
        if not args.keep:
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()
