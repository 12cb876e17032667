#!/usr/bin/python3
"""Migrate a guest on -netdev passt,vhost-user=on between two simulated
hosts, and check its network on the destination.  Prints TAP.

Three network namespaces, made inside the private one of
scripts/netns-run.sh, stand for the machines:

  NET  the network: a bridge, br0, with 192.0.2.2/24 and 2001:db8::2/64,
       and the peer the guest talks to (an echo server, an HTTP server,
       a resolver), in a helper process of this script;
  A    the source host: lo, and a veth whose other end is a port of br0,
       with 192.0.2.1/24 and 2001:db8::1/64, default routes via NET;
  B    the destination host: the same, with the SAME addresses.

Each host has its own port space, so each QEMU's passt forwards the same
ports (tcp-ports=, udp-ports=) and gives the guest the same address,
192.0.2.1, the host's own.  Both hosts having that address is also what
passt-repair needs: the TCP sockets passt migrates are restored on the
destination with the local address they had on the source.

Two hosts with one address cannot both be reachable: what a network or
an orchestrator does in real life when a guest moves is to move that
address.  Here B ignores ARP requests for 192.0.2.1 (arp_ignore=8) until
the switchover; once query-migrate says "completed", and before the
guest is told to go on, the harness unplugs A (its port of br0 down),
lets B answer, and flushes the neighbour cache of NET.  (IPv6 is left
alone: nothing here talks IPv6 between the namespaces.  B's bridge port
is not kept down instead: passt on a host whose link has no carrier
leaves IPv6 out of its configuration.)

The guest opens a TCP connection to the peer's echo server before the
migration.  With passt-repair (run for each passt, in its own host's
namespace), the connection carries data both ways after the migration:
the peer sends a line of its own to the guest, and the guest's next line
comes back.  Without passt-repair, the migration still completes and the
guest keeps its address and makes new connections, but the old
connection is not migrated: it must end, by a reset, within 20 seconds
rather than hang.  In both cases a connection from the network to
192.0.2.1 on the forwarded port reaches the guest, through A's passt
before the migration and B's after it.

Must run inside the private network and mount namespaces of
scripts/netns-run.sh: the named namespaces made here ("ip netns add")
are bind mounts on a tmpfs mounted on /run/netns in that mount namespace
only; they are deleted at the end, and go with the namespace anyway.
"""

import argparse
import os
import queue
import re
import shutil
import socket
import socketserver
import subprocess
import sys
import threading

# guestlib.py lives with the test guest, in guest/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "guest"))
from guestlib import (BOOT_TIMEOUT, FWD_TCP, HTTP_PORT,  # noqa: E402
                      KEPT_AFTER_MIGRATION, Qmp, Tap, DualStackTCPServer,
                      alive, check_reports, guest_cmd, leased,
                      leaves_nothing, make_initrd, passt_pids, scratch_dir,
                      serial_lines, serve_www, migrate_checked, start_qemu,
                      stop_started)

ECHO_PORT = 9002
PEER_TIMEOUT = 30           # seconds for one answer of the peer helper
OLD_CONN_LIMIT = 20         # seconds the old connection may take to fail
HOST_IF = "eth1"            # each host's veth, in its own namespace
PUSHED = "pushed-by-peer"   # what the peer sends on its own

GUEST_SCRIPT = r"""
report() { echo "REPORT $*"; }
ask() { echo "ASK $*"; read reply; }
echoed() {    # wait up to 10 s for $1 to come from the peer
    i=0
    while ! grep -q "$1" /tmp/from && [ $i -lt 100 ]; do
        usleep 100000
        i=$((i + 1))
    done
}
estab_resets() {    # connections ended by a reset, so far
    awk '/^Tcp:/ && !c {
             for (i = 1; i <= NF; i++) if ($i == "EstabResets") c = i; next }
         /^Tcp:/ { print $c }' /proc/net/snmp
}
resets_since() { echo resets $(($(estab_resets) - $1)); }
# a write to the pipe of an nc that is gone must fail, not end this shell
trap '' PIPE
udhcpc -i eth0 -n -q -t 10 -T 2 -s /etc/udhcpc/default.script >/dev/null 2>&1
report lease $(cat /tmp/lease 2>/dev/null)

# one connection to the peer, kept open across the migration
mkfifo /tmp/to
nc 192.0.2.2 @ECHO@ < /tmp/to > /tmp/from 2>/tmp/nc.err &
ncpid=$!
exec 3>/tmp/to
echo before-migration >&3
echoed before-migration
report echo-before $(cat /tmp/from)

printf '#!/bin/sh\necho hello-from-guest\nsleep 1\n' > /tmp/hello.sh
chmod +x /tmp/hello.sh
nc -ll -p @FWD@ -e /tmp/hello.sh &
usleep 300000
ask inbound-before

ask migrate

if [ @REPAIR@ = yes ]; then
    # the peer sent this on its own, after the switchover
    echoed @PUSHED@
    report pushed-after $(grep @PUSHED@ /tmp/from)
fi
resets=$(estab_resets)
if ! kill -0 $ncpid 2>/dev/null; then
    report old-connection ended before the write, $(resets_since $resets)
elif [ @REPAIR@ = yes ]; then
    echo after-migration >&3
    echoed after-migration
    report echo-after $(grep after-migration /tmp/from)
else
    # not migrated: the write must end the connection, in bounded time
    echo after-migration >&3
    i=0
    while kill -0 $ncpid 2>/dev/null && [ $i -lt @LIMIT@0 ]; do
        usleep 100000
        i=$((i + 1))
    done
    if kill -0 $ncpid 2>/dev/null; then
        report old-connection still open after $((i / 10)) s, \
            $(resets_since $resets), $(netstat -tn | grep ':@ECHO@ ')
    else
        wait $ncpid
        st=$?
        report old-connection ended after $((i / 10)).$((i % 10)) s, \
            nc status $st, $(resets_since $resets) $(cat /tmp/nc.err)
    fi
fi
report address-after $(ip -4 addr show dev eth0 | grep -o 'inet [0-9.]*')
report tcp4-after $(timeout 30 wget -q -O - http://192.0.2.2:@HTTP@/hello.txt)
ask inbound-after
exec 3>&-
kill $ncpid 2>/dev/null
"""


# --- the peer, in NET -----------------------------------------------------

class Echo(socketserver.StreamRequestHandler):
    """Sends every line back; keeps its connections for "push"."""
    conns = []
    lock = threading.Lock()

    def handle(self):
        self.end = "open"
        self.wlock = threading.Lock()
        with Echo.lock:
            Echo.conns.append(self)
        try:
            for line in self.rfile:
                with self.wlock:
                    self.wfile.write(line)
                    self.wfile.flush()
            self.end = "closed by the other end"
        except ConnectionResetError:
            self.end = "reset by the other end"
        except OSError as e:
            self.end = str(e)

    def push(self, text):
        try:
            with self.wlock:
                self.request.sendall(text.encode() + b"\n")
            return True
        except OSError:
            return False


def peer_main(workdir):
    """The peer's services, and commands on stdin, one answer line each:
       push TEXT           send TEXT to every open echo connection
       connect ADDR PORT   connect, send a line, say what came back
       status              how each echo connection is, or ended"""
    serve_www(workdir)
    echo = DualStackTCPServer(("::", ECHO_PORT), Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    print("ready", flush=True)
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "push":
            with Echo.lock:
                n = sum(c.push(arg) for c in Echo.conns if c.end == "open")
            out = "pushed to %d" % n
        elif cmd == "connect":
            addr, port = arg.split()
            try:
                with socket.create_connection((addr, int(port)), 10) as s:
                    s.settimeout(10)
                    s.sendall(b"hi\n")
                    out = s.recv(100).decode().strip()
            except OSError as e:
                out = str(e)
        elif cmd == "status":
            with Echo.lock:
                out = "; ".join("%s:%d %s" % (c.client_address[0].replace(
                    "::ffff:", ""), c.client_address[1], c.end)
                    for c in Echo.conns) or "no connection"
        else:
            out = "unknown command"
        print(out, flush=True)
    return 0


class Peer:
    """The helper process in NET, and its answers."""

    def __init__(self, netns, workdir):
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", netns, sys.executable,
             os.path.abspath(__file__), "--peer", "--workdir", workdir],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            start_new_session=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self._answer(PEER_TIMEOUT) == "ready"

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def _answer(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def ask(self, line, timeout=PEER_TIMEOUT):
        if self.p.poll() is not None:
            return "peer helper gone"
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        a = self._answer(timeout)
        return "no answer from the peer helper" if a is None else a

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


# --- the hosts -------------------------------------------------------------

def sh(*cmd):
    subprocess.run(cmd, check=True, timeout=30)


def make_hosts(names):
    """NET with br0, and hosts A and B on it with the same addresses."""
    net, a, b = names
    # the names, on a tmpfs of this mount namespace only: none is left
    # behind in the host's /run/netns even if this process is killed
    os.makedirs("/run/netns", exist_ok=True)
    sh("mount", "-t", "tmpfs", "-o", "size=1m,mode=755", "netns", "/run/netns")
    for ns in names:
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", net, "link", "add", "br0", "type", "bridge",
       "stp_state", "0", "forward_delay", "0")
    sh("ip", "-n", net, "addr", "add", "192.0.2.2/24", "dev", "br0")
    sh("ip", "-n", net, "-6", "addr", "add", "2001:db8::2/64", "dev", "br0",
       "nodad")
    sh("ip", "-n", net, "link", "set", "br0", "up")
    for host, port in ((a, "portA"), (b, "portB")):
        sh("ip", "link", "add", HOST_IF, "netns", host, "type", "veth",
           "peer", "name", port, "netns", net)
        sh("ip", "-n", net, "link", "set", port, "master", "br0")
        sh("ip", "-n", net, "link", "set", port, "up")
        if host == b:
            # B stays silent for the address until the switchover
            set_arp_ignore(b, 8)
        sh("ip", "-n", host, "addr", "add", "192.0.2.1/24", "dev", HOST_IF)
        sh("ip", "-n", host, "-6", "addr", "add", "2001:db8::1/64", "dev",
           HOST_IF, "nodad")
        sh("ip", "-n", host, "link", "set", HOST_IF, "up")
        sh("ip", "-n", host, "route", "add", "default", "via", "192.0.2.2")
        sh("ip", "-n", host, "-6", "route", "add", "default", "via",
           "2001:db8::2")


def set_arp_ignore(host, value):
    sh("ip", "netns", "exec", host, "sysctl", "-q",
       "net.ipv4.conf.%s.arp_ignore=%d" % (HOST_IF, value))


def switch_over(names):
    """Move 192.0.2.1 from A to B, as the network would."""
    net, a, b = names
    sh("ip", "-n", net, "link", "set", "portA", "down")
    set_arp_ignore(b, 0)
    sh("ip", "-n", net, "neigh", "flush", "dev", "br0")


def echo_sockets(host):
    """The host's TCP sockets connected to the peer's echo server."""
    r = subprocess.run(["ip", "netns", "exec", host, "ss", "-Htn", "state",
                        "established", "dport", "=", ":%d" % ECHO_PORT],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=30)
    return " ".join(r.stdout.split()) or "none"


def bound(host):
    """Whether something in the host listens on the forwarded ports."""
    r = subprocess.run(["ip", "netns", "exec", host, "ss", "-Hltun",
                        "sport", "=", ":%d" % FWD_TCP],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=30)
    return {line.split()[0] for line in r.stdout.splitlines()} >= {"tcp",
                                                                   "udp"}


def delete_hosts(names):
    for ns in names:
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL,
                       timeout=30)


# --- QEMU ------------------------------------------------------------------

def qemu_cmd(args, tmpdir, name, host, initrd, extra):
    netdev = ("passt,id=n0,vhost-user=on,path=%s,dns=192.0.2.2,"
              "tcp-ports=%d,udp-ports=%d,param=--no-map-gw"
              % (args.passt, FWD_TCP, FWD_TCP))
    if args.repair:
        netdev += ",param=--repair-path=%s" % os.path.join(tmpdir,
                                                           name + ".repair")
    qmp = os.path.join(tmpdir, name + ".qmp")
    return ["ip", "netns", "exec", host] + guest_cmd(
        args.qemu, args.kernel, initrd, qmp) + [
        "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
        "-machine", "memory-backend=mem",
        "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0"] + extra


def questions(qemu, log, reports):
    """The guest's ASK lines, in order."""
    for line in serial_lines(qemu, log, reports):
        if line.startswith("ASK "):
            yield line[4:].strip()


def answer(qemu):
    qemu.stdin.write(b"go\n")
    qemu.stdin.flush()


def run(tap, args, tmpdir, names, peer):
    net, a, b = names
    initrd = os.path.join(tmpdir, "initrd.gz")
    script = GUEST_SCRIPT
    for k, v in {"ECHO": ECHO_PORT, "HTTP": HTTP_PORT, "FWD": FWD_TCP,
                 "PUSHED": PUSHED, "LIMIT": OLD_CONN_LIMIT,
                 "REPAIR": "yes" if args.repair else "no"}.items():
        script = script.replace("@%s@" % k, str(v))
    make_initrd(args.initrd, script, initrd)
    mig = "unix:" + os.path.join(tmpdir, "migration.sock")
    src = start_qemu(qemu_cmd(args, tmpdir, "src", a, initrd, []), tmpdir)
    dst = None
    helpers = []
    timers = [threading.Timer(BOOT_TIMEOUT, src.kill)]
    timers[0].start()
    log, reports, got = [], {}, {}
    src_pids, dst_pids = [], []
    try:
        qsrc = Qmp(os.path.join(tmpdir, "src.qmp"), src)
        src_pids = passt_pids(qsrc.hmp("info network"))
        asked = questions(src, log, reports)
        if next(asked, None) != "inbound-before":
            tap.result(False, "guest booted on the source",
                       "\n".join(log[-5:]))
            return
        got["sockets-before"] = echo_sockets(a)
        got["inbound-before"] = peer.ask("connect 192.0.2.1 %d" % FWD_TCP)
        answer(src)
        if next(asked, None) != "migrate":
            tap.result(False, "guest ready to migrate", "\n".join(log[-5:]))
            return
        dst = start_qemu(qemu_cmd(args, tmpdir, "dst", b, initrd,
                                  ["-incoming", mig]), tmpdir)
        timers.append(threading.Timer(BOOT_TIMEOUT, dst.kill))
        timers[-1].start()
        qdst = Qmp(os.path.join(tmpdir, "dst.qmp"), dst)
        dst_pids = passt_pids(qdst.hmp("info network"))
        tap.result(len(src_pids) == 1 and len(dst_pids) == 1 and
                   alive(src_pids[0]) and alive(dst_pids[0]) and
                   bound(a) and bound(b),
                   "a passt on each host, bound to the same forwarded "
                   "ports (TCP and UDP %d)" % FWD_TCP,
                   "passt in A: %s, in B: %s" % (src_pids, dst_pids))
        if args.repair:
            for name, host in (("src", a), ("dst", b)):
                helpers.append(subprocess.Popen(
                    ["ip", "netns", "exec", host, args.passt_repair,
                     os.path.join(tmpdir, name + ".repair")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    start_new_session=True))

        status = migrate_checked(tap, qsrc, qdst, mig, dst_pids)
        # without a migrated guest there is nothing to wait for: the checks
        # of the destination's reports below fail
        if status == "completed":
            switch_over(names)
            got["sockets"] = echo_sockets(b)
            got["push"] = peer.ask("push " + PUSHED)
            answer(dst)
            asked = questions(dst, log, reports)
            if next(asked, None) == "inbound-after":
                got["status"] = peer.ask("status")
                got["inbound-after"] = peer.ask("connect 192.0.2.1 %d"
                                                % FWD_TCP)
                answer(dst)
            for _ in asked:
                answer(dst)
            dst.wait()
        qsrc.cmd("quit")
        src.wait()
    finally:
        stop_started(timers, [src, dst] + helpers)
        with open(os.path.join(args.workdir, "migrate-hosts.serial.log"),
                  "w") as f:
            f.write("\n".join(log) + "\n")

    check_reports(tap, reports, [
        ("lease", leased, "lease on the source (host A)"),
        ("echo-before", "before-migration",
         "TCP connection to the peer open before the migration")])
    tap.result(got.get("inbound-before") == "hello-from-guest",
               "inbound TCP through A's forwarded port, before",
               got.get("inbound-before"))
    old = reports.get("old-connection", "")
    if args.repair:
        before = got.get("sockets-before", "none").split()[-2:]
        tap.result(len(before) == 2 and
                   got.get("sockets", "").split()[-2:] == before,
                   "destination: the socket of the old connection is "
                   "restored in host B", "A before: %s; B after: %s"
                   % (got.get("sockets-before"), got.get("sockets")))
        # with the peer's account of the push, for when it did not arrive
        tap.result(reports.get("pushed-after") == PUSHED,
                   "destination: the old connection carries data from the "
                   "peer (passt-repair)", "%s; peer: %s" % (
                       reports.get("pushed-after"), got.get("push")))
        check_reports(tap, reports, [
            ("echo-after", "after-migration", "destination: the old "
             "connection carries data from the guest and back "
             "(passt-repair)")])
    else:
        tap.result(old.startswith("ended ") and
                   re.search(r"resets [1-9]", old),
                   "destination: the old connection, not migrated without "
                   "passt-repair, ends by a reset within %d s"
                   % OLD_CONN_LIMIT,
                   "%s; peer: %s, then %s" % (old or "no report",
                                              got.get("push"),
                                              got.get("status")))
    check_reports(tap, reports, KEPT_AFTER_MIGRATION)
    tap.result(got.get("inbound-after") == "hello-from-guest",
               "destination: inbound TCP through B's forwarded port",
               got.get("inbound-after"))
    gone = src_pids + dst_pids
    tap.result(bool(gone) and leaves_nothing(gone, tmpdir),
               "both QEMUs gone: both passts gone, no directory left",
               "passts %s" % gone)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--peer", action="store_true",
                    help=argparse.SUPPRESS)     # the helper in NET
    for opt in ("qemu", "kernel", "initrd", "passt"):
        ap.add_argument("--" + opt)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--passt-repair",
                    help="run this passt-repair for both passt instances")
    args = ap.parse_args()
    args.workdir = os.path.abspath(args.workdir)
    if args.peer:
        return peer_main(args.workdir)
    for opt in ("qemu", "kernel", "initrd", "passt"):
        if not getattr(args, opt):
            ap.error("--%s is required" % opt)
    args.repair = bool(args.passt_repair)
    if os.environ.get("PASST_QEMU_NETNS") != "inside":
        ap.error("run this inside scripts/netns-run.sh: it mounts on "
                 "/run/netns and makes namespaces")

    os.makedirs(args.workdir, exist_ok=True)
    tap = Tap()
    tag = "mh%d" % os.getpid()
    names = (tag + "-net", tag + "-a", tag + "-b")
    tmpdir = scratch_dir("migrate-hosts-")
    peer = None
    try:
        with tap.exceptions_fail("the two-host migration test ran to its end"):
            make_hosts(names)
            peer = Peer(names[0], args.workdir)
            if not peer.ready:
                tap.result(False, "peer services started in the network")
            else:
                run(tap, args, tmpdir, names, peer)
    finally:
        if peer:
            peer.stop()
        delete_hosts(names)
        shutil.rmtree(tmpdir, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
