#!/bin/bash
# Debian's QEMU sources have no firmware blobs: let an uninstalled
# qemu-system-x86_64 built in OBJ find Debian's builds of them (seabios,
# ipxe-qemu, qemu-system-data) where it looks for firmware.
#   scripts/link-firmware.sh OBJ
set -euo pipefail
fw=$1/qemu-bundle/usr/local/share/qemu-firmware
mkdir -p "$fw"
for f in /usr/share/seabios/bios-256k.bin /usr/share/seabios/vgabios-stdvga.bin \
         /usr/lib/ipxe/qemu/efi-e1000e.rom /usr/lib/ipxe/qemu/efi-virtio.rom \
         /usr/lib/ipxe/qemu/efi-e1000.rom /usr/share/qemu/kvmvapic.bin \
         /usr/share/qemu/linuxboot_dma.bin; do
    ln -sf "$f" "$fw/"
done
