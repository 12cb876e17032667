#!/bin/bash
# Everything before the tests: host packages, the QEMU base, a modern
# passt, the work tree with the series, and the build (extra ninja
# targets may be given).  Each step does nothing when it is up to date;
# each says on standard error what it does, the build how far it is.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/progress.sh"
. "$here/versions.sh"

step packages "installing the packages the build and the tests need (apt-get)" \
    "$here/setup-host.sh"
step qemu-source "fetching and unpacking Debian's QEMU $QEMU_VERSION source" \
    "$here/fetch-base.sh"
step passt "building passt $PASST_VERSION (Debian 13's)" "$here/build-passt.sh"
step series "applying patches/series to the QEMU source (build/qemu)" \
    "$here/make-tree.sh"
step build "building qemu-system-x86_64${*:+ and $*} with ccache (about 10 minutes on two cores when the cache is cold)" \
    "$here/build-qemu.sh" "$@"
