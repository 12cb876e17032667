#!/bin/bash
# Build a modern passt (Debian 13's source, checksum-pinned) next to the
# system's Debian 12 one: the old one has no --vhost-user.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/versions.sh"
dl=$build/dl
out=$build/passt

[ -x "$out/passt" ] && [ "$out/passt" -nt "$here/versions.sh" ] && exit 0

mkdir -p "$dl"
cd "$dl"
if ! printf '%s\n' "${PASST_SHA256[@]}" | sha256sum --quiet -c >/dev/null 2>&1; then
    # apt-get source fails on the missing .dsc after the tarballs arrive:
    # the checksum below decides.
    apt-get source --download-only "passt=$PASST_VERSION" >apt-passt.log 2>&1 || true
    if ! printf '%s\n' "${PASST_SHA256[@]}" | sha256sum --quiet -c; then
        cat apt-passt.log >&2
        echo "build-passt: passt $PASST_VERSION could not be fetched" >&2
        exit 1
    fi
fi
tarball=$(printf '%s\n' "${PASST_SHA256[@]}" | awk '{print $2}')
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
tar -xf "$dl/$tarball" -C "$out.tmp" --strip-components=1
version=${PASST_VERSION#*git}
make -C "$out.tmp" -s -j"$(nproc)" VERSION="git${version%%-*}" >/dev/null
rm -rf "$out"
mv "$out.tmp" "$out"
echo "build-passt: passt $PASST_VERSION built in $out"
