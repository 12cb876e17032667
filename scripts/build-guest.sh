#!/bin/bash
# Build the test guest from Debian 12 packages: the kernel of
# linux-image-amd64 (extracted, never installed on the host) and an
# initramfs with busybox, the NIC modules (virtio-net, e1000e, vmxnet3),
# iperf3 and the payload in guest/initramfs/ (init, udhcpc.script).
# Output: $BUILD_DIR/guest/{vmlinuz,initramfs.cpio.gz}; rebuilt only when
# its inputs change.
set -euo pipefail
. "$(dirname "$0")/common.sh"
out=$build/guest
dl=$build/dl

kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
inputs="$kpkg $(dpkg-query -W -f='${Version} ' busybox-static iperf3 libiperf0)
$(cat "$top/guest/initramfs/init" "$top/guest/initramfs/udhcpc.script" "$0" | sha256sum)"
if [ -f "$out/inputs" ] && [ "$(cat "$out/inputs")" = "$inputs" ]; then
    exit 0
fi

mkdir -p "$dl"
if ! ls "$dl/$kpkg"_*.deb >/dev/null 2>&1; then
    (cd "$dl" && apt-get download "$kpkg" >/dev/null 2>&1)
fi
rm -rf "$out"
mkdir -p "$out"
kx=$(mktemp -d)
root=$(mktemp -d)
trap 'rm -rf "$kx" "$root"' EXIT
dpkg-deb -x "$dl/$kpkg"_*.deb "$kx"
cp "$kx"/boot/vmlinuz-* "$out/vmlinuz"

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib/modules,proc,sys,dev,tmp,etc}
mkdir -p "$root/etc/udhcpc"
cp /bin/busybox "$root/bin/busybox"
for m in virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev \
         virtio_pci failover net_failover virtio_net e1000e vmxnet3; do
    find "$kx/lib/modules" -name "$m.ko" -exec cp {} "$root/lib/modules/" \;
done
# iperf3 and the libraries it loads, as the host has them (also Debian 12)
cp /usr/bin/iperf3 "$root/usr/bin/"
for lib in $(ldd /usr/bin/iperf3 | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
install -m 755 "$top/guest/initramfs/init" "$root/init"
install -m 755 "$top/guest/initramfs/udhcpc.script" "$root/etc/udhcpc/default.script"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/initramfs.cpio.gz"
echo "$inputs" > "$out/inputs"
echo "build-guest: $kpkg + busybox initramfs in $out"
