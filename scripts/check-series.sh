#!/bin/bash
# Build QEMU after each patch of the series in turn, in a tree and build
# directory of its own, so that a patch that breaks bisection is caught.
# Prints TAP.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/tap.sh"
tree=$build/qemu
series_tree=$build/qemu-series

rm -rf "$series_tree"
git clone -q "$tree" "$series_tree"
git -C "$series_tree" fetch -q "$tree" 'refs/tags/base:refs/tags/base'
for commit in $(git -C "$tree" rev-list --reverse base..HEAD); do
    subject=$(git -C "$tree" log -1 --format=%s "$commit")
    git -C "$series_tree" checkout -q "$commit"
    if QEMU_TREE=$series_tree QEMU_OBJ=$build/qemu-series-build \
            "$here/build-qemu.sh" >"$LOG_DIR/series-$commit.log" 2>&1; then
        tap_result ok "builds: $subject"
    else
        tap_result fail "builds: $subject" "see $LOG_DIR/series-$commit.log"
    fi
done
tap_summary
