#!/bin/bash
# Build upstream passt's newest tag, the third passt of the test matrix,
# from the source the project keeps beside this repository
# (../shared/passt/, checksum in its SHA256SUMS).  Prints the binary's
# path; prints nothing, and says why on stderr, where that source is
# absent, so that callers can skip.
set -euo pipefail
. "$(dirname "$0")/common.sh"
src=${PASST_NEWEST_SRC:-$top/../shared/passt}
out=$build/passt-newest

if [ ! -f "$src/SHA256SUMS" ]; then
    echo "build-passt-newest: no upstream passt source in $src" >&2
    exit 0
fi
tarball=$(awk '{print $2; exit}' "$src/SHA256SUMS")
if [ ! -x "$out/passt" ] || [ "$(cat "$out/.source" 2>/dev/null)" != "$tarball" ]; then
    (cd "$src" && sha256sum --quiet -c SHA256SUMS)
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    tar -xf "$src/$tarball" -C "$out.tmp" --strip-components=1
    version=${tarball#passt-}
    make -C "$out.tmp" -s -j"$(nproc)" VERSION="${version%.tar.xz}" >/dev/null
    echo "$tarball" > "$out.tmp/.source"
    rm -rf "$out"
    mv "$out.tmp" "$out"
fi
echo "$out/passt"
