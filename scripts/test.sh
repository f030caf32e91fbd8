#!/usr/bin/env bash
# Sets up (Debian packages, build) and runs every test: unit tests of the pure core and tests with
# real parts — gpsd under gpsfake, SQLite files, pseudo-terminal serial lines, agent processes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh debug
make -C Board/button-box test sim-test  # the button box: plbx on the host, its firmware in simavr
# The agent binary the end-to-end tests start.
swift build --product patrol-agent
# Serially: many tests wait on real processes and serial lines, and on two cores parallel suites
# starve each other's timing.
swift test --skip-build --no-parallel "$@"
# The web console in a real headless Chromium against a real centre and agent (Tests/Browser).
[ $# -gt 0 ] || Tests/Browser/run.sh
# A full run also fuzzes every decoder of untrusted bytes under libFuzzer and AddressSanitizer,
# 20 s each (long runs: scripts/fuzz.sh SECONDS), the button box's own C decoder included.
[ $# -gt 0 ] || { scripts/fuzz.sh 20 && make -C Board/button-box fuzz SECONDS=20; }
