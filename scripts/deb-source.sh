#!/bin/bash
# Debian's QEMU source package, made ready for dpkg-buildpackage on
# Debian 12, in DEST (removed first): unpacked from build/dl (the files
# scripts/versions.sh pins), the series added after Debian's own 17
# patches (debian/patches/passt/NNNN-*.patch, appended to
# debian/patches/series, the cover letter left out) and applied, a
# changelog entry with a version of its own, debian/ adjusted where
# Debian 12 needs it, and with VARIANT x86 the edits of deb-x86-only.sh.
#   scripts/deb-source.sh DEST x86|full
# The version is Debian's plus "+passt$DEB_REVISION~bpo12" (DEB_REVISION
# is 1 unless given; raise it for each changed series that is handed
# out): it sorts above Debian's 1:10.0.13+ds-0+deb13u1, whose source it
# is, and below Debian's next update of it; "~bpo12" says it is built
# for Debian 12, as a backport's version would.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/versions.sh"
dest=$1 variant=$2
dl=$build/dl
version=$QEMU_VERSION+passt${DEB_REVISION:-1}~bpo12
case $variant in x86|full) ;; *) echo "deb-source: VARIANT is x86 or full" >&2; exit 1 ;; esac

edit() {          # edit FILE SED-SCRIPT: apply it; fail if it changed nothing
    local file=$1 before
    before=$(sha256sum <"$file")
    sed -i -e "$2" "$file"
    if [ "$(sha256sum <"$file")" = "$before" ]; then
        echo "deb-source: '$2' changed nothing in $file:" \
             "Debian's packaging is not what this script knows" >&2
        exit 1
    fi
}

# 1. Debian's source, as pinned (the .dsc's own signature is not checked:
# the sums in versions.sh are)
(cd "$dl" && printf '%s\n' "${QEMU_SHA256[@]}" | sha256sum --quiet -c)
dsc=$(printf '%s\n' "${QEMU_SHA256[@]}" | awk '/\.dsc$/ {print $2}')
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
dpkg-source --no-check -x "$dl/$dsc" "$dest"
deb=$dest/debian

# 2. The series, after Debian's patches (they touch nothing the series does
# but meson.build and qemu-options.hx, and apply with no fuzz under it)
mapfile -t series < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$top/patches/series" | grep -v '^$')
mkdir -p "$deb/patches/passt"
[ -z "$(tail -c 1 "$deb/patches/series")" ] || echo >>"$deb/patches/series"
echo "# -netdev passt: patches/series of the passt-qemu repository" >>"$deb/patches/series"
for p in "${series[@]}"; do
    if ! [[ $p =~ ^[0-9]{4}-[^/]*\.patch$ ]] || [[ $p == 0000-* ]]; then
        echo "deb-source: '$p' in patches/series is no NNNN-*.patch" >&2
        exit 1
    fi
    cp "$top/patches/$p" "$deb/patches/passt/$p"
    echo "passt/$p" >>"$deb/patches/series"
done

# 3. Debian 12 (bookworm, with bookworm-backports for meson):
#  - it has no libblkio: no libblkio-dev, and --disable-blkio instead of
#    --enable-blkio (debian/extract-config-opts reads the configure
#    options from these comments), as Debian's own backport drops it;
#  - make deb builds the architecture-dependent packages only (-B):
#    qemu-system-data (Architecture: all) needs cross compilers Debian 12
#    lacks (gcc-loongarch64-linux-gnu), so bookworm-backports' 1:10.0.2
#    serves, which qemu-system-*'s "(>> ${source:Upstream-Version}~)",
#    1:10.0.13+ds~ here, would refuse.
edit "$deb/control-in" '/^ libblkio-dev[[:space:]]/d'
edit "$deb/control-in" 's/^# --enable-blkio\([[:space:]]\)/# --disable-blkio\1/'
# shellcheck disable=SC2016 # ${source:...} is a substvar, for dpkg
edit "$deb/control-in" 's/qemu-system-data (>> \${source:Upstream-Version}~)/qemu-system-data (>> 1:10.0~)/g'

# 4. The x86-only variant (the default)
if [ "$variant" = x86 ]; then
    "$here/deb-x86-only.sh" "$dest"
fi

# 5. The changelog entry, as dch would write it
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$top" status --porcelain -- patches 2>/dev/null)" ] || commit+=" and changes"
name=${DEBFULLNAME:-$(git -C "$top" config user.name 2>/dev/null || echo "passt-qemu build")}
email=${DEBEMAIL:-$(git -C "$top" config user.email 2>/dev/null || echo "root@$(hostname -f)")}
if [ "$variant" = x86 ]; then
    what="  * x86 only: of the emulators only qemu-system-x86 (i386, x86_64),
    which the metapackage qemu-system depends on alone; no qemu-user,
    no qemu-system-xen (the full build: DEB_FULL=1)."
else
    what="  * Full build: every target and package Debian builds."
fi
{
    cat <<EOF
qemu ($version) bookworm; urgency=medium

  * -netdev passt: the ${#series[@]} patches of patches/series (passt-qemu
    $commit) in debian/patches/passt/, after Debian's own, and
    configured with --enable-passt.
$what
  * Built for Debian 12 with bookworm-backports (meson):
    - no libblkio-dev (not in Debian 12): --disable-blkio;
    - qemu-system-* depend on qemu-system-data (>> 1:10.0~), so that
      bookworm-backports' 1:10.0.2 serves this binary-only build.

 -- $name <$email>  $(date -R)

EOF
    cat "$deb/changelog"
} >"$deb/changelog.new"
mv "$deb/changelog.new" "$deb/changelog"
got=$(dpkg-parsechangelog -l "$deb/changelog" -S Version)
[ "$got" = "$version" ] || { echo "deb-source: the changelog says $got" >&2; exit 1; }

# 6. debian/control from the edited control-in, as debian/rules makes it,
# and the series applied (as dpkg-buildpackage would; no fuzz allowed)
rm -f "$deb/control"
make -s -C "$dest" -f debian/control.mk debian/control
(cd "$dest" && dpkg-source --before-build .)
echo "deb-source: qemu $version ($variant) in $dest"
