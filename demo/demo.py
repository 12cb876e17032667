#!/usr/bin/python3
"""Boot the test guest on -nic passt and show, step by step, that its
network works: the lease it got, a page it fetched from a web server on
the host, a reply from a server in the guest reached through a forwarded
port, and QEMU's "info network".  Runs inside scripts/netns-run.sh."""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time

# guestlib.py lives with the test guest, in guest/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "guest"))
from guestlib import (FWD_TCP, HTTP_PORT, Qmp, alive, guest_cmd,  # noqa: E402
                      make_initrd, passt_pids, scratch_dir, start_services,
                      wait_for)

GUEST = r"""
udhcpc -i eth0 -n -q -t 10 -T 2 -s /etc/udhcpc/default.script >/dev/null 2>&1
echo "SHOW lease $(cat /tmp/lease)"
echo "SHOW page $(timeout 30 wget -q -O - http://192.0.2.2:@HTTP@/index.txt)"
printf '#!/bin/sh\necho "hello from the guest, $(uname -sr)"\nsleep 1\n' > /tmp/hi
chmod +x /tmp/hi
nc -l -p @FWD@ -e /tmp/hi &
usleep 300000
echo "ASK forwarded"
read reply
"""


def say(what, text=""):
    bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    print("%s%-28s%s %s" % (bold, what, plain, text), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    for opt in ("qemu", "kernel", "initrd", "passt"):
        ap.add_argument("--" + opt, required=True)
    args = ap.parse_args()

    tmp = scratch_dir("demo-")
    try:
        www = os.path.join(tmp, "www")
        os.mkdir(www)
        with open(os.path.join(www, "index.txt"), "w") as f:
            f.write("This page was served by the host at %s\n" %
                    time.strftime("%H:%M:%S"))
        start_services(www)
        return boot_and_show(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def boot_and_show(args, tmp):
    """Boot the guest with @tmp as QEMU's TMPDIR and show each step;
    returns the exit status."""
    initrd = os.path.join(tmp, "initrd.gz")
    make_initrd(args.initrd, GUEST.replace("@HTTP@", str(HTTP_PORT))
                .replace("@FWD@", str(FWD_TCP)), initrd)
    qmp_path = os.path.join(tmp, "qmp.sock")
    nic = "passt,path=%s,tcp-ports=%d,dns=192.0.2.2" % (args.passt, FWD_TCP)
    cmd = guest_cmd(args.qemu, args.kernel, initrd, qmp_path) + ["-nic", nic]
    say("QEMU command line:", " ".join(cmd[:1] + ["..."] + cmd[-2:]))
    start = time.monotonic()
    qemu = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env=dict(os.environ, TMPDIR=tmp))
    qmp = Qmp(qmp_path)
    info = qmp.hmp("info network").replace("\r", "")
    pids = passt_pids(info)
    say("booting the guest", "(under %s)" % os.environ.get("GUEST_ACCEL", "TCG"))

    shown = 0
    for raw in qemu.stdout:
        line = raw.decode(errors="replace").rstrip("\r\n")
        if line.startswith("SHOW lease "):
            say("the guest's DHCP lease:", line[11:])
            shown += 1
        elif line.startswith("SHOW page "):
            say("the guest fetched a page:", line[10:])
            shown += 1
        elif line == "ASK forwarded":
            with socket.create_connection(("127.0.0.1", FWD_TCP), 10) as s:
                s.settimeout(10)
                reply = s.recv(200).decode().strip()
            say("host:%d -> guest replied:" % FWD_TCP, reply)
            shown += bool(reply)
            say("info network:", "")
            print("    " + info.strip().replace("\n", "\n    "), flush=True)
            qemu.stdin.write(b"go\n")
            qemu.stdin.flush()
        elif line.startswith("GUEST-DONE"):
            break
    qemu.wait()
    gone = wait_for(lambda: not any(alive(p) for p in pids), 5)
    left = [n for n in os.listdir(tmp) if n.startswith("qemu-passt.")]
    say("guest powered off after", "%.0f s; passt %s, %s left behind" % (
        time.monotonic() - start, "gone" if gone else "STILL RUNNING",
        "nothing" if not left else ", ".join(left)))
    return 0 if shown == 3 and gone and not left and pids else 1


if __name__ == "__main__":
    sys.exit(main())
