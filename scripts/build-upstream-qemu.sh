#!/bin/bash
# Build qemu-system-x86_64 from the upstream QEMU that
# fetch-upstream-qemu.sh unpacked (upstream's own -netdev passt), with
# build-qemu.sh's options less the docs and with passt required, in
# $BUILD_DIR/qemu-upstream-build.  Prints the binary's path.
set -euo pipefail
. "$(dirname "$0")/common.sh"
tree=$build/qemu-upstream
obj=$build/qemu-upstream-build

configure_args=(
    --python=/usr/bin/python3
    --cc="ccache gcc" --cxx="ccache g++"
    --target-list=x86_64-softmmu
    --enable-slirp --enable-seccomp --enable-passt
    --disable-download --disable-install-blobs
    --disable-docs
)

want="$(cat "$tree/VERSION") ${configure_args[*]}"
if [ ! -f "$obj/build.ninja" ] ||
   [ "$(cat "$obj/.configure-args" 2>/dev/null)" != "$want" ]; then
    rm -rf "$obj"
    mkdir -p "$obj"
    (cd "$obj" && "$tree/configure" "${configure_args[@]}" >configure.log 2>&1) || {
        tail -40 "$obj/configure.log" >&2
        echo "build-upstream-qemu: configure failed, see $obj/configure.log" >&2
        exit 1
    }
    echo "$want" > "$obj/.configure-args"
fi
ninja -C "$obj" qemu-system-x86_64 >&2

"$here/link-firmware.sh" "$obj"
echo "$obj/qemu-system-x86_64"
