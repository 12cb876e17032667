#!/bin/bash
# Boot the test guest on every form of the backend, on a hand-started
# passt with -netdev stream, and on -netdev user as the control, and run
# the end-to-end checks; then migrate a guest in vhost-user mode, with and
# without passt-repair.  Prints TAP.
# GUEST_DEBIAN12=1 adds a run with Debian 12's passt, whose bulk TCP
# transfers fail here whoever starts it (see the README): not part of
# make check until that is understood.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=$(realpath -m "${BUILD_DIR:-build}")
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
guest_test guest "$passt" --only nic,netdev,vhost-user,hub,stream,user
migrate_test() {  # migrate_test NAME [--passt-repair PATH]
    local name=$1
    shift
    tap_run "$name" setsid -w "$here/netns-run.sh" "$top/tests/guest/migrate-test.py" \
        --qemu "$build/qemu-build/qemu-system-x86_64" \
        --kernel "$build/guest/vmlinuz" --initrd "$build/guest/initramfs.cpio.gz" \
        --passt "$passt" --workdir "$build/guest-work/$name" "$@"
}
migrate_test guest-migrate --passt-repair "$(dirname "$passt")/passt-repair"
migrate_test guest-migrate-no-repair
if [ -n "${GUEST_DEBIAN12:-}" ]; then
    guest_test guest-debian12 "${SYSTEM_PASST:-/usr/bin/passt}" --only nic,stream
fi
tap_summary
