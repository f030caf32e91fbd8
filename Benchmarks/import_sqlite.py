#!/usr/bin/env python3
"""`patrol-centre import-sqlite` rate: a street centre's SQLite file moved into a district's PostgreSQL.

The street file is made by the real `patrol-centre serve` (SQLite backend): `--units` boards each post
`--points` 1 Hz track points in signed batches of 20,000 (POST /v1/ingest). Each run then imports it
into a fresh, migrated PostgreSQL database (Debian's postgresql-15 started by this script, fsync on) and
times the command from start to exit (the one transaction committed); then imports the same file again
(the rerun, which adds nothing) and times that. Side by side in the same run, the floor: PostgreSQL's
own `COPY` of the same track rows (CSV exported from the file beforehand) into the same table of a
fresh, migrated database.

Usage: Benchmarks/import_sqlite.py [--binary .build/release/patrol-centre] [--units 20] [--points 100000] [--runs 3]
"""
import argparse, csv, os, random, re, shutil, sqlite3, statistics, subprocess, sys, tempfile, time, http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest_benchmark import drive, encode_batch, signed_headers, start_centre, stop  # noqa: E402
from ingest_postgres import POSTGRES, PostgresServer  # noqa: E402

BATCH = 20_000


def make_street(binary, folder, units, points):
    """The street centre's file, written through `serve`; its path and its row count per table."""
    devices = [f"car-{unit}" for unit in range(1, units + 1)]
    server, port, _, keys = start_centre(binary, folder, devices)
    rng = random.Random(42)
    start_ms = int(time.time() * 1000) - points * 1000
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        for device in devices:
            for first in range(1, points + 1, BATCH):
                body = encode_batch(device, drive(first, min(BATCH, points - first + 1), start_ms + (first - 1) * 1000, rng))
                connection.request("POST", "/v1/ingest", body=body, headers=signed_headers(device, keys[device], body))
                response = connection.getresponse()
                answer = response.read()
                assert response.status == 200, answer
    finally:
        stop(server)
    path = os.path.join(folder, "centre.db")
    with sqlite3.connect(path) as database:
        counts = {table: database.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("devices", "track_points", "events", "heartbeats")}
    return path, counts


def district(binary, folder, postgres):
    """A fresh database, migrated by the centre; its configuration file and URL."""
    url = postgres.create_database()
    config = os.path.join(folder, f"district-{url.rsplit('/', 1)[1]}.toml")
    with open(config, "w") as f:
        f.write(f'[storage]\nbackend = "postgres"\nurl = "{url}"\n')
    subprocess.run([binary, "migrate", "--config", config], check=True, capture_output=True)
    return config, url


def timed_import(binary, config, street):
    began = time.perf_counter()
    result = subprocess.run([binary, "import-sqlite", "--config", config, "--from", street, "--street", "bench"], capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    if result.returncode != 0:
        raise SystemExit(f"import-sqlite failed: {result.stderr}")
    read = sum(int(n) for n in re.findall(r"(\d+) read", result.stdout.splitlines()[-1]))
    added = sum(int(n) for n in re.findall(r"(\d+) added", result.stdout.splitlines()[-1]))
    return elapsed, read, added


def timed_copy(binary, folder, postgres, csv_path):
    """Seconds for psql's \\copy of the CSV into track_points of a fresh, migrated database."""
    _, url = district(binary, folder, postgres)
    database = url.rsplit("/", 1)[1]
    began = time.perf_counter()
    subprocess.run([f"{POSTGRES}/psql", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "patrol", "-d", database, "-v", "ON_ERROR_STOP=1",
                    "-c", f"\\copy track_points (device, sequence, time_ms, lat_e7, lon_e7, mode, alt_dm, speed_cm_s, track_cdeg, hdop_c, "
                          f"satellites, received_ms) FROM '{csv_path}' CSV"], check=True, capture_output=True)
    return time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/patrol-centre")
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--points", type=int, default=100_000, help="1 Hz track points per unit")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="import-bench-")
    postgres = PostgresServer()
    try:
        os.chmod(folder, 0o755)
        street, counts = make_street(args.binary, folder, args.units, args.points)
        csv_path = os.path.join(folder, "track.csv")
        with sqlite3.connect(street) as database, open(csv_path, "w", newline="") as f:
            csv.writer(f).writerows(database.execute(
                "SELECT device, sequence, time_ms, lat_e7, lon_e7, mode, alt_dm, speed_cm_s, track_cdeg, hdop_c, satellites, received_ms "
                "FROM track_points"))
        os.chmod(csv_path, 0o644)
        size = os.path.getsize(street)
        print(f"street file: {size / 1e6:,.0f} MB, {counts}", flush=True)
        rates, reruns, copies = [], [], []
        for run in range(1, args.runs + 1):
            config, _ = district(args.binary, folder, postgres)
            elapsed, read, added = timed_import(args.binary, config, street)
            assert added == read, (read, added)
            rerun, _, again = timed_import(args.binary, config, street)
            assert again == 0, again
            copy = timed_copy(args.binary, folder, postgres, csv_path)
            rates.append(read / elapsed)
            reruns.append(rerun)
            copies.append(counts["track_points"] / copy)
            print(f"run {run}: import {read:,} rows in {elapsed:.1f} s ({rates[-1]:,.0f} rows/s); rerun {rerun:.1f} s, 0 added; "
                  f"COPY of the track {copies[-1]:,.0f} rows/s", flush=True)
    finally:
        postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{args.units} units × {args.points:,} points, {args.runs} runs, medians (min–max):")
    print(f"  import-sqlite: {statistics.median(rates):,.0f} rows/s ({min(rates):,.0f}–{max(rates):,.0f})")
    print(f"  import-sqlite again (adds nothing): {statistics.median(reruns):.1f} s ({min(reruns):.1f}–{max(reruns):.1f})")
    print(f"  psql COPY of the track rows: {statistics.median(copies):,.0f} rows/s ({min(copies):,.0f}–{max(copies):,.0f})")


if __name__ == "__main__":
    main()
