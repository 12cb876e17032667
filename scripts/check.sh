#!/bin/bash
# The project's test command: set the machine up, build QEMU with the
# series, then run every test.  Prints TAP and "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/tap.sh"
. "$here/progress.sh"

"$here/prepare.sh" tests/qtest/netdev-socket tests/qtest/netdev-passt-test \
    tests/qtest/qos-test tests/unit/test-stream-offload
step guest "building the test guest (Debian's kernel, a busybox initramfs)" \
    "$here/build-guest.sh"
step queue-10.2 "fetching upstream QEMU 10.2.2, applying patches-10.2/ (build/qemu-10.2) and building it" \
    "$here/prepare-10.2.sh"
say "check: running the suites"

# Each suite prints its own TAP; gather the lines under one plan.
if "$here/build-qemu.sh" docs/docs.stamp >"$LOG_DIR/docs.log" 2>&1; then
    tap_result ok "docs: manual and QAPI reference build (sphinx -W)"
else
    tap_result fail "docs: manual and QAPI reference build" "see $LOG_DIR/docs.log"
fi
tap_run unit "$build/qemu-build/tests/unit/test-stream-offload" --tap
tap_run fuzz "$here/run-fuzz.sh" 500000
tap_run qtests "$here/run-qtests.sh"
tap_run guest "$here/run-guest-tests.sh"
tap_run queue-10.2 "$here/check-queue-10.2.sh"
tap_run checkpatch "$here/checkpatch.sh"
tap_summary
