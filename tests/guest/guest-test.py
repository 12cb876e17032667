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
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

# guestlib.py lives with the test guest, in guest/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "guest"))
from guestlib import (BLOB_MIB, BOOT_TIMEOUT, DNS_ANSWER, FWD_IPERF, FWD_TCP,  # noqa: E402
                      FWD_ECHO, FWD_UDP,
                      HTTP_PORT, SINK_PORT, VHOST_USER_MEM, Qmp, Sink, Tap,
                      alive, guest_cmd, leaves_nothing, make_blob,
                      make_initrd, passt_pids, scratch_dir, serial_lines,
                      serve_www, start_passt_by_hand, wait_for)

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
nc -ll -p @FWD_TCP@ -e /tmp/hello.sh &
iperf3 -s -1 -D -p @FWD_IPERF@
usleep 300000
ask inbound

if [ "@HOSTFWD@" = yes ]; then
    # an echo server, and iperf3 for UDP, on ports no forward reaches yet
    nc -ll -p @FWD_ECHO@ -e /bin/cat &
    iperf3 -s -D -p @FWD_UDP@
    usleep 300000
    ask hostfwd
fi

# generous: an e1000e on a hub took a minute before patch 1 (README)
t0=$(date +%s)
timeout 180 wget -q -O /tmp/in http://$HOST4:@HTTP@/blob
report download $(md5sum /tmp/in | cut -d' ' -f1)
report download-seconds $(($(date +%s) - t0))
report download-bytes $(wc -c < /tmp/in)
report rx-frames $(cat /sys/class/net/eth0/statistics/rx_bytes) $(cat /sys/class/net/eth0/statistics/rx_packets)
rm -f /tmp/in
timeout 180 wget -q -O /tmp/in "http://[$HOST6]:@HTTP@/blob"
report download6 $(md5sum /tmp/in | cut -d' ' -f1)
rm -f /tmp/in

dd if=/dev/urandom of=/tmp/out bs=1M count=@MIB@ 2>/dev/null
report upload $(md5sum /tmp/out | cut -d' ' -f1)
nc $HOST4 @SINK@ < /tmp/out
ask upload-done
# over IPv6 too: the backend segments TCPv6 apart from TCPv4
head -c 8388608 /tmp/out > /tmp/out6
rm -f /tmp/out
report upload6 $(md5sum /tmp/out6 | cut -d' ' -f1)
nc $HOST6 @SINK@ < /tmp/out6
rm -f /tmp/out6
ask upload6-done
# negotiated virtio-net features, bit 0 first (none on an e1000e)
report features $(cat /sys/bus/virtio/devices/*/features 2>/dev/null)

if [ "@OVERSIZE@" = yes ]; then
    # one frame of 65549 bytes, which passt would hang up on
    ip link set eth0 mtu 65535
    ping -c 1 -W 2 -s 65507 $HOST4 >/dev/null 2>&1
    ip link set eth0 mtu 1500
    ask oversize
    report after-oversize $(timeout 30 wget -q -O - http://$HOST4:@HTTP@/hello.txt)
fi

if [ "@KILL@" = yes ]; then
    # record the carrier while passt is killed and restarted
    (while [ ! -f /tmp/stop ]; do cat /sys/class/net/eth0/carrier; usleep 20000; done) > /tmp/carrier 2>&1 &
    monitor=$!
    # keep the guest sending, without flow control, so that passt dies
    # with QEMU's writes to it blocked
    iperf3 -c $HOST4 -u -b 2G -l 1400 -t 30 >/dev/null 2>&1 &
    upload=$!
    usleep 500000
    ask kill-passt
    kill $upload 2>/dev/null
    i=0
    while [ "$(cat /sys/class/net/eth0/carrier)" != 1 ] && [ $i -lt 100 ]; do
        usleep 100000
        i=$((i + 1))
    done
    touch /tmp/stop
    wait $monitor $upload
    report carrier-seen $(sort -u /tmp/carrier | tr '\n' ' ')
    udhcpc -i eth0 -n -q -t 10 -T 2 -s /etc/udhcpc/default.script >/dev/null 2>&1
    report relaunch-lease $(cat /tmp/lease 2>/dev/null)
    report relaunch-tcp4 $(timeout 30 wget -q -O - http://$HOST4:@HTTP@/hello.txt)
    [ "@HOSTFWD@" = yes ] && ask hostfwd-after-restart
fi
if [ "@RESET@" = yes ]; then
    # last: reset the device, and start it again, while its vhost-user
    # back-end is gone.  QEMU must live through it; the device need not
    # come back (a guest's control queue waits for it), so nothing here
    # uses the network afterwards.
    ask backend-away
    dev=$(basename $(readlink /sys/class/net/eth0/device))
    echo $dev > /sys/bus/virtio/drivers/virtio_net/unbind
    echo $dev > /sys/bus/virtio/drivers/virtio_net/bind
    ask backend-back
fi
"""


def guest_script(form):
    s = GUEST_SCRIPT
    for k, v in {"HOST4": form["host4"], "HOST6": form["host6"],
                 "PREFIX6": form["prefix6"], "HTTP": HTTP_PORT,
                 "SINK": SINK_PORT, "FWD_TCP": FWD_TCP,
                 "FWD_IPERF": FWD_IPERF, "MIB": BLOB_MIB,
                 "KILL": "yes" if form["kill"] else "no",
                 "OVERSIZE": "yes" if form.get("oversize") else "no",
                 "RESET": "yes" if form.get("reset") else "no",
                 "HOSTFWD": "yes" if form.get("hostfwd") else "no",
                 "FWD_ECHO": FWD_ECHO, "FWD_UDP": FWD_UDP}.items():
        s = s.replace("@%s@" % k, str(v))
    return s


def run_form(tap, args, form, workdir, blob_md5):
    """One boot of the guest; every check of the form is one TAP line."""
    name = form["name"]
    tmpdir = scratch_dir("guest-")
    initrd = os.path.join(tmpdir, "initrd.gz")
    make_initrd(args.initrd, guest_script(form), initrd)
    qmp_path = os.path.join(tmpdir, "qmp.sock")
    net = [a.replace("@TMPDIR@", tmpdir) for a in form.get("net", [])]
    form["qemu_log"] = os.path.join(tmpdir, "qemu.log")
    if form.get("capture"):
        # passt started by root writes as "nobody"
        os.mkdir(os.path.join(tmpdir, "cap"))
        os.chmod(os.path.join(tmpdir, "cap"), 0o777)
    hand_pid = None
    if form.get("hand") is not None:
        hand_pid, net = start_passt_by_hand(args.passt, tmpdir, form["hand"],
                                            form.get("vhost_user", False))
        form["hand_pids"] = [hand_pid]
    if form.get("own_passt"):
        # a copy the test can make fail to start, to keep passt away, in a
        # folder anybody may search (passt runs as nobody)
        os.mkdir(os.path.join(tmpdir, "bin"), 0o755)
        form["own_passt"] = os.path.join(tmpdir, "bin", "passt")
        shutil.copy(args.passt, form["own_passt"])
        if os.path.exists(args.passt + ".avx2"):
            # passt runs this build instead of itself where the CPU can
            shutil.copy(args.passt + ".avx2", form["own_passt"] + ".avx2")
    cmd = guest_cmd(args.qemu, args.kernel, initrd, qmp_path) + net
    env = dict(os.environ, TMPDIR=tmpdir)
    qemu = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    qmp = Qmp(qmp_path, qemu)
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
    if form.get("capture"):
        # passt does not verify the checksums of the guest's frames, so
        # intact transfers prove nothing about them: read its capture
        tcp, problems = check_capture(os.path.join(tmpdir, "cap", "passt.pcap"),
                                      bytes.fromhex("525400123456"))
        tap.result(tcp > 10000 and not problems,
                   "%s: every frame passt got from the guest fits the MTU "
                   "and has correct checksums" % name, "%d TCP frames; %d with %s" %
                   (tcp, len(problems), ", ".join(sorted(set(problems)))))
    warnings = [l for l in log if "qemu-system" in l and "warning" in l and
                not (form.get("reset") and "cannot restart passt" in l)]
    tap.result(not warnings, "%s: QEMU printed no warning" % name,
               " | ".join(warnings))
    last = passt_pids(info) + form.get("new_pids", [])
    tap.result(leaves_nothing(last, tmpdir),
               "%s: QEMU gone, no passt, PID file or directory left" % name)
    for pid in form.get("hand_pids", []):
        if alive(pid):
            os.kill(pid, signal.SIGTERM)
    shutil.rmtree(tmpdir, ignore_errors=True)


def ones_sum_ok(data):
    """Does the ones'-complement sum of @data, checksum field included,
    come out as all ones?  (Byte order does not matter for this.)"""
    if len(data) % 2:
        data += b"\0"
    total = sum(memoryview(data).cast("H"))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return total == 0xffff


def check_frame(frame, mtu):
    """The IP protocol of one Ethernet frame of a capture (None if it
    carries no IP), and what is wrong with it (None if nothing)."""
    if len(frame) > 14 + mtu:
        return None, "a frame of %d bytes" % len(frame)
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype == 0x0800:
        ihl = (frame[14] & 0xf) * 4
        total, proto = struct.unpack("!H", frame[16:18])[0], frame[23]
        if not ones_sum_ok(frame[14:14 + ihl]):
            return proto, "a bad IPv4 header checksum"
        l4 = frame[14 + ihl:14 + total]
        pseudo = frame[26:34] + struct.pack("!BBH", 0, proto, len(l4))
    elif ethertype == 0x86dd:
        proto = frame[20]
        l4 = frame[54:54 + struct.unpack("!H", frame[18:20])[0]]
        pseudo = frame[22:54] + struct.pack("!IxxxB", len(l4), proto)
    else:
        return None, None
    if proto == 17 and l4[6:8] == b"\0\0" and ethertype == 0x0800:
        return proto, None      # no UDP checksum, which IPv4 allows
    if proto in (6, 17, 58) and not ones_sum_ok(pseudo + l4):
        return proto, "a bad checksum, IP protocol %d" % proto
    return proto, None


def check_capture(path, mac, mtu=1500):
    """TCP frames from the guest (source @mac) in passt's pcap file @path,
    and what is wrong in them."""
    tcp, problems = 0, []
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return 0, [str(e)]
    order = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(order + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if frame[6:12] != mac:
            continue
        proto, problem = check_frame(frame, mtu)
        if problem:
            problems.append(problem)
        elif proto == 6:
            tcp += 1
    return tcp, problems


OFFLOADS = {"VIRTIO_NET_F_CSUM", "VIRTIO_NET_F_GUEST_CSUM",
            "VIRTIO_NET_F_GUEST_TSO4", "VIRTIO_NET_F_GUEST_TSO6",
            "VIRTIO_NET_F_HOST_TSO4", "VIRTIO_NET_F_HOST_TSO6"}


def vhost_offloads(qmp):
    """The offloads the guest negotiated, and those the vhost-user
    back-end (passt) offers, of the virtio-net device "nic0"."""
    r = qmp.cmd("x-query-virtio-status",
                path="/machine/peripheral/nic0/virtio-backend").get("return")
    if not r or "vhost-dev" not in r:
        return None, None

    def names(features):
        return {f.split(":")[0] for f in features.get("dev-features", [])}
    return (names(r["guest-features"]) & OFFLOADS,
            names(r["vhost-dev"]["features"]) & OFFLOADS)


def inbound_tcp(first):
    """What the guest's server says through the forwarded port, after
    @first from the host."""
    try:
        with socket.create_connection(("127.0.0.1", FWD_TCP), 10) as s:
            s.settimeout(10)
            s.sendall(first)
            return s.recv(100).decode().strip()
    except OSError as e:
        return str(e)


# host ports the hostfwd form forwards while the guest runs
HOSTFWD_TCP = 10011
HOSTFWD_UDP = 10012
ECHO_BYTES = 1 << 20


def echo_through(port):
    """Send ECHO_BYTES of random data to the guest's echo server through
    host port @port: (md5 sent, md5 received), or the error as both."""
    data = os.urandom(ECHO_BYTES)
    got = bytearray()
    try:
        with socket.create_connection(("127.0.0.1", port), 10) as s:
            s.settimeout(30)
            sender = threading.Thread(target=s.sendall, args=(data,))
            sender.start()
            while len(got) < len(data):
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            sender.join(30)
    except OSError as e:
        return str(e), ""
    return hashlib.md5(data).hexdigest(), hashlib.md5(bytes(got)).hexdigest()


def udp_through(port):
    """How many datagrams of a one-second iperf3 UDP test reached the
    guest's iperf3 through host port @port: 0 where the test fails."""
    try:
        r = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port),
                            "-u", "-t", "1", "-b", "5M", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=20)
        end = json.loads(r.stdout)["end"]["sum"]
        return end["packets"] - end["lost_packets"] if r.returncode == 0 else 0
    except (subprocess.TimeoutExpired, ValueError, KeyError):
        return 0


def hostfwd_checks(tap, name, form, qmp):
    """Ports forwarded while the guest runs, through HMP: reachable once
    added, data both ways intact, unreachable once removed; UDP too."""
    tcp_rule = "tcp::%d-:%d" % (HOSTFWD_TCP, FWD_ECHO)
    sent, got = echo_through(HOSTFWD_TCP)
    tap.result(not got and "refused" in sent,
               "%s: host port %d unreachable before hostfwd_add" %
               (name, HOSTFWD_TCP), sent)
    said = qmp.hmp("hostfwd_add n0 " + tcp_rule)
    sent, got = echo_through(HOSTFWD_TCP)
    tap.result(said == "" and got == sent,
               "%s: hostfwd_add makes it reachable, 1 MiB both ways, "
               "checksums equal" % name, "%r; %s vs %s" % (said, sent, got))

    # iperf3 needs TCP for its control connection, and UDP for the data
    udp_rules = ["tcp::%d-:%d" % (HOSTFWD_UDP, FWD_UDP),
                 "udp::%d-:%d" % (HOSTFWD_UDP, FWD_UDP)]
    before = udp_through(HOSTFWD_UDP)
    said = "".join(qmp.hmp("hostfwd_add n0 " + r) for r in udp_rules)
    added = udp_through(HOSTFWD_UDP)
    said += qmp.hmp("hostfwd_remove n0 udp::%d" % HOSTFWD_UDP)
    removed = udp_through(HOSTFWD_UDP)
    said += qmp.hmp("hostfwd_remove n0 tcp::%d" % HOSTFWD_UDP)
    tap.result(before == 0 and added > 0 and removed == 0,
               "%s: UDP through a port forwarded at run time, and only "
               "while it was" % name,
               "%r; datagrams through before, while, after: %d, %d, %d" %
               (said, before, added, removed))

    said = qmp.hmp("hostfwd_remove n0 tcp::%d" % HOSTFWD_TCP)
    sent, got = echo_through(HOSTFWD_TCP)
    tap.result("removed" in said and not got and "refused" in sent,
               "%s: hostfwd_remove makes it unreachable again" % name,
               "%r; %s" % (said, sent))
    # for the restart to come
    said = qmp.hmp("hostfwd_add n0 " + tcp_rule)
    tap.result(said == "" and "tcp %d:%d" % (HOSTFWD_TCP, FWD_ECHO) in
               qmp.hmp("info passt"),
               "%s: info passt shows the forward added again" % name, said)


def backend_away(form, qmp, pids):
    """End the vhost-user back-end, and keep it away."""
    if form["passt"]:
        # the backend's restarts fail while its passt cannot be run
        pid = passt_pids(qmp.hmp("info network"))[0]
        form.setdefault("new_pids", []).append(pid)
        os.chmod(form["own_passt"], 0)
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: "restart failed" in qmp.hmp("info network"), 15)
    else:
        os.kill(form["hand_pids"][-1], signal.SIGKILL)
        time.sleep(1)


def backend_back(tap, name, form, qmp, pids):
    """QEMU must have lived through the reset; bring the back-end back."""
    status = qmp.cmd("query-status").get("return", {}).get("status")
    tap.result(status == "running",
               "%s: a device reset while the vhost-user back-end is away "
               "leaves QEMU running" % name, str(status))
    if form["passt"]:
        os.chmod(form["own_passt"], 0o755)


def answer(tap, name, question, form, qmp, pids, sink_before):
    if question == "inbound":
        if form.get("offload") == "backend":
            form["offloads"] = vhost_offloads(qmp)
        # the host speaks first, then the guest's server does
        got = inbound_tcp(b"hi\n")
        tap.result(got == "hello-from-guest",
                   "%s: inbound TCP through the forwarded port" % name, got)
        if form.get("server_first", True):
            got = inbound_tcp(b"")
            tap.result(got == "hello-from-guest",
                       "%s: inbound TCP, the guest's server speaking first"
                       % name, got)
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
    elif question in ("upload-done", "upload6-done"):
        want = sink_before + (1 if question == "upload-done" else 2)
        wait_for(lambda: len(Sink.digests) >= want, 10)
        form[question] = Sink.digests[want - 1] if len(Sink.digests) >= want else ""
    elif question == "oversize":
        log = form["qemu_log"]
        with open(log, errors="replace") as f:
            said = [l.strip() for l in f if "dropped a frame of 65549" in l]
        tap.result(alive(pids[0]) and pids[0] in
                   passt_pids(qmp.hmp("info network")) and said,
                   "%s: a 65549-byte frame is dropped and counted, "
                   "passt keeps running" % name,
                   " | ".join(said) or "nothing in " + log)
    elif question == "hostfwd":
        hostfwd_checks(tap, name, form, qmp)
    elif question == "hostfwd-after-restart":
        sent, got = echo_through(HOSTFWD_TCP)
        tap.result(got == sent,
                   "%s: a forward added at run time works after passt's "
                   "restart" % name, "%s vs %s" % (sent, got))
    elif question == "backend-away":
        backend_away(form, qmp, pids)
    elif question == "backend-back":
        backend_back(tap, name, form, qmp, pids)
    elif question == "kill-passt":
        now = passt_pids(qmp.hmp("info network"))
        tap.result(now == pids,
                   "%s: passt ran the whole boot without a restart" % name,
                   "%s -> %s" % (pids, now))
        old = now[0] if now else pids[0]
        # passt stops reading while the guest sends: QEMU's writes block,
        # and the NIC's queue waits for a channel that is about to go
        try:
            os.kill(old, signal.SIGSTOP)
            time.sleep(2)
            os.kill(old, signal.SIGKILL)
        except ProcessLookupError:
            pass            # gone already: counted above
        new = []

        def restarted():
            new[:] = passt_pids(qmp.hmp("info network"))
            return new and new[0] != old and alive(new[0])
        ok = wait_for(restarted, 15)
        form.setdefault("new_pids", []).extend(new)
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
    if form.get("joined"):
        # vmxnet3 asks for large segments (LRO), as virtio-net does: the
        # backend joins passt's frames for it whatever the NIC's type
        try:
            rx_bytes, rx_packets = map(int, r.get("rx-frames", "").split())
            mean = rx_bytes / max(rx_packets, 1)
        except ValueError:
            mean = 0
        # (some headroom: the counters are not exactly the frames)
        tap.result(mean > 1600,
                   "%s: frames from passt reach the guest joined" % name,
                   "%.0f bytes a frame on average" % mean)
    if form.get("oversize"):
        tap.result(r.get("after-oversize") == "hello-from-host",
                   "%s: TCP works after the oversized frame" % name,
                   r.get("after-oversize"))
    tap.result(r.get("tcp6") == "hello-from-host",
               "%s: TCP over IPv6 to a host service" % name, r.get("tcp6"))
    tap.result(r.get("udp") == DNS_ANSWER,
               "%s: UDP to a host service (DNS query)" % name, r.get("udp"))
    tap.result(r.get("dns") == DNS_ANSWER,
               "%s: DNS through the resolver of the lease" % name, r.get("dns"))
    tap.result(r.get("download") == blob_md5,
               "%s: %d MiB host to guest, checksums equal" % (name, BLOB_MIB),
               "%s vs %s, %s bytes in %s s" % (r.get("download"), blob_md5,
                                               r.get("download-bytes"),
                                               r.get("download-seconds")))
    tap.result(r.get("download6") == blob_md5,
               "%s: %d MiB host to guest over IPv6, checksums equal" %
               (name, BLOB_MIB), "%s vs %s" % (r.get("download6"), blob_md5))
    tap.result(r.get("upload") and r.get("upload") == form.get("upload-done"),
               "%s: %d MiB guest to host, checksums equal" % (name, BLOB_MIB),
               "%s vs %s" % (r.get("upload"), form.get("upload-done")))
    tap.result(r.get("upload6") and r.get("upload6") == form.get("upload6-done"),
               "%s: 8 MiB guest to host over IPv6, checksums equal" % name,
               "%s vs %s" % (r.get("upload6"), form.get("upload6-done")))
    if form.get("offload") == "backend":
        # vhost-user: the guest gets what passt offers, whichever passt
        got, offered = form.get("offloads", (None, None))
        tap.result(offered is not None and got == offered,
                   "%s: the guest negotiated the offloads passt offers" % name,
                   "negotiated %s, offered %s" % (
                       ",".join(sorted(got or [])) or "none",
                       ",".join(sorted(offered or [])) or "none"))
    elif "offload" in form:
        # VIRTIO_NET_F_CSUM, _GUEST_CSUM and _HOST_TSO4 and 6 (bits 0, 1, 11, 12)
        bits = r.get("features", "")
        on = [len(bits) > b and bits[b] == "1" for b in (0, 1, 11, 12)]
        tap.result(len(bits) > 12 and
                   (all(on) if form["offload"] else not any(on)),
                   "%s: checksum and TSO offloads %s" %
                   (name, "negotiated" if form["offload"] else "not offered"),
                   bits)
    if form["kill"]:
        if form["carrier"]:
            tap.result("0" in r.get("carrier-seen", "").split(),
                       "%s: guest saw carrier loss while passt restarted" % name,
                       r.get("carrier-seen"))
        tap.result(r.get("relaunch-tcp4") == "hello-from-host",
                   "%s: traffic flows again after a restart that cut a "
                   "blocked write short" % name,
                   r.get("relaunch-tcp4"))
        relaunch = dict(kv.split("=", 1) for kv in
                        r.get("relaunch-lease", "").split() if "=" in kv)
        tap.result(relaunch.get("ip") == want.get("ip"),
                   "%s: lease renewed after the restart" % name,
                   r.get("relaunch-lease", "none"))


def forms(passt, extra=""):
    fwd = "tcp-ports=%d,tcp-ports=%d,udp-ports=%d" % (FWD_TCP, FWD_IPERF,
                                                        FWD_IPERF)
    common = "path=%s,dns=192.0.2.2,%s%s" % (passt, fwd, extra)
    lease = {"ip": "192.0.2.1", "router": "192.0.2.2", "dns": "192.0.2.2"}
    p = {"passt": True, "kill": True, "host4": "192.0.2.2", "info": "stream,",
         "host6": "2001:db8::2", "lease": lease, "prefix6": "2001:db8::"}
    hand_args = ["--dns", "192.0.2.2", "-t", "%d,%d" % (FWD_TCP, FWD_IPERF),
                 "-u", str(FWD_IPERF)]
    slirp_fwd = ",".join("hostfwd=%s:127.0.0.1:%d-:%d" % (proto, port, port)
                         for proto, port in (("tcp", FWD_TCP),
                                             ("tcp", FWD_IPERF),
                                             ("udp", FWD_IPERF)))
    return [
        # q35's default NIC, an e1000e, takes offloads from the backend too
        dict(p, name="nic", carrier=True, net=["-nic", "passt," + common]),
        # passt's capture is started anew with passt: no kill here
        dict(p, name="netdev", kill=False, offload=True, capture=True,
             oversize=True,
             net=["-netdev", "passt,id=n0,param=--pcap=@TMPDIR@/cap/passt.pcap," +
                  common, "-device", "virtio-net-pci,netdev=n0",
                  "-d", "guest_errors", "-D", "@TMPDIR@/qemu.log"]),
        dict(p, name="vhost-user", carrier=True, info="vhost-user,",
             offload="backend", reset=True, own_passt=True,
             net=VHOST_USER_MEM + [
                  "-netdev", "passt,id=n0,vhost-user=on," +
                  common.replace("path=" + passt, "path=@TMPDIR@/bin/passt"),
                  "-device", "virtio-net-pci,netdev=n0,id=nic0"]),
        # QEMU's own -netdev vhost-user, on a hand-started passt that the
        # test ends and starts again: its chardev reconnects
        dict(p, name="vhost-user-plain", passt=False, kill=False,
             carrier=False, reset=True, vhost_user=True, hand=hand_args),
        # forwards added and removed while the guest runs (a passt with a
        # control socket and pesto beside it)
        dict(p, name="hostfwd", carrier=True, hostfwd=True,
             net=["-netdev", "passt,id=n0," + common,
                  "-device", "virtio-net-pci,netdev=n0"]),
        # vmxnet3 takes a virtio-net header too, and asks for LRO
        dict(p, name="vmxnet3", kill=False, carrier=False, joined=True,
             net=["-netdev", "passt,id=n0," + common,
                  "-device", "vmxnet3,netdev=n0,romfile="]),
        dict(p, name="hub", carrier=False,
             net=["-net", "nic", "-net", "passt," + common]),
        dict(p, name="stream", passt=False, kill=False, carrier=False,
             offload=False, hand=hand_args),
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
    ap.add_argument("--no-server-first", action="store_true",
                    help="skip the inbound check where the guest speaks "
                    "first: passt 2023-03-09 (Debian 12) never sends the last "
                    "ACK of the handshake to the guest, so that waits until "
                    "the host sends something (see the README)")
    ap.add_argument("--passt-options", default="",
                    help="appended to the options of every passt netdev,"
                    " after a comma")
    args = ap.parse_args()
    args.workdir = os.path.abspath(args.workdir)
    if args.passt_options:
        args.passt_options = "," + args.passt_options

    os.makedirs(args.workdir, exist_ok=True)
    www = serve_www(args.workdir)
    blob_md5 = make_blob(os.path.join(www, "blob"))
    iperf = subprocess.Popen(["iperf3", "-s", "-B", "127.0.0.1", "-p", "5201"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tap = Tap()
    try:
        for form in forms(args.passt, args.passt_options):
            if args.no_server_first and form["passt"]:
                form["server_first"] = False
            if form["name"] not in args.only.split(","):
                continue
            with tap.exceptions_fail("%s: the checks ran to their end"
                                     % form["name"]):
                run_form(tap, args, form, args.workdir, blob_md5)
    finally:
        iperf.terminate()
        iperf.wait()
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
