#!/usr/bin/python3
"""Migrate a guest on -netdev passt,vhost-user=on from one QEMU to another
on this host, and check that its network works on the destination: the
address it leased is still served, new connections work, and, with
passt-repair running for both passt instances, a TCP connection opened
before the migration still carries data after it.  Prints TAP.

Must run inside the private network namespace of scripts/netns-run.sh.
"""

import argparse
import os
import shutil
import socketserver
import subprocess
import sys
import threading

# guestlib.py lives with the test guest, in guest/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "guest"))
from guestlib import (BOOT_TIMEOUT, HTTP_PORT, KEPT_AFTER_MIGRATION,  # noqa: E402
                      Qmp, Tap, DualStackTCPServer, check_reports, guest_cmd,
                      leased, leaves_nothing, make_initrd, passt_pids,
                      scratch_dir, serial_lines, serve_www, migrate_checked,
                      start_qemu, stop_started)

ECHO_PORT = 9002

GUEST_SCRIPT = r"""
report() { echo "REPORT $*"; }
echoed() {    # wait up to 10 s for the echo server to send $1 back
    i=0
    while ! grep -q "$1" /tmp/from && [ $i -lt 100 ]; do
        usleep 100000
        i=$((i + 1))
    done
}
udhcpc -i eth0 -n -q -t 10 -T 2 -s /etc/udhcpc/default.script >/dev/null 2>&1
report lease $(cat /tmp/lease 2>/dev/null)

# one connection, kept open across the migration
mkfifo /tmp/to
nc 192.0.2.2 @ECHO@ < /tmp/to > /tmp/from &
exec 3>/tmp/to
echo before-migration >&3
echoed before-migration
report echo-before $(cat /tmp/from)

echo "ASK migrate"
read reply

echo after-migration >&3
echoed after-migration
report echo-after $(grep after-migration /tmp/from)
report address-after $(ip -4 addr show dev eth0 | grep -o 'inet [0-9.]*')
report tcp4-after $(timeout 30 wget -q -O - http://192.0.2.2:@HTTP@/hello.txt)
exec 3>&-
"""


class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)
            self.wfile.flush()


def qemu_cmd(args, tmpdir, name, initrd, extra):
    netdev = "passt,id=n0,vhost-user=on,path=%s,dns=192.0.2.2" % args.passt
    if args.repair:
        netdev += ",param=--repair-path=%s" % os.path.join(tmpdir,
                                                           name + ".repair")
    qmp = os.path.join(tmpdir, name + ".qmp")
    return guest_cmd(args.qemu, args.kernel, initrd, qmp) + [
        "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
        "-machine", "memory-backend=mem",
        "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0"] + extra


def read_serial(qemu, log, reports, until):
    """Collect REPORT lines until a line starting with @until."""
    return any(line.startswith(until)
               for line in serial_lines(qemu, log, reports))


def run(tap, args, tmpdir):
    initrd = os.path.join(tmpdir, "initrd.gz")
    make_initrd(args.initrd, GUEST_SCRIPT.replace("@ECHO@", str(ECHO_PORT))
                .replace("@HTTP@", str(HTTP_PORT)), initrd)
    mig = "unix:" + os.path.join(tmpdir, "migration.sock")
    src = start_qemu(qemu_cmd(args, tmpdir, "src", initrd, []), tmpdir)
    dst = None
    helpers = []
    timers = [threading.Timer(BOOT_TIMEOUT, src.kill)]
    timers[0].start()
    log, reports = [], {}
    try:
        qsrc = Qmp(os.path.join(tmpdir, "src.qmp"), src)
        src_pids = passt_pids(qsrc.hmp("info network"))
        if not read_serial(src, log, reports, "ASK migrate"):
            tap.result(False, "guest booted on the source", "\n".join(log[-5:]))
            return
        dst = start_qemu(qemu_cmd(args, tmpdir, "dst", initrd,
                                  ["-incoming", mig]), tmpdir)
        timers.append(threading.Timer(BOOT_TIMEOUT, dst.kill))
        timers[-1].start()
        qdst = Qmp(os.path.join(tmpdir, "dst.qmp"), dst)
        dst_pids = passt_pids(qdst.hmp("info network"))
        if args.repair:
            for name in ("src", "dst"):
                helpers.append(subprocess.Popen(
                    [args.passt_repair, os.path.join(tmpdir, name + ".repair")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        status = migrate_checked(tap, qsrc, qdst, mig, dst_pids)
        # without a migrated guest there is nothing to wait for: the checks
        # of the destination's reports below fail
        if status == "completed":
            dst.stdin.write(b"go\n")
            dst.stdin.flush()
            read_serial(dst, log, reports, "GUEST-DONE")
            dst.wait()
        qsrc.cmd("quit")
        src.wait()
    finally:
        stop_started(timers, [src, dst] + helpers)
        with open(os.path.join(args.workdir, "migrate.serial.log"), "w") as f:
            f.write("\n".join(log) + "\n")

    check_reports(tap, reports, [
        ("lease", leased, "lease on the source"),
        ("echo-before", "before-migration",
         "TCP connection open before the migration")] + KEPT_AFTER_MIGRATION)
    if args.repair:
        check_reports(tap, reports, [
            ("echo-after", "after-migration",
             "destination: the connection opened before the migration "
             "still carries data (passt-repair)")])
    tap.result(leaves_nothing(src_pids + dst_pids, tmpdir),
               "both QEMUs gone: no passt, PID file or directory left")

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    for opt in ("qemu", "kernel", "initrd", "passt", "workdir"):
        ap.add_argument("--" + opt, required=True)
    ap.add_argument("--passt-repair",
                    help="run this passt-repair for both passt instances")
    args = ap.parse_args()
    args.repair = bool(args.passt_repair)
    args.workdir = os.path.abspath(args.workdir)

    os.makedirs(args.workdir, exist_ok=True)
    serve_www(args.workdir)
    echo = DualStackTCPServer(("::", ECHO_PORT), Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()

    tap = Tap()
    tmpdir = scratch_dir("migrate-")
    try:
        with tap.exceptions_fail("the migration test ran to its end"):
            run(tap, args, tmpdir)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
