#!/usr/bin/env bash
# Applies each deliberate bug of scripts/mutants.py to the alarm path in turn and runs the tests
# that should catch it; exits 1 if any survives. Outside CI (a build per mutant): run it before
# submitting a change to the event journal, the store, the uplink runner, the button box session
# or the centre's storage. Usage: scripts/mutants.sh [--list] [ID…]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh debug >/dev/null
exec python3 scripts/mutants.py "$@"
