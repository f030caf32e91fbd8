#!/usr/bin/env python3
"""The JT/T 808 output under load, measured from outside the processes (see jt808-drain.sh).

The same three phases as uplink_drain.py (a real patrol-agent fills a 24 h, 1 Hz backlog while
the platform is unreachable; it drains through a byte-counting proxy while a button box presses
panic; then it idles on heartbeats), but the agent's uplink is `kind = "jt808"` and the other end
is the small JT/T 808 platform below: written here in Python from the standard, independent of
the Swift codec. It registers the terminal (0x8100), accepts its authentication, answers every
message with 0x8001 result 0 after decoding it, and keeps every position it decoded from 0x0200
and 0x0704. After the run the agent's store is exported (CSV) and compared point by point with
what the platform decoded.

Press latency is DOWN to the LED 'delivered' command (FAST): the agent sends it only after the
platform's 0x8001 for the alarm report.

Usage: jt808_drain.py AGENT WORKDIR NMEA_LOG [IDLE_SECONDS]
"""
import csv, datetime, os, socket, subprocess, sys, threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_rig import Box, CountingProxy, agent_config, fill_drain_idle, free_port, serial_gps, start_agent, stop  # noqa: E402


def unescape(frame):
    out, i = bytearray(), 0
    while i < len(frame):
        if frame[i] == 0x7D:
            out.append({1: 0x7D, 2: 0x7E}[frame[i + 1]])
            i += 2
        else:
            out.append(frame[i])
            i += 1
    return bytes(out)


def escape(content):
    return b"\x7e" + content.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02") + b"\x7e"


def bcd_time(raw):
    digits = raw.hex()
    local = datetime.datetime(2000 + int(digits[0:2]), int(digits[2:4]), int(digits[4:6]),
                              int(digits[6:8]), int(digits[8:10]), int(digits[10:12]), tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    return local.astimezone(datetime.timezone.utc)


def position(body):
    alarm, status_bits, lat, lon = (int.from_bytes(body[i:i + 4], "big") for i in (0, 4, 8, 12))
    return {"alarm": alarm, "lat": lat / 1e6 * (-1 if status_bits & 4 else 1), "lon": lon / 1e6 * (-1 if status_bits & 8 else 1),
            "time": bcd_time(body[22:28])}


class Platform:
    """A JT/T 808-2013 platform for one terminal."""

    def __init__(self, port):
        self.points, self.alarm_reports, self.serial = [], 0, 0
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", port))
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.server.accept()
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    def send(self, client, message_id, phone, body):
        self.serial = (self.serial + 1) & 0xFFFF
        content = message_id.to_bytes(2, "big") + len(body).to_bytes(2, "big") + phone + self.serial.to_bytes(2, "big") + body
        check = 0
        for b in content:
            check ^= b
        client.sendall(escape(content + bytes([check])))

    def serve(self, client):
        pending = b""
        try:
            while data := client.recv(65536):
                pending += data
                while True:
                    start = pending.find(b"\x7e")
                    end = pending.find(b"\x7e", start + 1)
                    if start < 0 or end < 0:
                        break
                    frame, pending = pending[start + 1:end], pending[end + 1:]
                    if frame:
                        self.handle(client, unescape(frame))
        except OSError:
            pass

    def handle(self, client, content):
        check = 0
        for b in content[:-1]:
            check ^= b
        assert check == content[-1], "check code"
        message_id, properties = int.from_bytes(content[0:2], "big"), int.from_bytes(content[2:4], "big")
        phone, serial, body = content[4:10], content[10:12], content[12:-1]
        assert len(body) == properties & 0x3FF and not properties & 0x6000, "2013 frame without sub-packages"
        if message_id == 0x0100:
            self.send(client, 0x8100, phone, serial + b"\x00" + b"BENCH-CODE")
            return
        if message_id == 0x0200:
            with self.lock:
                report = position(body)
                self.alarm_reports += 1 if report["alarm"] & 1 else 0
        elif message_id == 0x0704:
            count, offset, items = int.from_bytes(body[0:2], "big"), 3, []
            assert body[2] == 1, "backlog goes as blind-area supplement (type 1)"
            for _ in range(count):
                length = int.from_bytes(body[offset:offset + 2], "big")
                items.append(position(body[offset + 2:offset + 2 + length]))
                offset += 2 + length
            with self.lock:
                self.points += items
        self.send(client, 0x8001, phone, serial + message_id.to_bytes(2, "big") + b"\x00")


def main():
    agent, work, nmea_log = sys.argv[1:4]
    idle = int(sys.argv[4]) if len(sys.argv) > 4 else 150
    platform_port, proxy_port = free_port(), free_port()
    gps_controller, gps_device = os.openpty()
    import tty
    tty.setraw(gps_device)
    box = Box()
    config = f"{work}/agent.toml"
    with open(config, "w") as f:
        f.write(agent_config(work, box.path, serial_gps(gps_device), f"""[[uplink]]
name = "platform"
kind = "jt808"
address = "127.0.0.1:{proxy_port}"
phone = "013912345678"
auth_code_file = "{work}/store/jt808.auth"
heartbeat_s = 30"""))
    agent_log = f"{work}/agent.log"
    platform = Platform(platform_port)  # unreachable until the proxy to it starts
    agent_process = None
    try:
        agent_process = start_agent(agent, config, box, agent_log)
        fill_drain_idle(agent, config, box, gps_controller, nmea_log, agent_log,
                        lambda: CountingProxy(proxy_port, platform_port), idle, 3600, "0x8001 from the platform")
    finally:
        stop(agent_process)

    # The store against what the platform decoded, with its own decoder: same points, same order,
    # positions equal to the 1e-6 degree the protocol carries, times to the second.
    export = subprocess.run([agent, "export", "--config", config, "--format", "csv"], capture_output=True, text=True, check=True).stdout
    rows = list(csv.DictReader(export.splitlines()))
    with platform.lock:
        decoded = list(platform.points)
    mismatches = 0
    for row, point in zip(rows, decoded):
        time_text = row.get("time", "")
        stored = datetime.datetime.fromisoformat(time_text.replace("Z", "+00:00")).replace(microsecond=0)
        if (abs(float(row["lat"]) - point["lat"]) > 6e-7 or abs(float(row["lon"]) - point["lon"]) > 6e-7
                or stored != point["time"]):
            mismatches += 1
    print(f"independent check: store has {len(rows)} points, the platform decoded {len(decoded)} "
          f"(0x0704 type 1); {mismatches} differ in position (> 1e-6 deg) or time (s)")


if __name__ == "__main__":
    main()
