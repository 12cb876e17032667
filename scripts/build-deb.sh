#!/bin/bash
# make deb: Debian's QEMU source package (scripts/versions.sh) with the
# series, built into binary packages for Debian 12 in build/deb/x86/ (or full/):
# dpkg-buildpackage -B, configured with --enable-passt (so that a
# missing dependency of the backend fails the build), no tests
# (nocheck), no debug symbol packages.  x86 only unless DEB_FULL=1
# (scripts/deb-x86-only.sh says what that changes).  Prints each step
# as it starts, the build's progress, the time it took and the packages.
#   scripts/build-deb.sh
# DEB_REVISION=N makes the version ...+passtN~bpo12 (default 1).
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/progress.sh"
. "$here/versions.sh"
out=$build/deb
src=$out/qemu-$(sed -E 's/^[0-9]+://; s/-[^-]*$//' <<<"$QEMU_VERSION")

if [ "$(id -u)" != 0 ]; then
    echo "build-deb: run it as root: it installs the build dependencies" >&2
    exit 1
fi
if [ "${DEB_FULL:-0}" = 1 ]; then
    variant=full what="every target and package"
    profiles=nocheck
else
    variant=x86 what="qemu-system-x86 and the packages beside it"
    profiles=nocheck,pkg.qemu.omit-user,pkg.qemu.omit-system-xen
fi
# the linux-user vdso files as the source tarball has them, not from an
# installed qemu-system-data (which the build would need otherwise)
profiles+=,pkg.qemu.use-upstream-vdso

step packages "installing the packages the build and the tests need (apt-get)" \
    "$here/setup-host.sh"
step qemu-source "fetching Debian's QEMU $QEMU_VERSION source (checksum-pinned)" \
    "$here/fetch-base.sh"
step deb-source "unpacking it into $src with the series and a changelog entry ($variant)" \
    "$here/deb-source.sh" "$src" "$variant"
step deb-build-deps "installing its build dependencies (apt-get, bookworm-backports where needed)" \
    "$here/deb-build-deps.sh" "$src" "$profiles" "$out"

# dpkg-buildpackage writes beside the source, in $out; the packages
# then go to $out/$variant, so that both variants' are kept (and can be
# tested) whichever was built last.  (ccache serves a build again of the
# same variant; the two share little, as config-host.h names the KVM
# targets and every file includes it.)
buildpackage() (
    rm -f "$out"/*.deb "$out"/*.ddeb "$out"/*.buildinfo "$out"/*.changes
    # debian/rules appends QEMU_CONFIGURE_OPTIONS to its main configure
    # line (control.mk adds the target list of the x86-only variant)
    export QEMU_CONFIGURE_OPTIONS=--enable-passt
    DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} nocheck noautodbgsym terse parallel=$(nproc)"
    export DEB_BUILD_OPTIONS
    # QEMU's configure takes the compiler from CC; debian/rules sets none
    if [ "${DEB_CCACHE:-1}" = 1 ] && command -v ccache >/dev/null; then
        export CC="ccache gcc" CXX="ccache g++" CCACHE_BASEDIR=$build
    fi
    # Debian's own tools only, as a Debian build machine has them: a
    # python3 or meson of the user's (pyenv, /usr/local) would be the
    # one configure takes, without the packages it needs
    export PATH=/usr/sbin:/usr/bin:/sbin:/bin
    cd "$src"
    dpkg-buildpackage -B -us -uc --build-profiles="$profiles" 2>&1 |
        "$here/ninja-progress.sh"
)
printf -v t0 '%(%s)T' -1
step deb-build "dpkg-buildpackage -B: $what, with the series ($variant)" buildpackage
printf -v t1 '%(%s)T' -1
took=$((t1 - t0))
rm -rf "${out:?}/$variant"
mkdir "$out/$variant"
(cd "$out" && shopt -s nullglob && mv -- ./*.deb ./*.ddeb ./*.buildinfo ./*.changes "$variant/")

say "deb: built in $((took / 60)) min $((took % 60)) s ($variant, $(nproc) jobs," \
    "log: $progress_logs/deb-build.log); the packages in $out/$variant:"
(cd "$out/$variant" && ls -1 ./*.deb) | sed 's|^\./|    |' >&2
say "deb: to install, in $out/$variant: apt-get install --no-install-recommends" \
    "./qemu-system-x86_*.deb ./qemu-system-common_*.deb" \
    "seabios/bookworm-backports qemu-system-data/bookworm-backports"
say "deb: make check-deb tests them (installs, runs the guests, uninstalls)"
