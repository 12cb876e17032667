#!/bin/bash
# The backend is one set of files on both bases: diff the files the two
# queues share between build/qemu (QEMU 10.0 + patches/) and
# build/qemu-10.2 (QEMU 10.2 + patches-10.2/), and compare the result
# with patches-10.2/allowed-differences.diff, the hunks where the bases
# truly differ (each explained in docs/upstream-queue.md).  Prints TAP.
#   --update  rewrite the allowed list from the trees (then review it)
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/tap.sh"
allowed=$top/patches-10.2/allowed-differences.diff
files=(
    net/passt.c
    net/stream_offload.c net/stream_offload.h
    net/stream_data.c net/stream_data.h
    tests/qtest/netdev-passt-test.c
    tests/unit/test-stream-offload.c
)

differences() {
    local f
    for f in "${files[@]}"; do
        # no timestamps, so that the list is the same from run to run
        diff -u --label "qemu-10.0/$f" --label "qemu-10.2/$f" \
            "$build/qemu/$f" "$build/qemu-10.2/$f" || true
    done
}

# a hunk may move: its lines must match, not where they are
without_lines() {
    sed -E 's/^@@ -[0-9,]+ \+[0-9,]+ @@/@@/' "$@"
}

if [ "${1:-}" = "--update" ]; then
    differences > "$allowed"
    echo "check-same-files: wrote $allowed"
    exit 0
fi
# one comparison of the whole list; each file that differs is judged by it
if cmp -s <(differences | without_lines) <(without_lines "$allowed"); then
    as_allowed=true
else
    as_allowed=false
fi
for f in "${files[@]}"; do
    if ! cmp -s "$build/qemu/$f" "$build/qemu-10.2/$f"; then
        if $as_allowed; then
            tap_result ok "$f: differs only where the bases differ"
        else
            tap_result fail "$f: differs beyond the allowed hunks" \
                "diff the trees against $allowed"
        fi
    else
        tap_result ok "$f: the same file on both bases"
    fi
done
tap_summary
