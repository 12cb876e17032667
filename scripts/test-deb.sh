#!/bin/bash
# make check-deb: the acceptance test of the packages make deb built, on
# this machine.  Installs qemu-system-x86 and qemu-system-common from
# build/deb/x86 (DEB_FULL=1: full) with what they need (seabios and qemu-system-data from
# bookworm-backports, libraries from Debian 12), runs the demo and the
# guest suite's -nic passt (form nic) and vhost-user forms on
# /usr/bin/qemu-system-x86_64, then puts the packages back as they were:
# the same packages in the same versions with the same automatic marks
# (dpkg-query and apt-mark, before and after; also when interrupted).
# Prints TAP and "N passed, N failed"; logs in build/logs/deb-*.
#   scripts/test-deb.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/tap.sh"
. "$here/progress.sh"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
# the x86-only build's packages, or with DEB_FULL=1 the full build's
if [ "${DEB_FULL:-0}" = 1 ]; then out=$build/deb/full; else out=$build/deb/x86; fi
qemu=/usr/bin/qemu-system-x86_64
passt=${PASST:-$build/passt/passt}
guest=(--kernel "$build/guest/vmlinuz" --initrd "$build/guest/initramfs.cpio.gz")
# what the packages need in versions newer than Debian 12's
from_backports=(seabios qemu-system-data)

if [ "$(id -u)" != 0 ]; then
    echo "test-deb: run it as root: it installs and removes packages" >&2
    exit 1
fi
debs=()
for p in qemu-system-x86 qemu-system-common; do
    f=$(find "$out" -maxdepth 1 -name "${p}_*.deb" | sort | tail -n 1)
    if [ -z "$f" ]; then
        echo "test-deb: no ${p}_*.deb in $out: run make deb first" >&2
        exit 1
    fi
    debs+=("$f")
done
version=$(dpkg-deb -f "${debs[0]}" Version)

step packages "installing the packages the tests need (apt-get)" "$here/setup-host.sh"
step passt "building passt (Debian 13's)" "$here/build-passt.sh"
step guest "building the test guest" "$here/build-guest.sh"

work=$(mktemp -d)
snapshot() {      # snapshot NAME: the installed packages, the automatic
    # marks, and those removed whose configuration files are kept
    dpkg-query -W -f='${db:Status-Abbrev} ${binary:Package} ${Version}\n' >"$work/$1.all"
    awk '$1 == "ii" {print $2, $3}' "$work/$1.all" | sort >"$work/$1"
    awk '$1 == "rc" {print $2}' "$work/$1.all" | sort >"$work/$1.rc"
    apt-mark showauto | sort >"$work/$1.auto"
}
restored=false
restore() {       # the packages as snapshot "before" has them
    local gone back marks kept
    $restored && return 0
    restored=true
    snapshot after
    # purged: what is new (removed only, what had its configuration
    # kept before); installed again: what went or changed version
    mapfile -t kept < <(comm -23 <(cut -d' ' -f1 "$work/after") <(cut -d' ' -f1 "$work/before") |
                        comm -12 - "$work/before.rc")
    [ "${#kept[@]}" -eq 0 ] || apt-get remove -y -q "${kept[@]}"
    snapshot after
    mapfile -t gone < <(comm -23 <(cut -d' ' -f1 "$work/after") <(cut -d' ' -f1 "$work/before"))
    mapfile -t back < <(comm -23 "$work/before" "$work/after" | tr ' ' '=')
    echo "test-deb: purging ${gone[*]:-nothing}; installing again ${back[*]:-nothing}"
    if [ "${#gone[@]}" -gt 0 ] || [ "${#back[@]}" -gt 0 ]; then
        apt-get install -y -q --purge --no-install-recommends --allow-downgrades \
            "${back[@]}" "${gone[@]/%/-}"
    fi
    snapshot now
    mapfile -t marks < <(comm -23 "$work/before.auto" "$work/now.auto")
    [ "${#marks[@]}" -eq 0 ] || apt-mark auto "${marks[@]}"
    mapfile -t marks < <(comm -13 "$work/before.auto" "$work/now.auto")
    [ "${#marks[@]}" -eq 0 ] || apt-mark manual "${marks[@]}"
}
snapshot before
trap 'restore >>"$LOG_DIR/deb-restore.log" 2>&1 ||
          echo "test-deb: putting the packages back failed: $LOG_DIR/deb-restore.log" >&2
      rm -rf "$work"' EXIT

say "check-deb: installing $version and running the guests on $qemu"
install=("${debs[@]}" "${from_backports[@]/%//bookworm-backports}")
if apt-get install -y -q --no-install-recommends "${install[@]}" \
        >"$LOG_DIR/deb-install.log" 2>&1; then
    tap_result ok "install: qemu-system-x86 and qemu-system-common $version (apt-get)"
else
    tap_result fail "install: qemu-system-x86 and qemu-system-common $version" \
        "see $LOG_DIR/deb-install.log"
    tail -n 20 "$LOG_DIR/deb-install.log" | sed 's/^/#   /'
fi

said=$("$qemu" --version 2>&1 || true)
if [ "$(dpkg-query -S "$qemu" 2>/dev/null)" = "qemu-system-x86: $qemu" ] &&
   [[ $said == *"(Debian $version)"* ]]; then
    tap_result ok "$qemu is the package's: --version says Debian $version"
else
    tap_result fail "$qemu is the package's" "${said%%$'\n'*}"
fi
said=$("$qemu" -netdev help 2>&1 || true)
if grep -qx passt <<<"$said"; then
    tap_result ok "$qemu -netdev help lists passt"
else
    tap_result fail "$qemu -netdev help lists passt"
fi

# the demo: a lease, a page fetched, a forwarded port, a clean power-off
if setsid -w "$here/netns-run.sh" "$top/demo/demo.py" --qemu "$qemu" \
        "${guest[@]}" --passt "$passt" >"$LOG_DIR/deb-demo.log" 2>&1; then
    tap_result ok "demo: the guest on -nic passt works, and powers off clean"
else
    tap_result fail "demo" "see $LOG_DIR/deb-demo.log"
fi
sed 's/^/#   /' "$LOG_DIR/deb-demo.log"

tap_run deb-guest setsid -w "$here/netns-run.sh" "$top/tests/guest/guest-test.py" \
    --qemu "$qemu" "${guest[@]}" --passt "$passt" \
    --workdir "$build/guest-work/deb" --only nic,vhost-user

if restore >"$LOG_DIR/deb-restore.log" 2>&1 && snapshot final &&
   cmp -s "$work/before" "$work/final" && cmp -s "$work/before.auto" "$work/final.auto"; then
    tap_result ok "uninstall: the $(wc -l <"$work/before") packages and their marks as before"
else
    tap_result fail "uninstall: the packages as before" "see $LOG_DIR/deb-restore.log"
    diff "$work/before" "$work/final" 2>&1 | sed 's/^/#   /' || true
fi
tap_summary
