#!/usr/bin/env bash
# Runs the whole test suite under a sanitizer, outside CI (a sanitized build of everything takes
# longer than CI allows on two cores; the README gives the measured times).
#   address: AddressSanitizer — use after free, buffer overflows, stack and heap misuse in every
#            module of the build (ours, NIO's, BoringSSL's); system libraries (SQLite, zlib, libgps,
#            libserialport) are not instrumented, only their calls through intercepted libc.
#   thread:  ThreadSanitizer — data races between threads (agent services, serial and uplink I/O).
# Each sanitizer builds in its own scratch path (.build-asan, .build-tsan) so the ordinary .build
# stays usable. The agent and centre executables the process tests start are the ones built beside
# the test bundle in that scratch path, so they run sanitized too: a report in a child process makes
# it exit non-zero and the test that started it fails.
#
# Usage: scripts/sanitize.sh [address|thread] [swift test arguments, e.g. --filter Suite]
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizer="${1:-address}"
[ $# -gt 0 ] && shift
case "$sanitizer" in
    address) scratch=.build-asan ;;
    thread) scratch=.build-tsan ;;
    *) echo "usage: scripts/sanitize.sh [address|thread] [swift test arguments]" >&2; exit 64 ;;
esac
# Leak checking is off by default: at exit it reports XCTest's own objects and NIOSSL's context
# when a TLS configuration fails (neither ours); memory growth in our code shows in the soak and
# footprint benchmarks. ASAN_OPTIONS=detect_leaks=1 scripts/sanitize.sh turns it on.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
# Every race is reported and the process then exits 66, failing the run; second_deadlock_stack
# gives both stacks of a lock inversion. The suppressions cover what TSan cannot see (the file
# says why); the path is absolute because the agent and centre processes inherit the options.
export TSAN_OPTIONS="${TSAN_OPTIONS:-second_deadlock_stack=1 suppressions=$(pwd)/scripts/tsan-suppressions.txt}"
swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch"
swift test --skip-build --no-parallel --sanitize="$sanitizer" --scratch-path "$scratch" "$@"
