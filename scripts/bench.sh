#!/bin/bash
# The benchmarks (bench/bench.py): set up and build as make demo does,
# and QEMU without the series, then boot the test guest on -netdev user,
# -netdev passt, a hand-started passt on -netdev stream (with and without
# the series) and -netdev passt,vhost-user=on, side by side, in a private
# network namespace.  Arguments go to bench.py (--runs N,
# --backends LIST, --publish, --help); results in $BUILD_DIR/bench.
# BENCH_NO_PREPARE=1 skips the set-up and build step (to measure the
# QEMU that is there while its tree is being worked on).
set -euo pipefail
. "$(dirname "$0")/common.sh"

mkdir -p "$build"
if [ -z "${BENCH_NO_PREPARE:-}" ]; then
    { "$here/prepare.sh" && "$here/build-plain-qemu.sh"; } \
        >"$build/prepare.log" 2>&1 || {
        tail -30 "$build/prepare.log" >&2
        exit 1
    }
fi
"$here/build-guest.sh" >/dev/null
exec "$here/netns-run.sh" "$top/bench/bench.py" \
    --qemu "$build/qemu-build/qemu-system-x86_64" \
    --qemu-plain "$build/qemu-plain-build/qemu-system-x86_64" \
    --kernel "$build/guest/vmlinuz" --initrd "$build/guest/initramfs.cpio.gz" \
    --passt "${PASST:-$build/passt/passt}" --outdir "$build/bench" "$@"
