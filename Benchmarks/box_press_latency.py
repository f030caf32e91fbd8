#!/usr/bin/env python3
"""Presses a contact of the box firmware running in simavr (plbx-sim) against a running
patrol-agent, and times each press on the simulator's clock: from the harness driving the
contact's pin ("<us> press 1") to the "stored" LED pin going on ("<us> led 1 on"). The button is a
"test" button, whose stored cue is one 200 ms pulse, so each press's LED edge is its own. The same
firmware with its protocol 1 jumper set is measured right after, as the peer, with its own store.

Usage: box_press_latency.py AGENT FIRMWARE_BUILD_DIR GPSD_PORT WORKDIR [N]
"""
import os, select, signal, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_rig import agent_config, gpsd_gps, percentile, stop  # noqa: E402


class Simulator:
    def __init__(self, build, link, log, protocol1):
        self.process = subprocess.Popen(
            [os.path.join(build, "plbx-sim"), "--firmware", os.path.join(build, "plbx-box.elf"), "--link", link]
            + (["--protocol1"] if protocol1 else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        self.pending = b""
        if self.wait_for("ready", 20) is None:
            sys.exit("plbx-sim did not start")

    def send(self, command):
        self.process.stdin.write((command + "\n").encode())
        self.process.stdin.flush()

    def wait_for(self, text, timeout):
        """Reads harness lines until one ends with `text`; returns its simulator µs (0 for 'ready')."""
        deadline = time.monotonic() + timeout
        out = self.process.stdout.fileno()
        while True:
            while b"\n" in self.pending:
                line, self.pending = self.pending.split(b"\n", 1)
                line = line.decode()
                if line == text:
                    return 0
                stamp, _, event = line.partition(" ")
                if event == text:
                    return int(stamp)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                return None
            chunk = os.read(out, 4096)
            if not chunk:
                return None
            self.pending += chunk

    def stop(self):
        try:
            self.send("quit")
            self.process.wait(timeout=5)
        except Exception:
            self.process.kill()


def measure(agent, build, gpsd_port, work, count, protocol1):
    """The latencies (ms) of `count` presses with the box in PLBX 2, or protocol 1."""
    name = "protocol1" if protocol1 else "plbx2"
    link = os.path.join(work, f"box-{name}")
    simulator = Simulator(build, link, open(os.path.join(work, f"simulator-{name}.log"), "w"), protocol1)
    config = os.path.join(work, f"agent-{name}.toml")
    os.makedirs(os.path.join(work, name), exist_ok=True)
    with open(config, "w") as f:
        f.write(agent_config(os.path.join(work, name), link, gpsd_gps(gpsd_port), button="test"))
    log = open(os.path.join(work, f"agent-{name}.log"), "w")
    process = subprocess.Popen([agent, "run", "--config", config], stderr=log)
    try:
        time.sleep(2)  # the agent opens the port, queries, the box says hello and is answered
        latencies = []
        for _ in range(count):
            simulator.send("press 1")
            pressed = simulator.wait_for("press 1", 5)
            lit = simulator.wait_for("led 1 on", 10)
            if pressed is None or lit is None:
                sys.exit(f"no 'stored' LED after press {len(latencies) + 1} ({name}); see {log.name}")
            latencies.append((lit - pressed) / 1000)
            simulator.wait_for("led 1 off", 5)
            simulator.send("release 1")
            simulator.wait_for("release 1", 5)
            time.sleep(0.3)  # the UP is sent, stored and answered before the next press
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    finally:
        stop(process)
        simulator.stop()
    return sorted(latencies)


def main():
    agent, build, gpsd_port, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    for protocol1 in (False, True):
        latencies = measure(agent, build, gpsd_port, work, count, protocol1)
        label = "protocol 1 (jumper set)" if protocol1 else "PLBX 2"
        print(f"{label}: presses: {count}  pin edge -> 'stored' LED pin (firmware in simavr, fsync'ed commit): "
              f"p50 {percentile(latencies, 50):.1f} ms  p99 {percentile(latencies, 99):.1f} ms  max {max(latencies):.1f} ms")


if __name__ == "__main__":
    main()
