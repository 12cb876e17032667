#!/bin/bash
# The second queue, patches-10.2/ on upstream QEMU 10.2.2: fetch that
# source, apply the queue (build/qemu-10.2), build it, and run on it what
# shows that it is the same backend as on 10.0: the files the two queues
# share, QEMU's netdev-socket, netdev-passt-test with the three passts as
# root and as "nobody", the guest suite's passt forms, and checkpatch on
# every patch of the queue.  Prints TAP.
set -euo pipefail
export QUEUE=10.2
. "$(dirname "$0")/common.sh"
. "$here/tap.sh"

if ! "$here/prepare-10.2.sh" >"$LOG_DIR/prepare-10.2.log" 2>&1; then
    tap_result fail "10.2: fetch, apply patches-10.2/ and build" \
        "see $LOG_DIR/prepare-10.2.log"
    tap_summary
    exit 1
fi
tap_result ok "10.2: patches-10.2/ applies to QEMU 10.2.2 and builds"

guest_test() {    # guest_test NAME PASST FORMS [OPTION...]
    local name=$1 passt=$2 forms=$3
    shift 3
    tap_run "$name" setsid -w "$here/netns-run.sh" "$top/tests/guest/guest-test.py" \
        --qemu "$queue_obj/qemu-system-x86_64" \
        --kernel "$build/guest/vmlinuz" --initrd "$build/guest/initramfs.cpio.gz" \
        --passt "$passt" --workdir "$build/guest-work/$name" --only "$forms" "$@"
}

tap_run same-files "$here/check-same-files.sh"
tap_run unit-10.2 "$queue_obj/tests/unit/test-stream-offload" --tap
tap_run qtests-10.2 env QEMU_OBJ="$queue_obj" "$here/run-qtests.sh"
"$here/build-guest.sh" >/dev/null
guest_test guest-10.2-debian13 "${PASST:-$build/passt/passt}" nic,netdev,vhost-user,hub
newest=$(BUILD_DIR=$build "$here/build-passt-newest.sh" 2>"$LOG_DIR/build-passt-newest-10.2.log")
if [ -n "$newest" ]; then
    # vhost-user mode with the fixes in patches-passt/, and forwards
    # changed while the guest runs, which only this passt can do
    guest_test guest-10.2-newest "$newest" nic,netdev,vhost-user,hub,hostfwd
else
    tap_result skip "guest-10.2-newest" "$(cat "$LOG_DIR/build-passt-newest-10.2.log")"
fi
guest_test guest-10.2-debian12 "${SYSTEM_PASST:-/usr/bin/passt}" nic,netdev,hub \
    --no-server-first
tap_run checkpatch-10.2 "$here/checkpatch.sh"
tap_summary
