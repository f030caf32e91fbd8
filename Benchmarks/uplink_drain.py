#!/usr/bin/env python3
"""The uplink under load, measured from outside the processes (see uplink-drain.sh).

1. A real patrol-agent records a synthetic 24 h, 1 Hz drive (86,400 fixes fed as fast as it takes
   them through a pty, as from a serial receiver) while its centre is unreachable: a day of backlog.
2. The link comes up through a byte-counting TCP proxy to a real patrol-centre. While the backlog
   drains, a button box on a pty presses panic again and again; each press is timed from writing
   DOWN to the LED 'delivered' command (FAST), which the agent sends only after the centre answered
   200, i.e. after the centre committed the alarm.
3. Once drained, the link idles for IDLE seconds with 30 s heartbeats.

Prints drain time, press->committed-at-centre p50/p99, bytes per track point on the wire (both
directions, HTTP headers included, through the proxy) and heartbeat bytes per hour.

With --tls the centre serves TLS with a certificate from a CA made here with the openssl command,
and the agent uses https with that CA as ca_file; the proxy then counts TLS records, handshakes
and all, so bytes per point are all-in as deployed.

Usage: uplink_drain.py AGENT CENTRE WORKDIR NMEA_LOG [IDLE_SECONDS] [--tls]
"""
import os, subprocess, sys, tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_rig import Box, CountingProxy, agent_config, fill_drain_idle, free_port, serial_gps, start_agent, stop  # noqa: E402


def make_certificates(folder):
    """A CA and a server certificate for 127.0.0.1 (P-256, as Sources/PatrolTestSupport/TestCertificates.swift
    makes them for the tests); returns (ca.pem, server.pem, server-key.pem)."""
    os.makedirs(folder, exist_ok=True)
    ca, ca_key, cert, key = (f"{folder}/{name}.pem" for name in ("ca", "ca-key", "server", "server-key"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: E731
    openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=uplink benchmark CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
            "-keyout", ca_key, "-out", ca)
    openssl("req", "-new", *ec, "-subj", "/CN=localhost", "-keyout", key, "-out", f"{folder}/server.csr")
    with open(f"{folder}/server.ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", f"{folder}/server.csr", "-CA", ca, "-CAkey", ca_key, "-set_serial", "2",
            "-days", "2", "-extfile", f"{folder}/server.ext", "-out", cert)
    return ca, cert, key


def main():
    arguments = [a for a in sys.argv[1:] if a != "--tls"]
    tls = "--tls" in sys.argv[1:]
    agent, centre, work, nmea_log = arguments[:4]
    idle = int(arguments[4]) if len(arguments) > 4 else 150
    os.makedirs(f"{work}/centre", exist_ok=True)
    centre_port, proxy_port = free_port(), free_port()
    centre_config = f"{work}/centre.toml"
    uplink = f'url = "http://127.0.0.1:{proxy_port}"'
    with open(centre_config, "w") as f:
        f.write(f'[server]\naddress = "127.0.0.1"\nport = {centre_port}\n[storage]\ndatabase = "{work}/centre/centre.db"\n')
        if tls:
            ca, cert, key = make_certificates(f"{work}/pki")
            f.write(f'[tls]\ncertificate = "{cert}"\nprivate_key = "{key}"\n')
            uplink = f'url = "https://127.0.0.1:{proxy_port}"\nca_file = "{ca}"'
    print(f"transport: {'TLS (https, ca_file)' if tls else 'plain HTTP'}", flush=True)
    key = subprocess.run([centre, "devices", "add", "bench", "--config", centre_config],
                         capture_output=True, text=True, check=True).stdout.split()[-1]
    with open(f"{work}/device.key", "w") as f:
        f.write(key + "\n")
    centre_log = open(f"{work}/centre.log", "w")
    centre_process = subprocess.Popen([centre, "serve", "--config", centre_config], stderr=centre_log, stdout=centre_log)

    gps_controller, gps_device = os.openpty()
    tty.setraw(gps_device)
    box = Box()
    config = f"{work}/agent.toml"
    with open(config, "w") as f:
        f.write(agent_config(work, box.path, serial_gps(gps_device), f'[[uplink]]\n{uplink}\nkey_file = "{work}/device.key"\nheartbeat_s = 30'))
    agent_log = f"{work}/agent.log"
    agent_process = None
    try:
        agent_process = start_agent(agent, config, box, agent_log)
        # A day of fixes while nothing listens on the proxy port, then the drain through it, then idle.
        fill_drain_idle(agent, config, box, gps_controller, nmea_log, agent_log,
                        lambda: CountingProxy(proxy_port, centre_port), idle, 1800, "committed at centre")
    finally:
        stop(agent_process, centre_process)


if __name__ == "__main__":
    main()
