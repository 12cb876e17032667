#!/usr/bin/python3
"""Measure how much of a 16 MiB host-to-guest TCP transfer arrives when
the guest half-closes its side first (busybox nc with stdin at EOF) and
when it keeps it open, for slirp, passt in both modes and a hand-started
passt on -netdev stream.  An investigation, not a test: it prints byte
counts.  Runs inside scripts/netns-run.sh, like the guest suite:

  scripts/netns-run.sh bench/half-close.py --qemu Q --kernel K \\
      --initrd I --passt P [FORM...]
"""

import argparse
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
import time

# guestlib.py lives with the test guest, in guest/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "guest"))
from guestlib import (DualStackTCPServer, guest_cmd, make_initrd,  # noqa: E402
                      scratch_dir, start_passt_by_hand)

SIZE = 16 << 20
PORT = 9002
RUNS = 3

GUEST = r"""
udhcpc -i eth0 -n -q -t 10 -T 2 -s /etc/udhcpc/default.script >/dev/null 2>&1
for i in $(seq @RUNS@); do
    echo "RESULT half-close $(timeout 60 nc @HOST@ @PORT@ </dev/null | wc -c)"
    echo "RESULT open $( (sleep 8) | timeout 60 nc @HOST@ @PORT@ | wc -c)"
done
"""


class Source(socketserver.BaseRequestHandler):
    """Sends SIZE bytes, then closes its side."""
    data = os.urandom(SIZE)

    def handle(self):
        self.request.sendall(self.data)
        self.request.shutdown(socket.SHUT_WR)
        time.sleep(2)


def forms(passt):
    mem = ["-object", "memory-backend-memfd,id=mem,size=512M,share=on",
           "-machine", "memory-backend=mem"]
    dev = ["-device", "virtio-net-pci,netdev=n0"]
    return {
        "user": (["-nic", "user,model=virtio-net-pci"], "10.0.2.2"),
        "passt": (["-netdev", "passt,id=n0,path=" + passt] + dev,
                  "192.0.2.2"),
        "vhost-user": (mem + ["-netdev", "passt,id=n0,vhost-user=on,path=" +
                              passt] + dev, "192.0.2.2"),
        "hand-stream": (None, "192.0.2.2"),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    for opt in ("qemu", "kernel", "initrd", "passt"):
        ap.add_argument("--" + opt, required=True)
    ap.add_argument("forms", nargs="*",
                    default=["user", "passt", "vhost-user", "hand-stream"])
    args = ap.parse_args()

    server = DualStackTCPServer(("::", PORT), Source)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for name in args.forms:
        net, host = forms(args.passt)[name]
        tmp = scratch_dir("half-close-%s-" % name)
        try:
            hand_pid = None
            if net is None:
                hand_pid, net = start_passt_by_hand(args.passt, tmp)
            initrd = os.path.join(tmp, "initrd.gz")
            make_initrd(args.initrd, GUEST.replace("@HOST@", host)
                        .replace("@PORT@", str(PORT))
                        .replace("@RUNS@", str(RUNS)), initrd)
            out = subprocess.run(
                guest_cmd(args.qemu, args.kernel, initrd) + net, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=600, start_new_session=True,
                env=dict(os.environ, TMPDIR=tmp)).stdout.decode(
                    errors="replace")
            if hand_pid:
                os.kill(hand_pid, 15)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        got = {}
        for line in out.splitlines():
            if line.startswith("RESULT "):
                kind, count = line.split()[1:3]
                got.setdefault(kind, []).append(count)
        for kind in ("half-close", "open"):
            print("%-12s %-11s of %d bytes: %s" % (
                name, kind, SIZE, ", ".join(got.get(kind, ["none"]))),
                flush=True)


if __name__ == "__main__":
    main()
