#!/usr/bin/python3
"""Boot the test guest on each form of the passt backend (and on
-netdev user as the control) and check, from inside the guest and from
the host, that its network works.  Prints TAP.

Must run inside the private network namespace of scripts/netns-run.sh:
the host services below listen on this namespace's loopback, and the
guest reaches them through the address each backend maps to it:

  passt (Debian 12's and 2025's): the gateway, 192.0.2.2 and
      2001:db8::2 here, is mapped to the host's loopback
      (--map-host-loopback defaults to the gateway address);
  slirp: 10.0.2.2 and fec0::2.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

from guestlib import (BLOB_MIB, BOOT_TIMEOUT, DNS_ANSWER, FWD_IPERF, FWD_TCP,
                      HTTP_PORT, SINK_PORT, Qmp, Sink, Tap, alive, guest_cmd,
                      make_blob, make_initrd, passt_pids, serial_lines, serve_www,
                      start_passt_by_hand, wait_for)

# --- the guest ---------------------------------------------------------------

GUEST_SCRIPT = r"""
HOST4=@HOST4@
HOST6=@HOST6@
PREFIX6=@PREFIX6@
report() { echo "REPORT $*"; }
ask() { echo "ASK $*"; read reply; }

udhcpc -i eth0 -n -q -t 10 -T 2 -s /etc/udhcpc/default.script >/dev/null 2>&1
report lease $(cat /tmp/lease 2>/dev/null)

i=0
while [ $i -lt 300 ]; do
    a=$(ip -6 addr show dev eth0 | grep "inet6 $PREFIX6" | grep -v tentative | grep -o 'inet6 [^ ]*')
    [ -n "$a" ] && break
    usleep 100000
    i=$((i + 1))
done
report ipv6 ${a:-none $(ip -6 addr show dev eth0 | grep -o 'inet6.*' | tr '\n' ' ')}

report tcp4 $(timeout 30 wget -q -O - http://$HOST4:@HTTP@/hello.txt)
report tcp6 $(timeout 30 wget -q -O - "http://[$HOST6]:@HTTP@/hello.txt")
report dns $(nslookup hello.test 2>/dev/null | grep -A1 'Name:' | grep -o '[0-9.]*$')
report udp $(nslookup hello.test $HOST4 2>/dev/null | grep -A1 'Name:' | grep -o '[0-9.]*$')

printf '#!/bin/sh\necho hello-from-guest\nsleep 1\n' > /tmp/hello.sh
chmod +x /tmp/hello.sh
nc -l -p @FWD_TCP@ -e /tmp/hello.sh &
iperf3 -s -1 -D -p @FWD_IPERF@
usleep 300000
ask inbound

# generous: an e1000e on a hub took a minute before patch 1 (README)
t0=$(date +%s)
timeout 180 wget -q -O /tmp/in http://$HOST4:@HTTP@/blob
report download $(md5sum /tmp/in | cut -d' ' -f1)
report download-seconds $(($(date +%s) - t0))
rm -f /tmp/in

dd if=/dev/urandom of=/tmp/out bs=1M count=@MIB@ 2>/dev/null
report upload $(md5sum /tmp/out | cut -d' ' -f1)
nc $HOST4 @SINK@ < /tmp/out
rm -f /tmp/out
ask upload-done

if [ "@KILL@" = yes ]; then
    # record the carrier while passt is killed and restarted
    (while [ ! -f /tmp/stop ]; do cat /sys/class/net/eth0/carrier; usleep 20000; done) > /tmp/carrier 2>&1 &
    ask kill-passt
    i=0
    while [ "$(cat /sys/class/net/eth0/carrier)" != 1 ] && [ $i -lt 100 ]; do
        usleep 100000
        i=$((i + 1))
    done
    touch /tmp/stop
    wait
    report carrier-seen $(sort -u /tmp/carrier | tr '\n' ' ')
    udhcpc -i eth0 -n -q -t 10 -T 2 -s /etc/udhcpc/default.script >/dev/null 2>&1
    report relaunch-lease $(cat /tmp/lease 2>/dev/null)
    report relaunch-tcp4 $(timeout 30 wget -q -O - http://$HOST4:@HTTP@/hello.txt)
fi
"""


def guest_script(form):
    s = GUEST_SCRIPT
    for k, v in {"HOST4": form["host4"], "HOST6": form["host6"],
                 "PREFIX6": form["prefix6"], "HTTP": HTTP_PORT,
                 "SINK": SINK_PORT, "FWD_TCP": FWD_TCP,
                 "FWD_IPERF": FWD_IPERF, "MIB": BLOB_MIB,
                 "KILL": "yes" if form["kill"] else "no"}.items():
        s = s.replace("@%s@" % k, str(v))
    return s


def run_form(tap, args, form, workdir, blob_md5):
    """One boot of the guest; every check of the form is one TAP line."""
    name = form["name"]
    tmpdir = tempfile.mkdtemp(prefix="guest-", dir=workdir)
    os.chmod(tmpdir, 0o711)     # Debian 12's passt run by root is "nobody"
    initrd = os.path.join(tmpdir, "initrd.gz")
    make_initrd(args.initrd, guest_script(form), initrd)
    qmp_path = os.path.join(tmpdir, "qmp.sock")
    net = form.get("net")
    hand_pid = None
    if form.get("hand"):
        hand_pid, net = start_passt_by_hand(args.passt, tmpdir, form["hand"])
    cmd = guest_cmd(args.qemu, args.kernel, initrd, qmp_path) + net
    env = dict(os.environ, TMPDIR=tmpdir)
    qemu = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    qmp = Qmp(qmp_path)
    info = qmp.hmp("info network")
    pids = passt_pids(info)
    if form["passt"]:
        tap.result(len(pids) == 1 and alive(pids[0]) and
                   form["info"] in info,
                   "%s: passt running, pid shown in info network" % name,
                   info.strip().replace("\r\n", " | "))

    reports = {}
    log = []
    timer = threading.Timer(BOOT_TIMEOUT, qemu.kill)
    timer.start()
    sink_before = len(Sink.digests)
    for line in serial_lines(qemu, log, reports):
        if line.startswith("ASK "):
            reply = answer(tap, name, line[4:], form, qmp, pids, sink_before)
            qemu.stdin.write((reply + "\n").encode())
            qemu.stdin.flush()
        elif line.startswith("GUEST-DONE"):
            break
    qemu.wait()
    timer.cancel()
    with open(os.path.join(workdir, "%s.serial.log" % name), "w") as f:
        f.write("\n".join(log) + "\n")

    check_reports(tap, name, form, reports, blob_md5)
    warnings = [l for l in log if "qemu-system" in l and "warning" in l]
    tap.result(not warnings, "%s: QEMU printed no warning" % name,
               " | ".join(warnings))
    last = passt_pids(info) + form.get("new_pids", [])
    tap.result(wait_for(lambda: not any(alive(p) for p in last), 5) and
               not any(n.startswith("qemu-passt.") for n in os.listdir(tmpdir)),
               "%s: QEMU gone, no passt, PID file or directory left" % name)
    if hand_pid:
        os.kill(hand_pid, signal.SIGTERM)
    shutil.rmtree(tmpdir, ignore_errors=True)


def answer(tap, name, question, form, qmp, pids, sink_before):
    if question == "inbound":
        try:
            with socket.create_connection(("127.0.0.1", FWD_TCP), 10) as s:
                s.settimeout(10)
                got = s.recv(100).decode().strip()
        except OSError as e:
            got = str(e)
        tap.result(got == "hello-from-guest",
                   "%s: inbound TCP through the forwarded port" % name, got)
        r = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(FWD_IPERF),
                            "-u", "-t", "1", "-b", "5M", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        try:
            packets = json.loads(r.stdout)["end"]["sum"]["packets"]
            lost = json.loads(r.stdout)["end"]["sum"]["lost_packets"]
        except (ValueError, KeyError):
            packets, lost = 0, 0
        tap.result(r.returncode == 0 and packets > 0 and lost < packets,
                   "%s: inbound UDP through the forwarded port" % name,
                   "%d datagrams, %d lost" % (packets, lost))
    elif question == "upload-done":
        wait_for(lambda: len(Sink.digests) > sink_before, 10)
        form["upload_md5"] = Sink.digests[-1] if len(Sink.digests) > sink_before else ""
    elif question == "kill-passt":
        old = pids[0]
        os.kill(old, signal.SIGKILL)
        new = []

        def restarted():
            new[:] = passt_pids(qmp.hmp("info network"))
            return new and new[0] != old and alive(new[0])
        ok = wait_for(restarted, 15)
        form["new_pids"] = list(new)
        tap.result(ok, "%s: passt killed, restarted with a new pid" % name,
                   "%d -> %s" % (old, new))
    return "go"


def check_reports(tap, name, form, r, blob_md5):
    lease = dict(kv.split("=", 1) for kv in r.get("lease", "").split() if "=" in kv)
    want = form["lease"]
    tap.result(all(lease.get(k) == v for k, v in want.items()),
               "%s: DHCPv4 lease" % name, r.get("lease", "none"))
    tap.result(r.get("ipv6", "none").startswith("inet6 " + form["prefix6"]),
               "%s: IPv6 global address" % name, r.get("ipv6"))
    tap.result(r.get("tcp4") == "hello-from-host",
               "%s: TCP over IPv4 to a host service" % name, r.get("tcp4"))
    tap.result(r.get("tcp6") == "hello-from-host",
               "%s: TCP over IPv6 to a host service" % name, r.get("tcp6"))
    tap.result(r.get("udp") == DNS_ANSWER,
               "%s: UDP to a host service (DNS query)" % name, r.get("udp"))
    tap.result(r.get("dns") == DNS_ANSWER,
               "%s: DNS through the resolver of the lease" % name, r.get("dns"))
    tap.result(r.get("download") == blob_md5,
               "%s: %d MiB host to guest, checksums equal" % (name, BLOB_MIB),
               "%s vs %s, in %s s" % (r.get("download"), blob_md5,
                                      r.get("download-seconds")))
    tap.result(r.get("upload") and r.get("upload") == form.get("upload_md5"),
               "%s: %d MiB guest to host, checksums equal" % (name, BLOB_MIB),
               "%s vs %s" % (r.get("upload"), form.get("upload_md5")))
    if form["kill"]:
        if form["carrier"]:
            tap.result("0" in r.get("carrier-seen", "").split(),
                       "%s: guest saw carrier loss while passt restarted" % name,
                       r.get("carrier-seen"))
        tap.result(r.get("relaunch-tcp4") == "hello-from-host",
                   "%s: traffic flows again after the restart" % name,
                   r.get("relaunch-tcp4"))
        relaunch = dict(kv.split("=", 1) for kv in
                        r.get("relaunch-lease", "").split() if "=" in kv)
        tap.result(relaunch.get("ip") == want.get("ip"),
                   "%s: lease renewed after the restart" % name,
                   r.get("relaunch-lease", "none"))


def forms(passt):
    fwd = "tcp-ports=%d,tcp-ports=%d,udp-ports=%d" % (FWD_TCP, FWD_IPERF,
                                                        FWD_IPERF)
    common = "path=%s,dns=192.0.2.2,%s" % (passt, fwd)
    lease = {"ip": "192.0.2.1", "router": "192.0.2.2", "dns": "192.0.2.2"}
    p = {"passt": True, "kill": True, "host4": "192.0.2.2", "info": "stream,",
         "host6": "2001:db8::2", "lease": lease, "prefix6": "2001:db8::"}
    slirp_fwd = ",".join("hostfwd=%s:127.0.0.1:%d-:%d" % (proto, port, port)
                         for proto, port in (("tcp", FWD_TCP),
                                             ("tcp", FWD_IPERF),
                                             ("udp", FWD_IPERF)))
    return [
        dict(p, name="nic", carrier=True, net=["-nic", "passt," + common]),
        dict(p, name="netdev", carrier=True,
             net=["-netdev", "passt,id=n0," + common,
                  "-device", "virtio-net-pci,netdev=n0"]),
        dict(p, name="vhost-user", carrier=True, info="vhost-user,",
             net=["-object", "memory-backend-memfd,id=mem,size=512M,share=on",
                  "-machine", "memory-backend=mem",
                  "-netdev", "passt,id=n0,vhost-user=on," + common,
                  "-device", "virtio-net-pci,netdev=n0"]),
        dict(p, name="hub", carrier=False,
             net=["-net", "nic", "-net", "passt," + common]),
        dict(p, name="stream", passt=False, kill=False, carrier=False,
             hand=["--dns", "192.0.2.2", "-t", "%d,%d" % (FWD_TCP, FWD_IPERF),
                   "-u", str(FWD_IPERF)]),
        {"name": "user", "passt": False, "kill": False, "carrier": False,
         "host4": "10.0.2.2", "host6": "fec0::2", "prefix6": "fec0::",
         "lease": {"ip": "10.0.2.15", "router": "10.0.2.2", "dns": "10.0.2.3"},
         "net": ["-nic", "user," + slirp_fwd]},
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--passt", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--only", default="nic,netdev,vhost-user,hub,user",
                    help="comma-separated form names (default: %(default)s;"
                    " 'stream' runs a hand-started passt on -netdev stream)")
    args = ap.parse_args()
    args.workdir = os.path.abspath(args.workdir)

    os.makedirs(args.workdir, exist_ok=True)
    www = serve_www(args.workdir)
    blob_md5 = make_blob(os.path.join(www, "blob"))
    iperf = subprocess.Popen(["iperf3", "-s", "-B", "127.0.0.1", "-p", "5201"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tap = Tap()
    try:
        for form in forms(args.passt):
            if form["name"] not in args.only.split(","):
                continue
            run_form(tap, args, form, args.workdir, blob_md5)
    finally:
        iperf.terminate()
        iperf.wait()
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
