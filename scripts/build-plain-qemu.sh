#!/bin/bash
# Build qemu-system-x86_64 from the base alone, without the series, in a
# tree and build directory of its own: the benchmarks compare the series'
# stream path with QEMU 10.0.13's own -netdev stream.
set -euo pipefail
. "$(dirname "$0")/common.sh"
plain=$build/qemu-plain

base=$(git -C "$build/qemu" rev-parse base)
if [ "$(git -C "$plain" rev-parse HEAD 2>/dev/null)" != "$base" ]; then
    rm -rf "$plain"
    git clone -q --no-checkout "$build/qemu" "$plain"
    git -C "$plain" checkout -q "$base"
fi
QEMU_TREE=$plain QEMU_OBJ=$build/qemu-plain-build "$here/build-qemu.sh"
