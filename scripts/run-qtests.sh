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

# The runs as "nobody" may not reach the build: a clone in root's home
# lies under a 0700 directory.  They get what they execute (QEMU, its
# firmware and data, the qtest, each passt) in a scratch directory under
# /tmp that anybody may enter, removed at the end.  QEMU's configuration
# directory, ../etc/qemu from the binary, is then inside it too.
user_dir=$(mktemp -d /tmp/passt-qemu-qtest.XXXXXX)
trap 'rm -rf "$user_dir"' EXIT
chmod 755 "$user_dir"
user_obj=$user_dir/qemu-build

place() {         # place FILE DIR: a hard link where it can, or a copy
    mkdir -p "$2"
    ln -f "$1" "$2/" 2>/dev/null || cp "$1" "$2/"
}

place "$obj/qemu-system-x86_64" "$user_obj"
place "$obj/tests/qtest/netdev-passt-test" "$user_obj/tests/qtest"
# the data QEMU finds through qemu-bundle, less links to what was not built
(cd "$obj" && find -L qemu-bundle/usr/local/share -type f -print0 |
    xargs -0 cp --parents -t "$user_obj")
chmod -R a+rX "$user_dir"

user_passt() {    # user_passt NAME PASST: where "nobody" runs PASST from
    if "${as_user[@]}" test -x "$2"; then
        echo "$2"
    else
        place "$2" "$user_dir/$1"
        # with its control client, which the backend looks for beside it
        if [ -x "${2%/*}/pesto" ]; then
            place "${2%/*}/pesto" "$user_dir/$1"
        fi
        echo "$user_dir/$1/${2##*/}"
    fi
}

qtest() {         # qtest NAME PASST [WRAPPER...] TEST
    local name=$1 passt=$2
    shift 2
    # setsid: a signal QEMU sends to its process group stays in there
    tap_run "$name" env QTEST_QEMU_BINARY=./qemu-system-x86_64 PASST="$passt" \
        setsid -w "$here/netns-run.sh" "$@" --tap
}

qtest_user() {    # qtest_user NAME PASST TEST, as "nobody", from $user_dir
    local name=$1 passt
    passt=$(user_passt "$name" "$2")
    cd "$user_obj"
    qtest "$name" "$passt" "${as_user[@]}" "$3"
    cd "$obj"
}

cd "$obj"
qtest netdev-socket "$modern_passt" tests/qtest/netdev-socket
# QEMU's vhost-user tests of virtio-net: the vhost-net refactoring of the
# series must leave -netdev vhost-user as it was.  The e1000e and igb
# tests: the series fixes net_tx_pkt, which both use (igb's tso case).
# (make check builds qos-test; the sanitizer build leaves it out, for
# time.)
qos_cases() {     # qos_cases REGEX: -p options for the matching cases
    QTEST_QEMU_BINARY=./qemu-system-x86_64 tests/qtest/qos-test -l |
        grep -E "$1" | sed 's/^/-p /'
}
if [ -x tests/qtest/qos-test ]; then
    # shellcheck disable=SC2046
    qtest vhost-user-test "$modern_passt" tests/qtest/qos-test \
        $(qos_cases 'virtio-net/virtio-net-tests/vhost-user/')
    # shellcheck disable=SC2046
    qtest e1000e-igb-test "$modern_passt" tests/qtest/qos-test \
        $(qos_cases '/(e1000e|igb)/(e1000e|igb)-tests/')
else
    tap_result skip "vhost-user-test" "qos-test is not built in $obj"
    tap_result skip "e1000e-igb-test" "qos-test is not built in $obj"
fi
qtest passt-modern-root "$modern_passt" tests/qtest/netdev-passt-test
qtest_user passt-modern-user "$modern_passt" tests/qtest/netdev-passt-test
newest_passt=$(BUILD_DIR=$build "$here/build-passt-newest.sh" 2>"$LOG_DIR/build-passt-newest.log")
if [ -n "$newest_passt" ]; then
    qtest passt-newest-root "$newest_passt" tests/qtest/netdev-passt-test
    qtest_user passt-newest-user "$newest_passt" tests/qtest/netdev-passt-test
else
    tap_result skip "passt-newest" "$(cat "$LOG_DIR/build-passt-newest.log")"
fi
if [ -x "$system_passt" ]; then
    qtest passt-debian12-root "$system_passt" tests/qtest/netdev-passt-test
    qtest_user passt-debian12-user "$system_passt" tests/qtest/netdev-passt-test
else
    tap_result fail "passt-debian12" "$system_passt is missing: run scripts/setup-host.sh"
fi
tap_summary
