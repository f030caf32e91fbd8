#!/usr/bin/env python3
"""Plays a PLBX button box on a pseudo-terminal against a running patrol-agent and measures, from
outside the agent, each press from writing DOWN to receiving the LED command the agent sends only
after the press is committed with fsync.

Usage: press_latency.py AGENT GPSD_PORT WORKDIR [N]
"""
import os, select, signal, subprocess, sys, time, tty


def frame(seq, *fields):
    body = ",".join(["PLBX", str(seq)] + [str(f) for f in fields])
    checksum = 0
    for byte in body.encode():
        checksum ^= byte
    return f"${body}*{checksum:02X}\r\n".encode()


class Box:
    def __init__(self):
        self.controller, device = os.openpty()
        tty.setraw(device)
        self.path = os.ttyname(device)
        self.device = device  # kept open so the pty stays up between agent opens
        self.pending = b""
        self.seq = 0

    def send(self, *fields):
        os.write(self.controller, frame(self.seq, *fields))
        self.seq += 1

    def wait_for(self, token, timeout):
        """Reads frames until one contains `token`; returns the time it arrived, None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.pending:
                line, self.pending = self.pending.split(b"\n", 1)
                if token in line:
                    return time.perf_counter_ns()
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.controller], [], [], left)[0]:
                return None
            self.pending += os.read(self.controller, 4096)


def main():
    agent, gpsd_port, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    box = Box()
    config = os.path.join(work, "agent.toml")
    with open(config, "w") as f:
        f.write(f"""[device]
id = "bench"
[gps]
gpsd_host = "127.0.0.1"
gpsd_port = {gpsd_port}
rollover_pivot = "2017-01-01"
[store]
path = "{work}/store/agent.db"
[status]
runtime_dir = "{work}/run"
[[button_box]]
id = "box-1"
port = "{box.path}"
silence_ms = 86400000
[[button_box.button]]
number = 1
id = "panic-1"
role = "panic"
debounce_ms = 0      # the box debounced already
min_hold_ms = 0      # so the DOWN frame is the press
""")
    log = open(os.path.join(work, "agent.log"), "w")
    process = subprocess.Popen([agent, "run", "--config", config], stderr=log)
    try:
        for _ in range(100):  # until the agent has the port open and answers HELLO
            box.send("HELLO", "box-1", "bench", 1)
            if box.wait_for(b",ACK,", 0.2):
                break
        else:
            sys.exit("the agent never acknowledged HELLO; see " + log.name)
        latencies = []
        for _ in range(count):
            started = time.perf_counter_ns()
            box.send("DOWN", 1)
            stored = box.wait_for(b",LED,1,", 5)
            if stored is None:
                sys.exit(f"no LED command after press {len(latencies) + 1}; see {log.name}")
            latencies.append((stored - started) / 1e6)
            box.send("UP", 1)
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    latencies.sort()
    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]
    print(f"presses: {count}  DOWN -> LED 'stored' (fsync'ed commit): "
          f"p50 {pct(50):.2f} ms  p99 {pct(99):.2f} ms  max {latencies[-1]:.2f} ms")


if __name__ == "__main__":
    main()
