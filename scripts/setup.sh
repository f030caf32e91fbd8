#!/usr/bin/env bash
# Installs what PatrolLink needs on Debian 12 (Swift itself must already be on PATH) and builds.
# Usage: scripts/setup.sh [debug|release]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gpsd gpsd-clients libgps-dev libserialport-dev libsqlite3-dev zlib1g-dev sqlite3 python3 python3-venv socat openssl tzdata dpkg-dev
          gcc-avr avr-libc binutils-avr simavr libsimavr-dev libsimavrparts1
          chromium  # the console's browser tests drive Debian's Chromium (Tests/Browser)
          postgresql-15 postgresql-15-postgis-3)  # the PostgreSQL backend's tests start their own server
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# pysiaalarm, the independent SIA DC-09 receiver that tests and benchmarks run (Tests/Support/dc09_receiver.py).
if ! .venv/bin/python -c 'import pysiaalarm' 2>/dev/null; then
  echo "setup: installing pysiaalarm 3.2.2 into .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q pysiaalarm==3.2.2
fi
# Playwright, the driver of the console's browser tests (Tests/Browser); it drives /usr/bin/chromium,
# so no browser download.
if ! .venv/bin/python -c 'import playwright' 2>/dev/null; then
  echo "setup: installing playwright 1.65.2 into .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q playwright==1.65.2
fi

command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.3 toolchain needed)" >&2; exit 1; }
configuration="${1:-debug}"
if [ "$configuration" = release ]; then
  swift build -c release --static-swift-stdlib --product patrol-agent
else
  swift build --build-tests
fi
