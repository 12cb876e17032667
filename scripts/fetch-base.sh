#!/bin/bash
# Fetch Debian's QEMU source package (checksum-pinned, cached) and unpack it,
# Debian patches applied, into $BUILD_DIR/base.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/versions.sh"
dl=$build/dl
base=$build/base

mkdir -p "$dl"
cd "$dl"
if ! printf '%s\n' "${QEMU_SHA256[@]}" | sha256sum --quiet -c >/dev/null 2>&1; then
    if ! apt-get source --download-only "qemu=$QEMU_VERSION" >apt-source.log 2>&1; then
        cat apt-source.log >&2
        echo "fetch-base: qemu $QEMU_VERSION is not on the mirror." >&2
        echo "fetch-base: pin another 10.0.x in scripts/versions.sh" \
             "(see 'apt-cache showsrc qemu')." >&2
        exit 1
    fi
    printf '%s\n' "${QEMU_SHA256[@]}" | sha256sum --quiet -c
fi

dsc=$(printf '%s\n' "${QEMU_SHA256[@]}" | awk '/\.dsc$/ {print $2}')
"$here/unpack-source.sh" "$dl/$dsc" "$base"
