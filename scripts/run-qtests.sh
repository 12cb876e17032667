#!/bin/bash
# Run the qtests inside a private network namespace: QEMU's own
# netdev-socket, then netdev-passt-test against each passt (Debian 13's,
# upstream's newest where its source is beside this repository, and
# Debian 12's), as root and as an ordinary user.  Prints TAP.
set -euo pipefail
. "$(dirname "$0")/common.sh"
obj=${QEMU_OBJ:-$build/qemu-build}
. "$here/tap.sh"

modern_passt=${PASST:-$build/passt/passt}
system_passt=${SYSTEM_PASST:-/usr/bin/passt}
as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all)

qtest() {         # qtest NAME PASST [WRAPPER...] TEST
    local name=$1 passt=$2
    shift 2
    # setsid: a signal QEMU sends to its process group stays in there
    tap_run "$name" env QTEST_QEMU_BINARY=./qemu-system-x86_64 PASST="$passt" \
        setsid -w "$here/netns-run.sh" "$@" --tap
}

cd "$obj"
qtest netdev-socket "$modern_passt" tests/qtest/netdev-socket
# QEMU's vhost-user tests of virtio-net: the vhost-net refactoring of the
# series must leave -netdev vhost-user as it was.  (make check builds
# qos-test; the sanitizer build leaves it out, for time.)
if [ -x tests/qtest/qos-test ]; then
    vhost_user_cases=$(QTEST_QEMU_BINARY=./qemu-system-x86_64 tests/qtest/qos-test -l |
                       grep 'virtio-net/virtio-net-tests/vhost-user/' | sed 's/^/-p /')
    # shellcheck disable=SC2086
    qtest vhost-user-test "$modern_passt" tests/qtest/qos-test $vhost_user_cases
else
    tap_result skip "vhost-user-test" "qos-test is not built in $obj"
fi
qtest passt-modern-root "$modern_passt" tests/qtest/netdev-passt-test
qtest passt-modern-user "$modern_passt" "${as_user[@]}" tests/qtest/netdev-passt-test
newest_passt=$(BUILD_DIR=$build "$here/build-passt-newest.sh" 2>"$LOG_DIR/build-passt-newest.log")
if [ -n "$newest_passt" ]; then
    qtest passt-newest-root "$newest_passt" tests/qtest/netdev-passt-test
    qtest passt-newest-user "$newest_passt" "${as_user[@]}" tests/qtest/netdev-passt-test
else
    tap_result skip "passt-newest" "$(cat "$LOG_DIR/build-passt-newest.log")"
fi
if [ -x "$system_passt" ]; then
    qtest passt-debian12-root "$system_passt" tests/qtest/netdev-passt-test
    qtest passt-debian12-user "$system_passt" "${as_user[@]}" tests/qtest/netdev-passt-test
else
    tap_result fail "passt-debian12" "$system_passt is missing: run scripts/setup-host.sh"
fi
tap_summary
