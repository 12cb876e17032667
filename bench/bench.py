#!/usr/bin/python3
"""Benchmark the network backends of the test guest side by side, in one
run, on the same guest (virtio-net-pci, 512 MiB, one vCPU):

  user        -nic user,model=virtio-net-pci (libslirp, the control)
  passt       -netdev passt (QEMU starts passt; stream framing)
  stream      passt started by hand with --socket, on -netdev stream
  stream-plain  the same on QEMU 10.0.13 without the series (--qemu-plain):
              the stream path as it was, which the series' is measured
              against
  vhost-user  -netdev passt,vhost-user=on, guest RAM in a shared memfd
  vhost-user-rings
              vhost-user with 1024-entry RX and TX rings instead of 256
  passt-no-offload
              -netdev passt with the NIC's checksum offloads (and with
              them TSO) off: the guest's per-frame work of vhost-user mode
              with a passt that offers no offload, on the stream path
  newest, newest-vhost-user
              the same two on upstream passt's newest release
              (--passt-newest) instead of --passt
  upstream, upstream-vhost-user
              the same two on upstream QEMU's own -netdev passt (10.1 and
              later, --qemu-upstream) with --passt: the peer users would
              otherwise pick
  queue-10.2, queue-10.2-vhost-user
              the same two on upstream QEMU 10.2.2 with this project's
              second queue, patches-10.2/ (--qemu-queue-10.2)
  ceiling     no guest: iperf3 -c against iperf3 -s on the namespace's
              loopback, and the round trips against busybox nc -e
              /bin/cat on the host, all that the machine moves at all

Figures, per backend and boot:
  - TCP throughput guest->host and host->guest: iperf3 -t SECS in the
    guest against "iperf3 -s" on the host's loopback (bytes received and
    rate from iperf3's JSON, the whole run including slow start);
  - TCP request/response: the guest connects to a host server and echoes
    what it gets ("nc HOST4 PORT -e /bin/cat"); the host sends 64 bytes,
    waits for all 64 back, COUNT times on that one connection (after 50
    warm-up exchanges), and times each round trip on the host
    (perf_counter).  The figure is the median round trip;
  - CPU seconds (utime + stime from /proc/PID/stat) used by QEMU and by
    passt from just before to just after each iperf3 run, divided by the
    GiB that run moved (the guest's idle load is not subtracted);
  - how busy QEMU's vCPU thread was over each iperf3 run (its CPU time
    over the wall time, in %): near 100, the emulated guest is the limit;
  - time from starting QEMU to the guest's first DHCPv4 lease: udhcpc
    runs first thing in the guest's /test.sh, which prints a line on the
    serial console as soon as it has the lease; the host timestamps the
    line when it arrives.  Most of it is the boot, so the part from the
    guest's "GUEST-UP" (its NIC is up, udhcpc starts) is shown too.

Each run boots every backend once, in turn; a figure is the median over
the runs, with min-max.  A backend QEMU refuses (e.g. vhost-user in a
build without it) is "n/a" with QEMU's message, one whose QEMU or passt
was not built is "n/a" with the path; nothing here passes or fails.  Results go to OUTDIR: results.json, results.md, results.png
(gnuplot), serial logs in OUTDIR/logs; --publish copies the PNG to
bench/results.png.

Must run inside the private network namespace of scripts/netns-run.sh
(scripts/bench.sh does that): every server here listens on the
namespace's loopback, which passt maps to the guest as 192.0.2.2 and
slirp as 10.0.2.2.
"""

import argparse
import datetime
import json
import os
import platform
import pty
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "guest"))   # guestlib.py
from guestlib import (Qmp, alive, guest_cmd, make_initrd, passt_pids,  # noqa: E402
                      scratch_dir, start_passt_by_hand, wait_for)

IPERF_PORT = 5201
RR_PORT = 5202
RR_SIZE = 64
RR_WARMUP = 50
CLK_TCK = os.sysconf("SC_CLK_TCK")
GIB = float(1 << 30)

# --- the guest ---------------------------------------------------------------

GUEST_SCRIPT = r"""
HOST4=@HOST4@
ask() { echo "ASK $*"; read reply; }
udhcpc -i eth0 -n -q -t 10 -T 2 -s /etc/udhcpc/default.script >/dev/null 2>&1
echo "LEASE $(cat /tmp/lease 2>/dev/null)"
echo "REPORT kernel $(uname -r)"
if [ -s /tmp/lease ]; then
    for dir in up down; do
        flag=
        [ $dir = down ] && flag=-R
        ask start $dir
        timeout @IPERF_TIMEOUT@ iperf3 -c $HOST4 -p @IPERF_PORT@ -t @SECS@ $flag --json > /tmp/j 2>&1
        ask stop $dir
        echo "JSON-BEGIN $dir"
        cat /tmp/j
        echo "JSON-END $dir"
        rm -f /tmp/j
    done
    ask rr
    timeout @RR_TIMEOUT@ nc $HOST4 @RR_PORT@ -e /bin/cat
    ask rr-done
fi
"""


def guest_script(host4, args):
    s = GUEST_SCRIPT
    for k, v in {"HOST4": host4, "IPERF_PORT": IPERF_PORT, "SECS": args.seconds,
                 "IPERF_TIMEOUT": args.seconds + 30, "RR_PORT": RR_PORT,
                 "RR_TIMEOUT": args.rr_limit + 30}.items():
        s = s.replace("@%s@" % k, str(v))
    return s


# --- the backends ------------------------------------------------------------

BACKENDS = {
    "user": "user (slirp)",
    "passt": "passt",
    "stream": "stream (passt by hand)",
    "stream-plain": "plain 10.0.13 stream (passt by hand)",
    "vhost-user": "passt vhost-user",
    "passt-no-offload": "passt, NIC offloads off",
    "vhost-user-rings": "passt vhost-user, 1024-entry rings",
    "newest": "passt, newest passt",
    "newest-vhost-user": "passt vhost-user, newest passt",
    "upstream": "upstream QEMU passt",
    "upstream-vhost-user": "upstream QEMU passt vhost-user",
    "queue-10.2": "upstream QEMU + patches-10.2 passt",
    "queue-10.2-vhost-user": "upstream QEMU + patches-10.2 passt vhost-user",
    "ceiling": "ceiling (loopback, no guest)",
}


def form_qemu(args, name):
    """The QEMU binary a form boots."""
    if name == "stream-plain":
        return args.qemu_plain
    if name.startswith("upstream"):
        return args.qemu_upstream
    if name.startswith("queue-10.2"):
        return args.qemu_queue_102
    return args.qemu


def form_passt(args, name):
    """The passt binary a form runs."""
    return args.passt_newest if name.startswith("newest") else args.passt


def form_missing(args, name):
    """Why a form cannot run here (its QEMU or passt was not built), or
    None."""
    if name == "ceiling":
        return None
    what = [form_passt(args, name)]
    if name != "user":
        what.append(form_qemu(args, name))
    for path in what:
        if not path or not os.path.exists(path):
            return "not built: %s" % (path or "no path given")
    return None


# Traced when the netdev goes: the bytes to and from passt, and how many of
# them QEMU copied (net/stream_data.c, and the joining of frames)
COPY_TRACES = ["-trace", "net_stream_data_copies",
               "-trace", "net_passt_joined_copies"]
COPIES_RE = re.compile(r"net_stream_data_copies n0: to the peer (\d+) bytes, "
                       r"(\d+) of them copied; from the peer (\d+) bytes, "
                       r"(\d+) copied")
JOINED_RE = re.compile(r"net_passt_joined_copies n0: (\d+) bytes copied")


def copies_per_byte(log):
    """QEMU's copies per byte each way, from the traces QEMU printed as
    it ended (stream path of the series only): {} if there are none."""
    res = {}
    for line in log:
        m = COPIES_RE.search(line)
        if m:
            tx, tx_copied, rx, rx_copied = map(int, m.groups())
            if tx:
                res["up"] = tx_copied / tx
            if rx:
                res["rx_bytes"], res["rx_copied"] = rx, rx_copied
        m = JOINED_RE.search(line)
        if m:
            res["joined"] = int(m.group(1))
    if "rx_bytes" in res:
        res["down"] = (res.pop("rx_copied") + res.pop("joined", 0)) / \
            res.pop("rx_bytes")
    return res


def backend_net(name, passt):
    """(QEMU arguments, guest's address of the host, hand-started?)"""
    dev = ["-device", "virtio-net-pci,netdev=n0"]
    if name == "user":
        return ["-nic", "user,model=virtio-net-pci"], "10.0.2.2", False
    if name in ("passt", "newest", "queue-10.2"):
        # the copies on the way, traced by the series' stream path at exit
        return (["-netdev", "passt,id=n0,path=%s" % passt] + dev + COPY_TRACES,
                "192.0.2.2", False)
    if name == "upstream":
        return ["-netdev", "passt,id=n0,path=%s" % passt] + dev, "192.0.2.2", False
    if name == "passt-no-offload":
        # as vhost-user mode with a passt that offers no offload: the guest
        # checksums and segments every frame itself
        return (["-netdev", "passt,id=n0,path=%s" % passt,
                 "-device", "virtio-net-pci,netdev=n0,csum=off,guest_csum=off"],
                "192.0.2.2", False)
    if name in ("stream", "stream-plain"):  # from start_passt_by_hand()
        return [], "192.0.2.2", True
    if name in ("vhost-user", "newest-vhost-user", "upstream-vhost-user",
                "queue-10.2-vhost-user", "vhost-user-rings"):
        if name == "vhost-user-rings":
            dev = ["-device", "virtio-net-pci,netdev=n0,rx_queue_size=1024,"
                   "tx_queue_size=1024"]
        return (["-object", "memory-backend-memfd,id=mem,size=512M,share=on",
                 "-machine", "memory-backend=mem",
                 "-netdev", "passt,id=n0,path=%s,vhost-user=on" % passt] + dev,
                "192.0.2.2", False)
    raise ValueError(name)


# --- measurements on the host ------------------------------------------------

def stat_cpu(path):
    """(name, utime + stime in seconds) from a /proc .../stat file."""
    with open(path) as f:
        head, _, rest = f.read().rpartition(")")
    fields = rest.split()
    return (head.split("(", 1)[1],
            (int(fields[11]) + int(fields[12])) / CLK_TCK)


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), or None."""
    if not pid:
        return None
    try:
        return stat_cpu("/proc/%d/stat" % pid)[1]
    except (OSError, IndexError, ValueError):
        return None


def vcpu_seconds(pid):
    """utime + stime of QEMU's vCPU threads ("CPU 0/TCG", "CPU 0/KVM")."""
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    total = 0.0
    for tid in tids:
        try:
            name, seconds = stat_cpu("/proc/%d/task/%s/stat" % (pid, tid))
        except (OSError, IndexError, ValueError):
            continue
        if name.startswith("CPU "):
            total += seconds
    return total


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


class PingPong:
    """Accepts one connection from the guest (which echoes) and times
    COUNT round trips of RR_SIZE bytes on it, within LIMIT seconds."""

    def __init__(self, count, limit):
        self.count, self.limit = count, limit
        self.rtts, self.error = [], None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", RR_PORT))
        self.sock.listen(1)
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.sock.settimeout(60)
            conn, _ = self.sock.accept()
        except OSError as e:
            self.error = "guest did not connect: %s" % e
            return
        msg = bytes((i * 7) & 0xff for i in range(RR_SIZE))
        try:
            with conn:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.settimeout(10)
                deadline = time.monotonic() + self.limit
                for i in range(RR_WARMUP + self.count):
                    t0 = time.perf_counter()
                    conn.sendall(msg)
                    got = b""
                    while len(got) < RR_SIZE:
                        d = conn.recv(RR_SIZE - len(got))
                        if not d:
                            raise OSError("connection closed by the guest")
                        got += d
                    dt = time.perf_counter() - t0
                    if got != msg:
                        raise OSError("the guest echoed something else")
                    if i >= RR_WARMUP:
                        self.rtts.append(dt)
                    if time.monotonic() > deadline:
                        break
        except OSError as e:
            self.error = str(e)

    def result(self):
        if self.thread:
            self.thread.join(15)
        self.sock.close()
        if not self.rtts:
            return {"error": self.error or "no round trip"}
        us = sorted(t * 1e6 for t in self.rtts)
        r = {"count": len(us), "size": RR_SIZE, "median_us": statistics.median(us),
             "mean_us": statistics.fmean(us), "min_us": us[0], "max_us": us[-1],
             "p99_us": us[min(len(us) - 1, int(len(us) * 0.99))]}
        if self.error:
            r["error"] = self.error
        return r


def transfer(js, before, after):
    """One iperf3 run: rate, bytes and CPU per GiB from its JSON and the
    CPU snapshots taken around it."""
    if "error" in js:
        return {"error": "iperf3: %s" % js["error"]}
    try:
        end = js["end"]["sum_received"]
        nbytes = end["bytes"]
        r = {"mbps": end["bits_per_second"] / 1e6, "bytes": nbytes,
             "retransmits": js["end"].get("sum_sent", {}).get("retransmits"),
             "window_s": after["t"] - before["t"]}
    except (KeyError, TypeError):
        return {"error": "no result in iperf3's JSON"}
    if not nbytes:
        r["error"] = "nothing moved"
        return r
    if before.get("vcpu") is not None and after.get("vcpu") is not None:
        r["vcpu_busy"] = 100 * (after["vcpu"] - before["vcpu"]) / r["window_s"]
    for who in ("qemu", "passt"):
        b, a = before.get(who), after.get(who)
        same = before.get(who + "_pid") == after.get(who + "_pid")
        if b is not None and a is not None and same:
            r[who + "_cpu_s"] = a - b
            r[who + "_s_per_gib"] = (a - b) / (nbytes / GIB)
        elif who == "passt" and before.get("passt_pid"):
            r["note"] = "passt changed or vanished during the run"
    return r


# --- one boot ----------------------------------------------------------------

def iperf_server():
    return subprocess.Popen(
        ["iperf3", "-s", "-B", "127.0.0.1", "-p", str(IPERF_PORT)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)


def stop_child(proc):
    """End a child process of this script, and reap it."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def listening(port):
    """Whether something listens on TCP PORT of 127.0.0.1 (from
    /proc/net/tcp, without connecting to it)."""
    want = "0100007F:%04X" % port
    try:
        with open("/proc/net/tcp") as f:
            return any(l.split()[1] == want and l.split()[3] == "0A"
                       for l in list(f)[1:])
    except (OSError, IndexError):
        return False


def stop_pid(pid, name):
    """End a process this run started (directly or through QEMU), by PID."""
    if not pid or not alive(pid) or not comm(pid).startswith(name):
        return
    os.kill(pid, signal.SIGTERM)
    if not wait_for(lambda: not alive(pid), 5):
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not alive(pid), 5)


def reader(stream, q):
    for raw in stream:
        q.put((time.monotonic(), raw.decode(errors="replace").rstrip("\r\n")))
    q.put((time.monotonic(), None))


def qemu_error(lines):
    msgs = [l for l in lines if "qemu-system" in l]
    text = msgs[0] if msgs else (lines[-1] if lines else "QEMU exited")
    if "qemu-system-x86_64: " in text:
        text = text.split("qemu-system-x86_64: ", 1)[1]
    return text.strip()[:300]


class Boot:
    """One boot of the guest on one backend, in steps (see boot() below
    for their order), and what the steps share: the processes started,
    the serial console's lines and the figures found so far (res)."""

    def __init__(self, args, name, run):
        self.args, self.name = args, name
        self.res = {"backend": name, "run": run}
        self.tmpdir = scratch_dir("%s-" % name)
        self.passt = form_passt(args, name)
        self.net, host4, self.hand = backend_net(name, self.passt)
        self.initrd = os.path.join(self.tmpdir, "initrd.gz")
        make_initrd(args.initrd, guest_script(host4, args), self.initrd)
        self.qmp_path = os.path.join(self.tmpdir, "qmp.sock")
        self.hand_pid = self.qemu = self.iperf = self.qmp = None
        self.pp = PingPong(args.rr_count, args.rr_limit)
        self.log = []
        self.seen_passt = set()
        self.t0 = self.lines = None
        self.snaps, self.blocks, self.block = {}, {}, None

    # -- starting ---------------------------------------------------------

    def start_hand_passt(self):
        """passt started by hand, as users do without the backend; False
        (and the error in res) if it did not start."""
        try:
            self.hand_pid, self.net = start_passt_by_hand(self.passt,
                                                          self.tmpdir)
        except (subprocess.CalledProcessError, OSError, ValueError) as e:
            self.res["error"] = "passt --socket: %s" % e
            return False
        return True

    def start_iperf_server(self):
        """The host end of the guest's iperf3 runs, on loopback."""
        self.iperf = iperf_server()

    def qemu_command(self):
        """QEMU's command line for this backend."""
        args = self.args
        # debug-threads: names the vCPU thread, for vcpu_seconds()
        cmd = guest_cmd(form_qemu(args, self.name), args.kernel, self.initrd, self.qmp_path) + [
            "-name", "bench,debug-threads=on"] + self.net
        self.res["qemu_args"] = " ".join(self.net)
        return cmd

    def start_qemu(self, cmd):
        """Start QEMU; the boot's clock starts here.  A thread puts each
        line of the serial console, with the time it came, on
        self.lines."""
        self.t0 = time.monotonic()
        self.qemu = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True,
                                     env=dict(os.environ, TMPDIR=self.tmpdir))
        self.lines = queue.Queue()
        threading.Thread(target=reader, args=(self.qemu.stdout, self.lines),
                         daemon=True).start()

    def connect_qmp(self):
        """QMP, once QEMU has made its socket (for a while, as long as
        QEMU runs); self.qmp stays None if it never did."""
        while (self.qmp is None and self.qemu.poll() is None
               and time.monotonic() < self.t0 + 30):
            if os.path.exists(self.qmp_path):
                try:
                    self.qmp = Qmp(self.qmp_path)
                except (OSError, ValueError):
                    break
            else:
                time.sleep(0.05)

    # -- measuring --------------------------------------------------------

    def current_passt(self):
        """PID of the passt serving the guest now, if any."""
        if self.hand_pid:
            return self.hand_pid
        if self.qmp is None or self.name == "user":
            return None
        try:
            pids = passt_pids(self.qmp.hmp("info network"))
        except (OSError, ValueError):
            return None
        self.seen_passt.update(pids)
        return pids[0] if pids else None

    def snapshot(self):
        """CPU times of QEMU, its vCPU and passt, now."""
        p = self.current_passt()
        return {"t": time.monotonic(), "qemu_pid": self.qemu.pid,
                "qemu": cpu_seconds(self.qemu.pid), "passt_pid": p,
                "vcpu": vcpu_seconds(self.qemu.pid),
                "passt": cpu_seconds(p)}

    def follow_guest(self):
        """Read the serial console until the guest says it is done, QEMU
        exits or the boot's time is up (QEMU is then killed)."""
        deadline = self.t0 + self.args.boot_timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.res["error"] = ("no end after %d s, QEMU killed"
                                     % self.args.boot_timeout)
                self.qemu.kill()
                return
            try:
                ts, line = self.lines.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if line is None or self.serial_line(ts, line):
                return

    def serial_line(self, ts, line):
        """Note what one line of the serial console says, and answer the
        guest if it asks; True once the guest is done."""
        self.log.append(line)
        if self.block is not None:
            if line.startswith("JSON-END "):
                self.blocks[self.block[0]] = self.block[1]
                self.block = None
            else:
                self.block[1].append(line)
        elif line.startswith("GUEST-UP"):
            self.res["up_s"] = ts - self.t0
        elif line.startswith("LEASE "):
            self.res["lease"] = line[6:].strip()
            if "ip=" in line:
                self.res["lease_s"] = ts - self.t0
        elif line.startswith("REPORT kernel "):
            self.res["guest_kernel"] = line[14:].strip()
        elif line.startswith("JSON-BEGIN "):
            self.block = (line[11:].strip(), [])
        elif line.startswith("ASK "):
            self.answer(line[4:].strip())
        elif line.startswith("GUEST-DONE"):
            return True
        return False

    def answer(self, what):
        """Do what the guest asks for before its next step (take the CPU
        times around an iperf3 run, start the round trips), then let it
        go on."""
        if what.startswith(("start ", "stop ")):
            self.snaps[what] = self.snapshot()
        elif what == "rr":
            self.pp.start()
        try:
            self.qemu.stdin.write(b"go\n")
            self.qemu.stdin.flush()
        except OSError:
            pass

    # -- ending -----------------------------------------------------------

    def wait_for_qemu_exit(self):
        """Let QEMU end (the guest powers off), then keep what is still
        in the pipe: QEMU's last words."""
        try:
            self.qemu.wait(30)
        except subprocess.TimeoutExpired:
            self.qemu.kill()
            self.qemu.wait()
        end = time.monotonic() + 2
        while time.monotonic() < end:
            try:
                _, line = self.lines.get(timeout=0.2)
            except queue.Empty:
                break
            if line is None:
                break
            self.log.append(line)

    def collect_results(self):
        """The figures from what the guest reported, into res."""
        res = self.res
        if "lease_s" not in res and "error" not in res:
            if self.qmp is None:
                res["error"] = qemu_error(self.log)
            else:
                res["error"] = "no DHCP lease (%s)" % res.get("lease", "no reply")
        for d in ("up", "down"):
            lines = self.blocks.get(d)
            if lines is None:
                if "lease_s" in res:
                    res[d] = {"error": "no iperf3 output"}
                continue
            text = "\n".join(lines)
            try:
                js = json.loads(text[text.index("{"):])
            except ValueError:
                res[d] = {"error": "iperf3: %s" % text.strip()[:200]}
                continue
            res[d] = transfer(js, self.snaps.get("start " + d, {}),
                              self.snaps.get("stop " + d, {}))
        if self.pp.thread is not None:
            res["rr"] = self.pp.result()
        copies = copies_per_byte(self.log)
        for d in ("up", "down"):
            if d in copies and isinstance(res.get(d), dict):
                res[d]["copies_per_byte"] = copies[d]
        warnings = [l for l in self.log if "qemu-system" in l and "warning" in l]
        if warnings:
            res["qemu_warnings"] = warnings

    def tear_down(self, logdir):
        """Stop what this boot started, whatever step it got to, keep the
        serial log, remove the boot's directory."""
        if self.qemu is not None and self.qemu.poll() is None:
            self.qemu.kill()
            self.qemu.wait()
        self.pp.sock.close()
        if self.qmp is not None:
            self.qmp.sock.close()
        if self.iperf is not None:
            self.iperf.terminate()
            try:
                self.iperf.wait(10)
            except subprocess.TimeoutExpired:
                self.iperf.kill()
                self.iperf.wait()
        # passt started by QEMU ends with it; make sure, by PID
        for p in self.seen_passt:
            if not wait_for(lambda: not alive(p), 5):
                self.res.setdefault("notes", []).append(
                    "passt %d outlived QEMU" % p)
                stop_pid(p, "passt")
        stop_pid(self.hand_pid, "passt")
        with open(os.path.join(logdir, "%d-%s.serial.log" % (
                self.res["run"], self.name)), "w") as f:
            f.write("\n".join(self.log) + "\n")
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def boot(args, name, run, logdir):
    """Boot the guest once on backend NAME and measure it: a dict of its
    figures, with "error" where it could not be measured."""
    missing = form_missing(args, name)
    if missing:
        return {"backend": name, "run": run, "error": missing}
    b = Boot(args, name, run)
    try:
        if b.hand and not b.start_hand_passt():
            return b.res
        b.start_iperf_server()
        b.start_qemu(b.qemu_command())
        b.connect_qmp()
        if b.qmp is not None:
            b.res["passt_pid"] = b.current_passt()
        b.follow_guest()
        b.wait_for_qemu_exit()
        b.collect_results()
        return b.res
    finally:
        b.tear_down(logdir)


def ceiling(args, run):
    """What the machine moves at all, the guest's measurements without
    the guest: iperf3 -c both ways against iperf3 -s on loopback, the
    same -t; the round trips against busybox nc -e /bin/cat (the
    guest's echo) on the host."""
    res = {"backend": "ceiling", "run": run}
    server = iperf_server()
    try:
        if not wait_for(lambda: listening(IPERF_PORT), 10):
            res["error"] = "iperf3 -s did not listen"
            return res
        for d, flag in (("up", []), ("down", ["-R"])):
            t0 = time.monotonic()
            try:
                r = subprocess.run(
                    ["iperf3", "-c", "127.0.0.1", "-p", str(IPERF_PORT),
                     "-t", str(args.seconds), "--json"] + flag,
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, timeout=args.seconds + 30)
                js = json.loads(r.stdout.decode(errors="replace"))
            except (subprocess.TimeoutExpired, ValueError) as e:
                res[d] = {"error": "iperf3: %s" % e}
                continue
            res[d] = transfer(js, {"t": t0}, {"t": time.monotonic()})
    finally:
        stop_child(server)
    pp = PingPong(args.rr_count, args.rr_limit)
    pp.start()
    echo = subprocess.Popen(["busybox", "nc", "127.0.0.1", str(RR_PORT),
                             "-e", "/bin/cat"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        echo.wait(args.rr_limit + 30)   # it ends when the host side closes
    except subprocess.TimeoutExpired:
        pass
    stop_child(echo)
    res["rr"] = pp.result()
    if any("error" in res.get(d, {}) for d in ("up", "down")):
        res["error"] = "; ".join(res[d]["error"] for d in ("up", "down")
                                 if "error" in res.get(d, {}))
    return res


# --- summary -----------------------------------------------------------------

FIGURES = [
    # key, label, unit, getter
    ("up_mbps", "TCP guest→host", "Mbit/s",
     lambda r: r.get("up", {}).get("mbps")),
    ("down_mbps", "TCP host→guest", "Mbit/s",
     lambda r: r.get("down", {}).get("mbps")),
    ("rr_us", "TCP request/response, 64 B round trip (median)", "µs",
     lambda r: r.get("rr", {}).get("median_us")),
    ("qemu_up", "QEMU CPU per GiB, guest→host", "s/GiB",
     lambda r: r.get("up", {}).get("qemu_s_per_gib")),
    ("passt_up", "passt CPU per GiB, guest→host", "s/GiB",
     lambda r: r.get("up", {}).get("passt_s_per_gib")),
    ("qemu_down", "QEMU CPU per GiB, host→guest", "s/GiB",
     lambda r: r.get("down", {}).get("qemu_s_per_gib")),
    ("passt_down", "passt CPU per GiB, host→guest", "s/GiB",
     lambda r: r.get("down", {}).get("passt_s_per_gib")),
    # user-space copies of the series' stream path, whole boot; the
    # kernel's copy in the socket calls comes on top
    ("copies_up", "QEMU copies per byte to passt (whole boot)", "×",
     lambda r: r.get("up", {}).get("copies_per_byte")),
    ("copies_down", "QEMU copies per byte from passt, before the NIC's",
     "×", lambda r: r.get("down", {}).get("copies_per_byte")),
    ("vcpu_up", "guest vCPU thread busy, guest→host", "%",
     lambda r: r.get("up", {}).get("vcpu_busy")),
    ("vcpu_down", "guest vCPU thread busy, host→guest", "%",
     lambda r: r.get("down", {}).get("vcpu_busy")),
    ("lease_s", "QEMU start → first DHCP lease", "s",
     lambda r: r.get("lease_s")),
    ("dhcp_s", "of which guest's NIC up → lease (udhcpc)", "s",
     lambda r: r["lease_s"] - r["up_s"] if "lease_s" in r and "up_s" in r
     else None),
]


def summarize(results, backends):
    summary = {}
    for b in backends:
        rows = [r for r in results if r["backend"] == b]
        summary[b] = {}
        for key, _, _, get in FIGURES:
            vals = [v for v in (get(r) for r in rows) if v is not None]
            if vals:
                summary[b][key] = {"median": statistics.median(vals),
                                   "min": min(vals), "max": max(vals),
                                   "n": len(vals)}
        errors = [r["error"] for r in rows if r.get("error")]
        errors += ["%s: %s" % (way, r[d]["error"]) for r in rows
                   for d, way in (("up", "guest→host"), ("down", "host→guest"))
                   if not r.get("error") and r.get(d, {}).get("error")]
        if errors:
            summary[b]["errors"] = sorted(set(errors))
    return summary


# (label, backend, against): the ratios of throughput the README quotes
RATIOS = [
    ("passt (stream) / plain 10.0.13 stream", "passt", "stream-plain"),
    ("stream (series) / plain 10.0.13 stream", "stream", "stream-plain"),
    ("passt (stream) / slirp", "passt", "user"),
    ("passt vhost-user / slirp", "vhost-user", "user"),
    ("passt (stream) / upstream QEMU passt", "passt", "upstream"),
    ("passt vhost-user / upstream QEMU passt vhost-user", "vhost-user",
     "upstream-vhost-user"),
    ("upstream QEMU + patches-10.2 / upstream QEMU passt", "queue-10.2",
     "upstream"),
    ("upstream QEMU + patches-10.2 / passt (10.0 series)", "queue-10.2",
     "passt"),
    ("newest passt / passt, -netdev passt", "newest", "passt"),
    ("newest passt / passt, vhost-user", "newest-vhost-user", "vhost-user"),
]


def ratio_lines(summary, backends):
    out = []
    for label, b, against in RATIOS:
        if b not in backends or against not in backends:
            continue
        cells = []
        for key in ("up_mbps", "down_mbps"):
            mine, theirs = summary[b].get(key), summary[against].get(key)
            cells.append("%.2f×" % (mine["median"] / theirs["median"])
                         if mine and theirs and theirs["median"] else "n/a")
        out.append("| %s | %s |" % (label, " | ".join(cells)))
    if out:
        out = ["| ratio of medians | guest→host | host→guest |",
               "|---|---:|---:|"] + out + [""]
    return out + ceiling_lines(summary, backends)


def ceiling_lines(summary, backends):
    """Each form's throughput as a share of the ceiling's (medians)."""
    if "ceiling" not in backends:
        return []
    out = []
    for b in backends:
        if b == "ceiling":
            continue
        cells = []
        for key in ("up_mbps", "down_mbps"):
            mine, top = summary[b].get(key), summary["ceiling"].get(key)
            cells.append("%.1f %%" % (100 * mine["median"] / top["median"])
                         if mine and top and top["median"] else "n/a")
        out.append("| %s | %s |" % (BACKENDS[b], " | ".join(cells)))
    if not out:
        return []
    return ["| share of the ceiling (medians) | guest→host | host→guest |",
            "|---|---:|---:|"] + out + [""]


def fmt(v):
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def cell(s):
    if not s:
        return "n/a"
    if s["n"] == 1 or s["min"] == s["max"]:
        return fmt(s["median"])
    return "%s (%s–%s)" % (fmt(s["median"]), fmt(s["min"]), fmt(s["max"]))


def markdown(meta, summary, backends, runs):
    out = ["Benchmarks of `-netdev passt`, %s" % meta["date"], "",
           "- host: Linux %s, %s, %d CPUs" % (meta["host_kernel"], meta["cpu"],
                                              meta["cpus"]),
           "- accelerator: %s; guest: Linux %s, 512 MiB, 1 vCPU, virtio-net-pci"
           % (meta["accel"].upper(), meta.get("guest_kernel", "?")),
           "- %s; passt %s; %s" % (meta["qemu_version"], meta["passt_version"],
                                   meta["iperf3_version"]),
           "- plain 10.0.13 stream: %s without the series"
           % (meta.get("qemu_plain_version") or "n/a"),
           "- upstream QEMU passt: %s, its own -netdev passt, with the same "
           "passt" % (meta.get("qemu_upstream_version") or "n/a"),
           "- upstream QEMU + patches-10.2: %s with this project's second "
           "queue" % (meta.get("qemu_queue_102_version") or "n/a"),
           "- newest passt: %s" % (meta.get("passt_newest_version") or "n/a"),
           "- %d run%s, each booting every backend once in turn; "
           "median (min–max) over the runs" % (runs, "" if runs == 1 else "s"),
           ""]
    out.append("| | " + " | ".join(BACKENDS[b] for b in backends) + " |")
    out.append("|---|" + "---:|" * len(backends))
    for key, label, unit, _ in FIGURES:
        out.append("| %s, %s | " % (label, unit) +
                   " | ".join(cell(summary[b].get(key)) for b in backends) + " |")
    out += [""] + ratio_lines(summary, backends)
    notes = []
    for b in backends:
        for e in summary[b].get("errors", []):
            notes.append("- %s: n/a (%s)" % (BACKENDS[b], e))
    if "user" in backends:
        notes.append("- passt CPU: n/a for user (slirp), which runs in QEMU.")
    if "ceiling" in backends:
        notes.append("- ceiling: no QEMU, passt, vCPU or lease figures.")
    out += [""] + notes + [
        "",
        "Throughput: iperf3 -t %d in the guest (-R for host→guest) against "
        "iperf3 -s on the host's loopback, slow start included.  Round trip: "
        "the guest echoes (nc -e /bin/cat) on a connection it opens to the "
        "host, which sends %d bytes and waits for them back, %d times, timed "
        "on the host.  CPU: utime+stime of the QEMU and passt processes over "
        "each iperf3 run, divided by the GiB it moved.  Lease: from starting "
        "QEMU to the guest's udhcpc line on the serial console (most of it is "
        "the boot: the guest says when its NIC is up, just before udhcpc).  "
        "Ceiling: no guest, iperf3 -c against iperf3 -s both on the "
        "namespace's loopback, the same -t, and the round trips against "
        "busybox nc -e /bin/cat there."
        % (meta["seconds"], RR_SIZE, meta["rr_count"]), ""]
    return "\n".join(out)


def plot(outdir, meta, summary, backends):
    gp = shutil.which("gnuplot")
    if not gp:
        print("gnuplot not found: no plot", flush=True)
        return None
    top = summary.get("ceiling", {}) if "ceiling" in backends else {}
    backends = [b for b in backends if b != "ceiling"]
    if not backends:
        print("only the ceiling: no plot", flush=True)
        return None
    ceiling_note = ceiling_rr = ""
    if top.get("up_mbps") and top.get("down_mbps"):
        ceiling_note = "; ceiling (loopback, no guest) %s / %s Mbit/s" % (
            fmt(top["up_mbps"]["median"]), fmt(top["down_mbps"]["median"]))
    if top.get("rr_us"):
        ceiling_rr = "; ceiling %s µs" % fmt(top["rr_us"]["median"])
    keys = [k for k, _, _, _ in FIGURES]
    dat = os.path.join(outdir, "plot.dat")
    with open(dat, "w") as f:
        f.write("# backend " + " ".join("%s %s_min %s_max" % (k, k, k)
                                        for k in keys) + "\n")
        for b in backends:
            vals = []
            for k in keys:
                s = summary[b].get(k)
                vals += (["%g" % s["median"], "%g" % s["min"], "%g" % s["max"]]
                         if s else ["?", "?", "?"])
            f.write('"%s" %s\n' % (b, " ".join(vals)))
    col = {k: 2 + 3 * i for i, k in enumerate(keys)}

    def cols(k):
        c = col[k]
        return "%d:%d:%d" % (c, c + 1, c + 2)
    png = os.path.join(outdir, "results.png")
    script = """
set terminal pngcairo size 1400,1000 font ",10"
set output "%(png)s"
set datafile missing "?"
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.7 border -1
set grid ytics
set yrange [0:*]
set xtics rotate by -30 nomirror
set key top right
set multiplot layout 2,2 title "%(title)s"
set title "TCP throughput (iperf3, %(secs)d s)%(ceiling)s"
set ylabel "Mbit/s"
plot "%(dat)s" using %(up)s:xtic(1) title "guest→host", \\
     "" using %(down)s title "host→guest"
set title "TCP request/response, %(size)d B round trip (median)%(ceiling_rr)s"
set ylabel "µs"
plot "%(dat)s" using %(rr)s:xtic(1) title "round trip"
set title "CPU seconds per GiB moved"
set ylabel "s/GiB"
plot "%(dat)s" using %(qu)s:xtic(1) title "QEMU, guest→host", \\
     "" using %(pu)s title "passt, guest→host", \\
     "" using %(qd)s title "QEMU, host→guest", \\
     "" using %(pd)s title "passt, host→guest"
set title "QEMU start to first DHCP lease"
set ylabel "s"
plot "%(dat)s" using %(lease)s:xtic(1) title "QEMU start to lease", \\
     "" using %(dhcp)s title "of which guest's NIC up to lease"
unset multiplot
""" % {"png": png, "dat": dat, "secs": meta["seconds"], "size": RR_SIZE,
       "title": "%s, %s, %s, passt %s, %d run(s): median, min-max" % (
           meta["date"], meta["accel"].upper(), meta["cpu"],
           meta["passt_version"], meta["runs"]),
       "ceiling": ceiling_note, "ceiling_rr": ceiling_rr, "up": cols("up_mbps"), "down": cols("down_mbps"), "rr": cols("rr_us"),
       "qu": cols("qemu_up"), "pu": cols("passt_up"), "qd": cols("qemu_down"),
       "pd": cols("passt_down"), "lease": cols("lease_s"),
       "dhcp": cols("dhcp_s")}
    gpfile = os.path.join(outdir, "plot.gp")
    with open(gpfile, "w") as f:
        f.write(script)
    try:
        r = subprocess.run([gp, gpfile], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
    except subprocess.TimeoutExpired:
        print("gnuplot timed out: no plot", flush=True)
        return None
    if r.returncode != 0 or not os.path.exists(png):
        print("gnuplot failed: no plot\n%s" % r.stdout.decode(errors="replace"),
              flush=True)
        return None
    return png


# --- the machine -------------------------------------------------------------

def passt_version(passt):
    """passt prints its version only to a terminal: give it one."""
    try:
        m, s = pty.openpty()
        try:
            subprocess.run([passt, "--version"], stdin=subprocess.DEVNULL,
                           stdout=s, stderr=s, timeout=10)
        finally:
            os.close(s)
        out = b""
        while True:
            try:
                d = os.read(m, 4096)
            except OSError:
                break
            if not d:
                break
            out += d
        os.close(m)
        first = out.decode(errors="replace").strip().splitlines()[0]
        return first[6:] if first.startswith("passt ") else first
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def first_line(cmd):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=10)
        return r.stdout.decode(errors="replace").splitlines()[0].strip()
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    build = os.path.join(TOP, "build")
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qemu", default=os.path.join(build, "qemu-build",
                                                   "qemu-system-x86_64"))
    ap.add_argument("--qemu-plain", default=os.path.join(
        build, "qemu-plain-build", "qemu-system-x86_64"),
        help="QEMU without the series, for stream-plain")
    ap.add_argument("--qemu-upstream", default=os.path.join(
        build, "qemu-upstream-build", "qemu-system-x86_64"),
        help="upstream QEMU with its own -netdev passt, for upstream*")
    ap.add_argument("--qemu-queue-10.2", dest="qemu_queue_102",
                    default=os.path.join(build, "qemu-10.2-build",
                                         "qemu-system-x86_64"),
                    help="upstream QEMU with patches-10.2/, for queue-10.2*")
    ap.add_argument("--passt-newest", default=os.path.join(
        build, "passt-newest", "passt"),
        help="upstream passt's newest release, for newest*")
    ap.add_argument("--kernel", default=os.path.join(build, "guest", "vmlinuz"))
    ap.add_argument("--initrd", default=os.path.join(build, "guest",
                                                     "initramfs.cpio.gz"))
    ap.add_argument("--passt", default=os.path.join(build, "passt", "passt"))
    ap.add_argument("--outdir", default=os.path.join(build, "bench"))
    ap.add_argument("--runs", type=int, default=3, help="boots per backend "
                    "(default %(default)s)")
    ap.add_argument("--backends", default=",".join(BACKENDS),
                    help="comma-separated, of %(default)s")
    ap.add_argument("--seconds", type=int, default=8,
                    help="length of each iperf3 run (default %(default)s)")
    ap.add_argument("--rr-count", type=int, default=1000,
                    help="timed round trips per boot (default %(default)s)")
    ap.add_argument("--rr-limit", type=int, default=30,
                    help="at most this many seconds of round trips "
                    "(default %(default)s)")
    ap.add_argument("--boot-timeout", type=int, default=300,
                    help="seconds for one boot, all steps in "
                    "(default %(default)s)")
    ap.add_argument("--publish", action="store_true",
                    help="copy the plot to bench/results.png")
    args = ap.parse_args()
    if os.environ.get("PASST_QEMU_NETNS") != "inside":
        ap.error("run inside scripts/netns-run.sh (scripts/bench.sh does)")
    backends = [b for b in args.backends.split(",") if b]
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown or not backends or args.runs < 1:
        ap.error("backends: %s; runs >= 1" % ", ".join(BACKENDS))
    args.accel = os.environ.get("GUEST_ACCEL", "tcg")
    # a form whose QEMU or passt is missing is n/a (form_missing())
    needed = [args.kernel, args.initrd] if backends != ["ceiling"] else []
    for path in needed:
        if not os.path.exists(path):
            ap.error("%s: not found" % path)

    outdir = os.path.abspath(args.outdir)
    logdir = os.path.join(outdir, "logs")
    os.makedirs(logdir, exist_ok=True)

    def version_of(forms, get):
        if any(b in backends and not form_missing(args, b) for b in forms):
            return get()
        return None

    meta = {"date": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC"),
            "host_kernel": platform.release(), "cpu": cpu_model(),
            "cpus": os.cpu_count(), "accel": args.accel,
            "qemu_version": first_line([args.qemu, "--version"]),
            "qemu_plain_version": version_of(
                ["stream-plain"], lambda: first_line([args.qemu_plain, "--version"])),
            "qemu_upstream_version": version_of(
                ["upstream", "upstream-vhost-user"],
                lambda: first_line([args.qemu_upstream, "--version"])),
            "qemu_queue_102_version": version_of(
                ["queue-10.2", "queue-10.2-vhost-user"],
                lambda: first_line([args.qemu_queue_102, "--version"])),
            "passt_version": passt_version(args.passt),
            "passt_newest_version": version_of(
                ["newest", "newest-vhost-user"],
                lambda: passt_version(args.passt_newest)),
            "iperf3_version": first_line(["iperf3", "--version"]).split(" (")[0],
            "runs": args.runs, "seconds": args.seconds,
            "rr_count": args.rr_count, "rr_size": RR_SIZE,
            "backends": backends}
    print("bench: %s, %s, %s, passt %s; %d run(s) of %s" % (
        meta["date"], args.accel.upper(), meta["qemu_version"],
        meta["passt_version"], args.runs, ", ".join(backends)), flush=True)

    results = []
    for run in range(1, args.runs + 1):
        for b in backends:
            t = time.monotonic()
            r = (ceiling(args, run) if b == "ceiling"
                 else boot(args, b, run, logdir))
            results.append(r)
            if r.get("guest_kernel"):
                meta["guest_kernel"] = r["guest_kernel"]
            brief = "n/a (%s)" % r["error"] if r.get("error") else ", ".join(
                "%s %s" % (label, fmt(v)) for label, v in (
                    ("up Mbit/s", r.get("up", {}).get("mbps")),
                    ("down Mbit/s", r.get("down", {}).get("mbps")),
                    ("rr µs", r.get("rr", {}).get("median_us")),
                    ("lease s", r.get("lease_s"))) if v is not None)
            print("run %d/%d %-19s %3.0f s: %s" % (run, args.runs, b,
                                                   time.monotonic() - t, brief),
                  flush=True)

    summary = summarize(results, backends)
    md = markdown(meta, summary, backends, args.runs)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"meta": meta, "summary": summary, "runs": results}, f,
                  indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write(md)
    print("\n" + md, flush=True)
    png = plot(outdir, meta, summary, backends)
    print("results: %s/results.{json,md}%s; serial logs in %s" % (
        outdir, ",png" if png else "", logdir), flush=True)
    if args.publish:
        if png:
            shutil.copyfile(png, os.path.join(HERE, "results.png"))
            print("published: %s" % os.path.join(HERE, "results.png"))
        else:
            print("nothing to publish: no plot")
    # a benchmark, not a test: it ran unless nothing could be measured
    return 0 if any("lease_s" in r or "mbps" in r.get("up", {})
                    for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
