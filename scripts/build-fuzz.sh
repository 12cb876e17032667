#!/bin/bash
# Build the libFuzzer target of net/stream_offload.c (tests/fuzz/) with
# clang, ASan and UBSan, from the work tree's sources: the few files it
# needs are compiled into it, instrumented, and nothing else of QEMU.
# Output: $BUILD_DIR/fuzz/stream-offload-fuzz
set -euo pipefail
. "$(dirname "$0")/common.sh"
tree=$build/qemu
obj=$build/qemu-build
out=$build/fuzz

sources=("$top/tests/fuzz/stream-offload-fuzz.c" "$tree/net/stream_offload.c"
         "$tree/hw/net/net_tx_pkt.c" "$tree/net/eth.c" "$tree/net/checksum.c"
         "$tree/util/iov.c" "$tree/util/crc32c.c")
mkdir -p "$out"
# shellcheck disable=SC2046
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$obj" -I"$tree" -I"$tree/include" -I"$tree/host/include/x86_64" \
    -I"$tree/host/include/generic" -I"$tree/net" \
    $(pkg-config --cflags glib-2.0) -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
    -o "$out/stream-offload-fuzz" "${sources[@]}" $(pkg-config --libs glib-2.0)
