#!/bin/bash
# The second queue's build: upstream QEMU 10.2.2's source (fetched and
# unpacked once), patches-10.2/ applied in build/qemu-10.2, and
# qemu-system-x86_64 with the tests check-queue-10.2.sh runs, built in
# build/qemu-10.2-build.  Each step does nothing when it is up to date.
set -euo pipefail
export QUEUE=10.2
. "$(dirname "$0")/common.sh"

"$here/fetch-upstream-qemu.sh"
"$here/make-tree.sh"
"$here/build-qemu.sh" tests/qtest/netdev-socket tests/qtest/netdev-passt-test \
    tests/qtest/qos-test tests/unit/test-stream-offload
