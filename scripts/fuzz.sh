#!/usr/bin/env bash
# Fuzzes every decoder of untrusted bytes with libFuzzer and AddressSanitizer, SECONDS per target
# (default 60; CI runs 20 from scripts/test.sh). Targets (Fuzz/Targets/<name>.swift):
#   nmea       serial NMEA → decoder → filter → recorder → wire point and exports
#   plbx       button box line → ButtonBoxSession (LineSplitter, frames, repeats, presses)
#   tagreader  tag reader line → TagReaderDecoder, both formats
#   toml       configuration text → TOMLParser → ConfigReader's checked accessors
#   plan       patrol plan TOML and its GeoJSON outline → PlanReader
#   uplink     request body → UplinkBatch.decode (deflate, columns) → record checks → re-encoding
#   signature  signature headers and body → hex, SHA-256, HMAC, canonical text, constant-time compare
#   jt808      JT/T 808 TCP stream → frame splitter, unescaping, header, bodies, JSON → re-encoding
#
# Built with swiftc rather than SwiftPM: only PatrolCore and PatrolCoverage (pure, no I/O) are
# compiled, instrumented (-sanitize=fuzzer,address) and linked into one small executable per
# target, without resolving or building the package's network dependencies (SwiftPM would also
# instrument every module of the graph with -Xswiftc, or none of the library with per-target flags).
# Seeds are made at run time into .build-fuzz/seeds: the gpsd receiver logs in 4 KB pieces, the
# Config/*.toml examples, and inputs written by Fuzz/Seeds (frames, tag lines, batches, signed
# headers, made by the code that produces them). What a run learns stays in .build-fuzz/corpus for
# the next run. A crash is saved in .build-fuzz/crashes/<target>/ with the command that replays it;
# make it a unit test in Tests/, fix it, and it stays fixed. Exits 1 when a target crashed.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET…]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
[ $# -gt 0 ] && shift
all=(nmea plbx tagreader toml plan uplink signature jt808)
targets=("${@:-${all[@]}}")
out=.build-fuzz
mkdir -p "$out/lib"
flags=(-O -g -parse-as-library -sanitize=fuzzer,address -I Sources/CZlib -I "$out/lib")
# The linker warns about every sanitizer-internal symbol it cannot export; nothing to act on.
quiet() { "$@" 2>&1 | { grep -v "Cannot export local symbol" || true; }; return "${PIPESTATUS[0]}"; }

# A library is rebuilt when one of its sources, or a library it uses (the arguments after its
# name), is newer than it.
library() {
    local name="$1" lib="$out/lib/lib$1.a"
    shift
    if [ -f "$lib" ] && [ -z "$(find "Sources/$name" -name '*.swift' -newer "$lib" | head -1)" ] \
        && { [ $# -eq 0 ] || [ -z "$(find "$@" -newer "$lib" | head -1)" ]; }; then return; fi
    echo "fuzz: building $name"
    quiet swiftc "${flags[@]}" -wmo -module-name "$name" -emit-module -emit-module-path "$out/lib/$name.swiftmodule" \
        -emit-library -static -o "$lib" $(find "Sources/$name" -name '*.swift' | sort)
}
library PatrolCore
library PatrolCoverage "$out/lib/libPatrolCore.a"
link=(-L "$out/lib" -lPatrolCoverage -lPatrolCore)

# Seeds, fresh each run (small; nothing of them is committed).
rm -rf "$out/seeds"
fuzzer_runtime="$(swiftc -print-target-info | sed -n 's/.*"runtimeResourcePath": "\(.*\)".*/\1/p')/clang/lib/linux"
quiet swiftc -O -sanitize=address -I "$out/lib" -I Sources/CZlib Fuzz/Seeds/main.swift "${link[@]}" \
    -Xlinker "$(ls "$fuzzer_runtime"/libclang_rt.fuzzer_no_main-*.a | head -1)" -lstdc++ -o "$out/fuzz-seeds"
"$out/fuzz-seeds" "$out/seeds"
mkdir -p "$out/seeds/nmea" "$out/seeds/toml" "$out/seeds/plan"
for log in Tests/Fixtures/gpsd-logs/*.log; do split -b 4096 -d "$log" "$out/seeds/nmea/$(basename "$log" .log)-"; done
cp Config/*.toml "$out/seeds/toml/"
{ cat Config/plan.example.toml; printf '\0'; cat Config/areas/*.geojson; } > "$out/seeds/plan/example"

# Swift's own crash backtracer, run inside an ASan process after a trap, trips ASan itself and
# buries the real report; libFuzzer and ASan print the stack.
export SWIFT_BACKTRACE=enable=no
failed=()
for target in "${targets[@]}"; do
    [ -f "Fuzz/Targets/$target.swift" ] || { echo "fuzz: no target $target (have: ${all[*]})" >&2; exit 64; }
    binary="$out/fuzz-$target"
    if [ ! -f "$binary" ] || [ -n "$(find "Fuzz/Targets/$target.swift" Fuzz/Support "$out/lib" -newer "$binary" | head -1)" ]; then
        quiet swiftc "${flags[@]}" "Fuzz/Targets/$target.swift" Fuzz/Support/*.swift "${link[@]}" -o "$binary"
    fi
    mkdir -p "$out/corpus/$target" "$out/crashes/$target"
    echo "fuzz: $target for ${seconds}s"
    # Text inputs stay near the size of real files; larger ones only slow the search down.
    if "$binary" "$out/corpus/$target" "$out/seeds/$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/crashes/$target/" > "$out/$target.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$target.log")
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$target.log")
        echo "fuzz: $target: no crash in $runs runs ($rate/s), corpus $(ls "$out/corpus/$target" | wc -l) inputs"
    else
        failed+=("$target")
        grep -E "^(==[0-9]+==ERROR|SUMMARY|Fatal error|.*Fatal error:)" "$out/$target.log" | head -5 || true
        tail -n 20 "$out/$target.log"
        echo "fuzz: $target FAILED; replay with: $binary $(ls -t "$out/crashes/$target"/* 2>/dev/null | head -1)" >&2
    fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: crashes in ${failed[*]} (see .build-fuzz/<target>.log)" >&2; exit 1; }
