#!/bin/bash
# Build upstream passt's newest tag, the third passt of the test matrix,
# from the source the project keeps beside this repository
# (../shared/passt/, checksum in its SHA256SUMS), with the fixes this
# repository carries for it (patches-passt/*.patch, in name order, until
# passt ships them).  Prints the binary's path; prints nothing, and says
# why on stderr, where that source is absent, so that callers can skip.
set -euo pipefail
. "$(dirname "$0")/common.sh"
src=${PASST_NEWEST_SRC:-$top/../shared/passt}
out=$build/passt-newest

if [ ! -f "$src/SHA256SUMS" ]; then
    echo "build-passt-newest: no upstream passt source in $src" >&2
    exit 0
fi
tarball=$(awk '{print $2; exit}' "$src/SHA256SUMS")
# what the build is made of: the tarball and the carried patches
source_id="$tarball $(cat "$top"/patches-passt/*.patch | sha256sum | cut -d' ' -f1)"
if [ ! -x "$out/passt" ] || [ "$(cat "$out/.source" 2>/dev/null)" != "$source_id" ]; then
    (cd "$src" && sha256sum --quiet -c SHA256SUMS)
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    tar -xf "$src/$tarball" -C "$out.tmp" --strip-components=1
    for p in "$top"/patches-passt/*.patch; do
        patch -s -p1 -d "$out.tmp" < "$p"
    done
    version=${tarball#passt-}
    make -C "$out.tmp" -s -j"$(nproc)" VERSION="${version%.tar.xz}" >/dev/null
    echo "$source_id" > "$out.tmp/.source"
    rm -rf "$out"
    mv "$out.tmp" "$out"
fi
echo "$out/passt"
