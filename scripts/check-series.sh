#!/bin/bash
# Check each patch of a queue (QUEUE, see common.sh) on its own, in a
# tree and build directory of its own: it builds, passes QEMU's
# checkpatch.pl (no error), and leaves QEMU's netdev-socket qtest and,
# once the queue has it, netdev-passt-test (with Debian 13's passt)
# passing.  Catches a patch that breaks bisection.  Prints TAP.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/tap.sh"
tree=$queue_tree
series_tree=${queue_tree}-series
obj=${queue_tree}-series-build

rm -rf "$series_tree"
git clone -q "$tree" "$series_tree"
git -C "$series_tree" fetch -q "$tree" 'refs/tags/base:refs/tags/base'
n=0
for commit in $(git -C "$tree" rev-list --reverse base..HEAD); do
    n=$((n + 1))
    name="$(printf '%02d' "$n") $(git -C "$tree" log -1 --format=%s "$commit")"
    log=$LOG_DIR/series-${QUEUE:-10.0}-$(printf '%02d' "$n")
    git -C "$series_tree" checkout -q "$commit"
    qtests=(tests/qtest/netdev-socket)
    if [ -f "$series_tree/tests/qtest/netdev-passt-test.c" ]; then
        qtests+=(tests/qtest/netdev-passt-test)
    fi
    if QEMU_TREE=$series_tree QEMU_OBJ=$obj "$here/build-qemu.sh" \
            "${qtests[@]}" >"$log-build.log" 2>&1; then
        tap_result ok "builds: $name"
    else
        tap_result fail "builds: $name" "see $log-build.log"
        continue
    fi
    if (cd "$series_tree" && git format-patch -1 --stdout "$commit" |
            perl scripts/checkpatch.pl -) >"$log-checkpatch.log" 2>&1; then
        tap_result ok "checkpatch: $name"
    else
        tap_result fail "checkpatch: $name" "see $log-checkpatch.log"
    fi
    for qtest in "${qtests[@]}"; do
        # setsid: a signal QEMU sends to its process group stays in there
        if (cd "$obj" && QTEST_QEMU_BINARY=./qemu-system-x86_64 \
                PASST=${PASST:-$build/passt/passt} \
                setsid -w "$here/netns-run.sh" "$qtest" --tap) \
                >"$log-${qtest##*/}.log" 2>&1; then
            tap_result ok "${qtest##*/}: $name"
        else
            tap_result fail "${qtest##*/}: $name" "see $log-${qtest##*/}.log"
        fi
    done
done
tap_summary
