#!/usr/bin/env bash
# The button box firmware's footprint on the ATmega328P (avr-size against the part's 32 KiB flash,
# 2 KiB RAM, 1 KiB EEPROM) and what its simulator costs the machine that runs the process tests:
# CPU of plbx-sim running the idle firmware, median of 3 runs of SECONDS (default 10).
set -euo pipefail
cd "$(dirname "$0")/../Board/button-box"
seconds="${1:-10}"
work="$(mktemp -d /tmp/box-firmware.XXXXXX)"
trap 'rm -rf "$work"' EXIT
make -s firmware sim > /dev/null
avr-size -C --mcu=atmega328p build/plbx-box.elf | grep -E 'Program|Data'
printf '#include "plbx/plbx.h"\n#include <stdio.h>\nint main(void) { printf("EEPROM: %%d bytes (of 1024)\\n", PLBX_STORAGE_BYTES); }\n' \
  | gcc -x c -I. -o "$work/eeprom" - && "$work/eeprom"
for run in 1 2 3; do
  (sleep "$seconds"; echo quit) | /usr/bin/time -f '%U %S' -o "$work/time$run" \
    build/plbx-sim --firmware build/plbx-box.elf --link "$work/box" --eeprom "$work/box.eeprom" > /dev/null
done
cat "$work"/time* | awk -v s="$seconds" '{ print ($1 + $2) / s * 100 }' | sort -n \
  | awk -v s="$seconds" 'NR == 2 { printf "plbx-sim, idle firmware: %.1f %% of one core (median of 3 runs of %s s)\n", $1, s }'
