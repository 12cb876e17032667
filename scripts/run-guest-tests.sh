#!/bin/bash
# Boot the test guest on every form of the backend, on a hand-started
# passt with -netdev stream, and on -netdev user as the control, and run
# the end-to-end checks; then migrate a guest in vhost-user mode, with and
# without passt-repair, on one host and between two simulated ones.
# Prints TAP.
# Then the forms again with upstream's newest passt and with Debian 12's.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/tap.sh"

"$here/build-guest.sh" >/dev/null

guest_test() {    # guest_test NAME PASST [--only FORMS]
    local name=$1 passt=$2
    shift 2
    tap_run "$name" setsid -w "$here/netns-run.sh" "$top/tests/guest/guest-test.py" \
        --qemu "$build/qemu-build/qemu-system-x86_64" \
        --kernel "$build/guest/vmlinuz" --initrd "$build/guest/initramfs.cpio.gz" \
        --passt "$passt" --workdir "$build/guest-work/$name" "$@"
}

passt=${PASST:-$build/passt/passt}
guest_test passt-debian13 "$passt" --only nic,netdev,vhost-user,vhost-user-plain,vmxnet3,hub,stream,user
migrate_test() {  # migrate_test SCRIPT NAME [--passt-repair PATH]
    local script=$1 name=$2
    shift 2
    tap_run "$name" setsid -w "$here/netns-run.sh" "$top/tests/guest/$script" \
        --qemu "$build/qemu-build/qemu-system-x86_64" \
        --kernel "$build/guest/vmlinuz" --initrd "$build/guest/initramfs.cpio.gz" \
        --passt "$passt" --workdir "$build/guest-work/$name" "$@"
}
migrate_test migrate-test.py migrate --passt-repair "$(dirname "$passt")/passt-repair"
migrate_test migrate-test.py migrate-no-repair
# between two simulated hosts, each a network namespace with the same
# addresses and its own passt-repair
migrate_test migrate-hosts-test.py migrate-hosts --passt-repair "$(dirname "$passt")/passt-repair"
migrate_test migrate-hosts-test.py migrate-hosts-no-repair
# upstream's newest passt, where its source is beside this repository: the
# forms whose data path differs between passts (vhost-user mode with the
# fixes in patches-passt/, see docs/passt-versions.md), and forwards
# changed while the guest runs, which only it can do
newest=$(BUILD_DIR=$build "$here/build-passt-newest.sh" 2>"$LOG_DIR/build-passt-newest.log")
if [ -n "$newest" ]; then
    guest_test passt-newest "$newest" --only nic,netdev,vhost-user,hostfwd
else
    tap_result skip "passt-newest" "$(cat "$LOG_DIR/build-passt-newest.log")"
fi
# Debian 12's passt (2023-03-09), with the stream forms: it has no
# vhost-user mode, and never completes an inbound handshake by itself
system_passt=${SYSTEM_PASST:-/usr/bin/passt}
if [ -x "$system_passt" ]; then
    guest_test passt-debian12 "$system_passt" --only nic,netdev --no-server-first
else
    tap_result fail "passt-debian12" "$system_passt is missing: run scripts/setup-host.sh"
fi
tap_summary
