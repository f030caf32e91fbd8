#!/usr/bin/env python3
"""Press -> ACK from a SIA DC-09 receiver, measured from outside a real patrol-agent (see dc09-latency.sh).

A button box on a pty presses panic; pysiaalarm 3.2.2 (Tests/Support/dc09_receiver.py, in a thread of
this process, so both ends share one clock) receives the alarm from the agent's `kind = "dc09"`
output on 127.0.0.1 and ACKs it. Each press is timed from writing DOWN to the moment pysiaalarm has
written its ACK for that panic: the alarm is at the receiving centre and the agent is being told so.

Three runs, each with a fresh agent and store:
  plain    DC-09 output only, no encryption
  aes      the same with AES-128 (key_file)
  backlog  the agent also has a centre output (a real patrol-centre) with a 24 h, 1 Hz track recorded
           while that centre was unreachable; presses start when the centre comes up, and are
           counted separately while the backlog drains and after.

Usage: dc09_latency.py AGENT CENTRE WORKDIR NMEA_LOG [PRESSES]
"""
import asyncio, os, queue, subprocess, sys, threading, time, tty

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "Tests", "Support"))
from agent_rig import Box, agent_config, fill, free_port, percentile, serial_gps, start_agent, status, stop  # noqa: E402
import dc09_receiver  # noqa: E402

ACCOUNT = "12AB"
PYSIAALARM_KEY = "0123456789ABCDEF"  # pysiaalarm uses the characters' bytes; the key file holds them in hex


class Receiver:
    """pysiaalarm on 127.0.0.1 in a thread; every panic it ACKs goes into `acks` with its time."""

    def __init__(self, key):
        self.port = free_port()
        arguments = ["--port", str(self.port), "--account", ACCOUNT] + (["--key", key] if key else [])
        self.receiver = dc09_receiver.Receiver(dc09_receiver.parse_options(arguments))
        self.acks = queue.Queue()
        self.receiver.received = lambda record: None
        self.receiver.answered = lambda record: self.acks.put((time.perf_counter_ns(), record))
        ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.run, args=(ready,), daemon=True).start()
        if not ready.wait(20):
            sys.exit("the DC-09 receiver did not start")

    def run(self, ready):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(dc09_receiver.serve(self.receiver, ready.set))

    def next_panic(self, timeout):
        """The time pysiaalarm ACKed the next panic; None on timeout."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                when, record = self.acks.get(timeout=left)
            except queue.Empty:
                return None
            if record.get("code") == "PA" and '"ACK"' in record.get("response", "").replace("*", ""):
                return when
        return None


def write_config(path, work, box, receiver_port, key_file, gps, centre_uplink):
    with open(path, "w") as f:
        f.write(agent_config(work, box.path, gps, f"""{centre_uplink}
[[uplink]]
name = "arc"
kind = "dc09"
host = "127.0.0.1"
port = {receiver_port}
account = "{ACCOUNT}"
line = "1"
heartbeat_s = 60
retry_max_s = 1
timeout_s = 5
{f'key_file = "{key_file}"' if key_file else ""}"""))


def press(box, receiver):
    started = time.perf_counter_ns()
    box.send("DOWN", 1)
    acked = receiver.next_panic(30)
    box.send("UP", 1)
    if acked is None:
        sys.exit("no ACK for a panic within 30 s")
    # Read what the agent wrote to the box (acks, LED cues): an unread pty fills up and stalls it.
    box.wait_for(b"\x00", 0.005)
    box.pending = b""
    return (acked - started) / 1e6


def report(name, latencies):
    print(f"{name}: {len(latencies)} presses, press -> DC-09 ACK p50 {percentile(latencies, 50):.2f} ms, "
          f"p99 {percentile(latencies, 99):.2f} ms, max {max(latencies):.2f} ms", flush=True)


def simple_run(agent, work, count, aes):
    name = "aes" if aes else "plain"
    folder = f"{work}/{name}"
    os.makedirs(folder)
    key_file = None
    if aes:
        key_file = f"{folder}/arc.key"
        with open(key_file, "w") as f:
            f.write(PYSIAALARM_KEY.encode().hex() + "\n")
    receiver = Receiver(PYSIAALARM_KEY if aes else None)
    box = Box()
    config = f"{folder}/agent.toml"
    write_config(config, folder, box, receiver.port, key_file, "[gps]\ngpsd_port = 1", "")
    process = start_agent(agent, config, box, f"{folder}/agent.log")
    try:
        for _ in range(5):  # warm-up: the first connection and any NAK of the clock
            press(box, receiver)
            time.sleep(0.02)
        latencies = []
        for _ in range(count):
            latencies.append(press(box, receiver))
            time.sleep(0.02)
        report(f"{name} (AES-128)" if aes else name, latencies)
    finally:
        stop(process)


def backlog_run(agent, centre, work, nmea_log, count):
    folder = f"{work}/backlog"
    os.makedirs(f"{folder}/centre")
    centre_port = free_port()
    centre_config = f"{folder}/centre.toml"
    with open(centre_config, "w") as f:
        f.write(f'[server]\naddress = "127.0.0.1"\nport = {centre_port}\n[storage]\ndatabase = "{folder}/centre/centre.db"\n')
    key = subprocess.run([centre, "devices", "add", "bench", "--config", centre_config],
                         capture_output=True, text=True, check=True).stdout.split()[-1]
    with open(f"{folder}/device.key", "w") as f:
        f.write(key + "\n")
    receiver = Receiver(None)
    box = Box()
    gps_controller, gps_device = os.openpty()
    tty.setraw(gps_device)
    gps = serial_gps(gps_device)
    centre_uplink = f'[[uplink]]\nname = "centre"\nkind = "centre-http"\nurl = "http://127.0.0.1:{centre_port}"\nkey_file = "{folder}/device.key"\nheartbeat_s = 30\nretry_max_s = 1'
    config = f"{folder}/agent.toml"
    write_config(config, folder, box, receiver.port, None, gps, centre_uplink)
    process = start_agent(agent, config, box, f"{folder}/agent.log")
    centre_process = None
    try:
        points, seconds = fill(agent, config, gps_controller, nmea_log)
        print(f"backlog: {points} points stored in {seconds:.0f} s while the centre was down", flush=True)
        centre_log = open(f"{folder}/centre.log", "w")
        centre_process = subprocess.Popen([centre, "serve", "--config", centre_config], stderr=centre_log, stdout=centre_log)
        drain_started = time.monotonic()
        during, after, drained_at = [], [], None
        while len(after) < count:
            latency = press(box, receiver)
            (after if drained_at else during).append(latency)
            if drained_at is None:
                uplink = next((u for u in status(agent, config).get("uplinks", []) if u.get("name") == "centre"), {})
                if uplink.get("trackPending") == 0 and uplink.get("trackDelivered", 0) >= points:
                    drained_at = time.monotonic()
            time.sleep(0.02)
        print(f"backlog drained to the centre in {drained_at - drain_started:.1f} s", flush=True)
        if during:
            report("while the 24 h backlog drained to the centre", during)
        report("after the drain, both outputs", after)
    finally:
        stop(process)
        if centre_process:
            stop(centre_process)


def main():
    agent, centre, work, nmea_log = sys.argv[1:5]
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    simple_run(agent, work, count, aes=False)
    simple_run(agent, work, count, aes=True)
    backlog_run(agent, centre, work, nmea_log, count)


if __name__ == "__main__":
    main()
