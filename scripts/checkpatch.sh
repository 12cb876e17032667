#!/bin/bash
# Run QEMU's scripts/checkpatch.pl on every patch of a queue (QUEUE, see
# common.sh).  Prints TAP; a patch passes when checkpatch reports no error.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/tap.sh"

for p in $(grep -v -e '^#' -e '^[[:space:]]*$' "$queue_dir/series"); do
    log=$LOG_DIR/checkpatch-${p%.patch}.log
    if (cd "$queue_tree" && perl scripts/checkpatch.pl "$queue_dir/$p") >"$log" 2>&1; then
        tap_result ok "checkpatch $p"
    else
        tap_result fail "checkpatch $p" "see $log"
    fi
done
tap_summary
