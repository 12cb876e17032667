#!/bin/bash
# The main job: set the machine up, build QEMU with the series and the
# test guest, then boot the guest on -nic passt in a private network
# namespace and show it working.
set -euo pipefail
. "$(dirname "$0")/common.sh"

mkdir -p "$build"
"$here/prepare.sh" >"$build/prepare.log" 2>&1 || {
    tail -30 "$build/prepare.log" >&2
    exit 1
}
"$here/build-guest.sh"
exec "$here/netns-run.sh" "$top/demo/demo.py" \
    --qemu "$build/qemu-build/qemu-system-x86_64" \
    --kernel "$build/guest/vmlinuz" --initrd "$build/guest/initramfs.cpio.gz" \
    --passt "${PASST:-$build/passt/passt}"
