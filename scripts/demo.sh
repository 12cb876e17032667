#!/bin/bash
# The main job: set the machine up, build QEMU with the series and the
# test guest, then boot the guest on -nic passt in a private network
# namespace and show it working.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/progress.sh"

"$here/prepare.sh"
step guest "building the test guest (Debian's kernel, a busybox initramfs)" \
    "$here/build-guest.sh"
say "demo: booting the guest on -nic passt"
exec "$here/netns-run.sh" "$top/demo/demo.py" \
    --qemu "$build/qemu-build/qemu-system-x86_64" \
    --kernel "$build/guest/vmlinuz" --initrd "$build/guest/initramfs.cpio.gz" \
    --passt "${PASST:-$build/passt/passt}"
