#!/bin/bash
# The benchmarks (bench/bench.py): set up and build as make demo does,
# and QEMU without the series, upstream QEMU with its own -netdev passt
# and upstream passt's newest release; then boot the test guest on each
# form (-netdev user, -netdev passt, a hand-started passt on -netdev
# stream with and without the series, vhost-user, the same on the newest
# passt, on upstream QEMU, and on upstream QEMU with patches-10.2/) side
# by side, with the loopback ceiling, in
# a private network namespace.  Arguments go to bench.py (--runs N,
# --backends LIST, --publish, --help); results in $BUILD_DIR/bench.
# BENCH_NO_PREPARE=1 skips the set-up and build step (to measure the
# QEMU that is there while its tree is being worked on);
# BENCH_NO_UPSTREAM=1 skips only fetching and building upstream QEMU
# (its forms are then n/a unless an earlier build is there).
set -euo pipefail
. "$(dirname "$0")/common.sh"

. "$here/progress.sh"

if [ -z "${BENCH_NO_PREPARE:-}" ]; then
    "$here/prepare.sh"
    step plain-qemu "building QEMU without the series" "$here/build-plain-qemu.sh"
    step passt-newest "building upstream passt's newest release" \
        "$here/build-passt-newest.sh"
    if [ -z "${BENCH_NO_UPSTREAM:-}" ]; then
        step upstream-source "fetching upstream QEMU's source (Debian's sid package)" \
            "$here/fetch-upstream-qemu.sh"
        step upstream-build "building upstream QEMU with its own -netdev passt" \
            "$here/build-upstream-qemu.sh"
        step queue-10.2 "building upstream QEMU with patches-10.2/" \
            "$here/prepare-10.2.sh"
    fi
fi
"$here/build-guest.sh" >/dev/null
exec "$here/netns-run.sh" "$top/bench/bench.py" \
    --qemu "$build/qemu-build/qemu-system-x86_64" \
    --qemu-plain "$build/qemu-plain-build/qemu-system-x86_64" \
    --qemu-upstream "$build/qemu-upstream-build/qemu-system-x86_64" \
    --qemu-queue-10.2 "$build/qemu-10.2-build/qemu-system-x86_64" \
    --passt-newest "$build/passt-newest/passt" \
    --kernel "$build/guest/vmlinuz" --initrd "$build/guest/initramfs.cpio.gz" \
    --passt "${PASST:-$build/passt/passt}" --outdir "$build/bench" "$@"
