#!/bin/bash
# Fetch the Debian QEMU source that carries upstream's own -netdev passt
# (10.1 and later; from sid's deb-src, checksum-pinned in versions.sh,
# cached) and unpack it, Debian patches applied, into
# $BUILD_DIR/qemu-upstream, for the benchmarks' peer form.  apt runs with
# a sources list, lists and cache of its own under $BUILD_DIR/dl-upstream:
# sid never becomes a source of the system's apt, not even for deb-src.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/versions.sh"
dl=$build/dl-upstream
tree=$build/qemu-upstream

sums() { printf '%s\n' "${UPSTREAM_QEMU_SHA256[@]}"; }

mkdir -p "$dl/apt/lists/partial" "$dl/apt/cache/archives/partial"
cd "$dl"
if ! sums | sha256sum --quiet -c >/dev/null 2>&1; then
    # sid from the mirror the machine's own apt sources name
    mirror=$("$here/apt-mirror.sh")
    cat > apt/sources.list <<EOF
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main
EOF
    apt_private=(
        -o Dir::Etc::sourcelist="$dl/apt/sources.list"
        -o Dir::Etc::sourceparts=-
        -o Dir::State::Lists="$dl/apt/lists"
        -o Dir::Cache="$dl/apt/cache"
        -o APT::Get::List-Cleanup=0
    )
    apt-get "${apt_private[@]}" update -qq >apt-update.log 2>&1 || {
        cat apt-update.log >&2
        exit 1
    }
    if ! apt-get "${apt_private[@]}" source --download-only \
            "qemu=$UPSTREAM_QEMU_VERSION" >apt-source.log 2>&1; then
        cat apt-source.log >&2
        echo "fetch-upstream-qemu: qemu $UPSTREAM_QEMU_VERSION is not in sid;" \
             "there are:" >&2
        apt-cache "${apt_private[@]}" showsrc qemu | awk '/^Version:/ {print "  " $2}' >&2
        exit 1
    fi
    sums | sha256sum --quiet -c
fi

dsc=$(sums | awk '/\.dsc$/ {print $2}')
"$here/unpack-source.sh" "$dl/$dsc" "$tree"
