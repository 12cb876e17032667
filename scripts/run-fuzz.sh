#!/bin/bash
# Run the fuzz target of net/stream_offload.c from the committed seeds.
#   scripts/run-fuzz.sh RUNS      a fixed number of inputs with a fixed
#                                 seed (make check: the same run each time)
#   scripts/run-fuzz.sh --seconds N   as long as that (make fuzz), keeping
#                                 what it finds in $BUILD_DIR/fuzz/corpus
# Prints TAP.  Any crash, sanitizer report or broken bound fails it; the
# input that did it is left in $BUILD_DIR/fuzz.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/tap.sh"

"$here/build-fuzz.sh"
fuzz=$build/fuzz
seeds=$top/tests/fuzz/seeds
log=$LOG_DIR/fuzz.log
if [ "${1:-}" = --seconds ]; then
    mkdir -p "$fuzz/corpus"
    what="for $2 s"
    args=(-max_total_time="$2" "$fuzz/corpus" "$seeds")
else
    # libFuzzer adds what it finds to the first folder: not to the seeds
    rm -rf "$fuzz/scratch"
    mkdir -p "$fuzz/scratch"
    what="${1:-500000} inputs"
    args=(-runs="${1:-500000}" -seed=1 "$fuzz/scratch" "$seeds")
fi
# large enough for a 64 KiB frame from the guest, or a burst from passt
if (cd "$fuzz" && "$fuzz/stream-offload-fuzz" -max_len=140000 \
        -print_final_stats=1 "${args[@]}") >"$log" 2>&1; then
    tap_result ok "stream offloads, $what, $(grep -o 'Done [0-9]* runs' "$log")"
else
    tap_result fail "stream offloads, $what" "see $log"
fi
tap_summary
