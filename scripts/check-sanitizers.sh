#!/bin/bash
# QEMU with the series, built with AddressSanitizer and
# UndefinedBehaviorSanitizer in a build directory of its own, runs the
# unit tests of the offload code, the qtests (netdev-socket, and
# netdev-passt against each passt) and one guest boot on -netdev passt
# with virtio-net, whose bulk transfers both ways go through the
# offloads.  A sanitizer report stops QEMU and fails the run; the logs
# are searched for one as well.  Prints TAP.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$here/tap.sh"
san=$build/qemu-san-build

"$here/prepare.sh"
"$here/build-guest.sh" >/dev/null
# sigaltstack coroutines: ASan does not follow ucontext's stack switches
if ! QEMU_OBJ=$san QEMU_CONFIGURE_EXTRA="--enable-asan --enable-ubsan --with-coroutine=sigaltstack" \
        "$here/build-qemu.sh" tests/qtest/netdev-socket \
        tests/qtest/netdev-passt-test tests/unit/test-stream-offload \
        >"$LOG_DIR/sanitizer-build.log" 2>&1; then
    tap_result fail "sanitizers: build" "see $LOG_DIR/sanitizer-build.log"
    tap_summary
fi
# Reports, and ASan's warnings, go to files of their own (the qtests read
# QEMU's error messages on stderr); a report also stops the process.  The
# qtests run as nobody too, who may not reach the build: the reports are
# written under /tmp and moved to the logs at the end.
reports_dir=$(mktemp -d /tmp/passt-qemu-sanitizer.XXXXXX)
chmod 1777 "$reports_dir"
collect_reports() {
    rm -rf "$LOG_DIR/sanitizer-reports"
    mkdir -p "$LOG_DIR/sanitizer-reports"
    cp -r "$reports_dir"/. "$LOG_DIR/sanitizer-reports/"
    rm -rf "$reports_dir"
}
trap collect_reports EXIT
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:log_path=$reports_dir/asan
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$reports_dir/ubsan

tap_run unit "$san/tests/unit/test-stream-offload" --tap
QEMU_OBJ=$san tap_run qtests "$here/run-qtests.sh"
tap_run guest setsid -w "$here/netns-run.sh" "$top/tests/guest/guest-test.py" \
    --qemu "$san/qemu-system-x86_64" \
    --kernel "$build/guest/vmlinuz" --initrd "$build/guest/initramfs.cpio.gz" \
    --passt "${PASST:-$build/passt/passt}" \
    --workdir "$build/guest-work/sanitizers" --only netdev,nic

collect_reports
trap - EXIT
reports=$(grep -rlE 'ERROR: AddressSanitizer|runtime error:' \
              "$LOG_DIR" "$build/guest-work/sanitizers" 2>/dev/null || true)
if [ -z "$reports" ]; then
    tap_result ok "sanitizers: no report in any log"
else
    tap_result fail "sanitizers: reports in" "$(echo $reports)"
fi
tap_summary
