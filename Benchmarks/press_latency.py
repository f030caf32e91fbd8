#!/usr/bin/env python3
"""Plays a PLBX button box on a pseudo-terminal against a running patrol-agent and measures, from
outside the agent, each press from writing DOWN to receiving the LED command the agent sends only
after the press is committed with fsync.

Usage: press_latency.py AGENT GPSD_PORT WORKDIR [N]
"""
import os, signal, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_rig import Box, agent_config, gpsd_gps, percentile, start_agent, stop  # noqa: E402


def main():
    agent, gpsd_port, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    box = Box()
    config = os.path.join(work, "agent.toml")
    with open(config, "w") as f:
        f.write(agent_config(work, box.path, gpsd_gps(gpsd_port)))
    log = os.path.join(work, "agent.log")
    process = None
    try:
        process = start_agent(agent, config, box, log)
        latencies = []
        for _ in range(count):
            started = time.perf_counter_ns()
            box.send("DOWN", 1)
            stored = box.wait_for(b",LED,1,", 5)
            if stored is None:
                sys.exit(f"no LED command after press {len(latencies) + 1}; see {log}")
            latencies.append((stored - started) / 1e6)
            box.send("UP", 1)
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    finally:
        stop(process)
    print(f"presses: {count}  DOWN -> LED 'stored' (fsync'ed commit): "
          f"p50 {percentile(latencies, 50):.2f} ms  p99 {percentile(latencies, 99):.2f} ms  max {max(latencies):.2f} ms")


if __name__ == "__main__":
    main()
