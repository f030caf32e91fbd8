#!/usr/bin/env bash
# The console's browser tests: Playwright (in .venv, from scripts/setup.sh) drives Debian's headless
# Chromium against the debug build's patrol-centre and patrol-agent. Without Chromium or Playwright
# (scripts/setup.sh installs both) it says plainly that they were skipped.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"
python="$root/.venv/bin/python"
chromium="${PATROL_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ] || ! "$python" -c 'import playwright' 2>/dev/null; then
  echo "browser tests SKIPPED: they need $chromium and playwright in .venv (scripts/setup.sh installs both)"
  exit 0
fi
for binary in patrol-centre patrol-agent; do
  [ -x "$root/.build/debug/$binary" ] || { echo "browser tests: build $binary first (swift build --product $binary)" >&2; exit 1; }
done
# Arguments name tests (e.g. test_console.AlarmDeskTests); none runs them all.
if [ $# -gt 0 ]; then exec "$python" -m unittest -v "$@"; fi
exec "$python" -m unittest discover -s . -p 'test_*.py' -v
