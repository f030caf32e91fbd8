#!/usr/bin/env python3
"""Ingest into PostgreSQL vs SQLite, side by side in one run: the real `patrol-centre serve` on
127.0.0.1, fed large signed batches of 1 Hz track points (POST /v1/ingest, answered only after the
commit), timed from the first request to the last answer.

Four setups per run, each with fresh storage:
  * SQLite, one instance (the street centre's default: WAL, synchronous=FULL);
  * SQLite, two instances on one file (two `serve` processes: writes take turns on the file lock);
  * PostgreSQL, one instance;
  * PostgreSQL, two instances on one database (what a district runs behind a load balancer).
Two instances get the batches from two client threads at once, alternating batches between them.

The PostgreSQL server is Debian's postgresql-15, started by this script (initdb into a temporary
directory, as `nobody` when run as root) with its defaults, fsync on: a commit is on disk, as with
SQLite's synchronous=FULL.

Usage: Benchmarks/ingest_postgres.py [--binary .build/release/patrol-centre] [--batches 5] [--points 86400] [--runs 3]
"""
import os, re, shutil, statistics, subprocess, sys, tempfile, threading, time, http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest_benchmark import encode_batch, free_port, ingest_workload, signed_headers, wait_for_port  # noqa: E402

POSTGRES = "/usr/lib/postgresql/15/bin"


class PostgresServer:
    """initdb + postgres on a free loopback port; trust authentication for the user `patrol`."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="patrol-bench-postgres-")
        self.port = free_port()
        prefix = []
        if os.getuid() == 0:
            os.chown(self.folder, 65534, 65534)
            prefix = ["runuser", "-u", "nobody", "--"]
        data = os.path.join(self.folder, "data")
        subprocess.run(prefix + [f"{POSTGRES}/initdb", "-D", data, "-U", "patrol", "--auth=trust", "-E", "UTF8", "--locale=C"],
                       check=True, capture_output=True)
        self.process = subprocess.Popen(prefix + [f"{POSTGRES}/postgres", "-D", data, "-p", str(self.port), "-k", self.folder,
                                                  "-c", "listen_addresses=127.0.0.1"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        self.databases = 0

    def create_database(self):
        self.databases += 1
        name = f"bench_{self.databases}"
        for _ in range(50):
            if subprocess.run([f"{POSTGRES}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "patrol", name],
                              capture_output=True).returncode == 0:
                return f"postgres://patrol@127.0.0.1:{self.port}/{name}"
            time.sleep(0.2)  # the server may still be starting up
        raise SystemExit("createdb failed")

    def stop(self):
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def configure(binary, folder, storage, port):
    config = os.path.join(folder, f"centre-{port}.toml")
    with open(config, "w") as f:
        f.write(f'[server]\naddress = "127.0.0.1"\nport = {port}\n[storage]\n{storage}\n[limits]\nmax_body_bytes = 33554432\n')
    return config


def run_setup(binary, storage, instances, bodies, total):
    """Points per second through `instances` centres on one database described by `storage` (TOML lines)."""
    folder = tempfile.mkdtemp(prefix="centre-bench-")
    servers = []
    try:
        ports = [free_port() for _ in range(instances)]
        configs = [configure(binary, folder, storage, port) for port in ports]
        subprocess.run([binary, "migrate", "--config", configs[0]], check=True, capture_output=True)
        added = subprocess.run([binary, "devices", "add", "bench-1", "--config", configs[0]], check=True,
                               capture_output=True, text=True).stdout
        key = bytes.fromhex(re.findall(r"^[0-9a-f]{64}$", added, re.M)[0])
        for config in configs:
            servers.append(subprocess.Popen([binary, "serve", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        for port in ports:
            wait_for_port(port)
        failures = []

        def send(port, share):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            for body in share:
                connection.request("POST", "/v1/ingest", body=body, headers=signed_headers("bench-1", key, body))
                response = connection.getresponse()
                answer = response.read()
                if response.status != 200 or b'"track":[[' not in answer:
                    failures.append((response.status, answer[:200]))

        threads = [threading.Thread(target=send, args=(port, bodies[index::instances])) for index, port in enumerate(ports)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        if failures:
            raise SystemExit(f"{storage.splitlines()[0]}, {instances} instance(s): {failures[:3]}")
        return total / elapsed
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def main():
    args, batches = ingest_workload()
    bodies = [encode_batch("bench-1", points) for points in batches]
    total = args.batches * args.points
    postgres = PostgresServer()
    setups = [("SQLite", 1), ("SQLite", 2), ("PostgreSQL", 1), ("PostgreSQL", 2)]
    rates = {setup: [] for setup in setups}
    try:
        for run in range(1, args.runs + 1):
            for engine, instances in setups:
                storage = ('backend = "sqlite"\ndatabase = "centre.db"' if engine == "SQLite"
                           else f'backend = "postgres"\nurl = "{postgres.create_database()}"')
                rates[(engine, instances)].append(run_setup(args.binary, storage, instances, bodies, total))
            print(f"run {run}: " + ", ".join(f"{engine} ×{instances} {rates[(engine, instances)][-1]:,.0f}"
                                             for engine, instances in setups) + " points/s", flush=True)
    finally:
        postgres.stop()
    print(f"{total} points in {args.batches} batches of {args.points}, {args.runs} runs, medians (min–max), points/s:")
    for engine, instances in setups:
        values = rates[(engine, instances)]
        print(f"  {engine}, {instances} instance{'s' if instances > 1 else ''}: {statistics.median(values):,.0f} "
              f"({min(values):,.0f}–{max(values):,.0f})")


if __name__ == "__main__":
    main()
