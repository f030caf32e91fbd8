#!/usr/bin/env bash
# Sets up (Debian packages, build) and runs every test: unit tests of the pure core and tests with
# real parts — gpsd under gpsfake, SQLite files, pseudo-terminal serial lines, agent processes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh debug
# The agent binary the end-to-end tests start.
swift build --product patrol-agent
swift test --skip-build "$@"
