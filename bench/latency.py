#!/usr/bin/python3
"""Where the time of one 64-byte TCP round trip goes, hop by hop, on
-netdev passt (stream mode) and on -netdev user (slirp), in one run.

The round trip is bench.py's request/response one: the guest connects to
a server on the host's loopback and echoes ("nc HOST PORT -e /bin/cat");
the server sends 64 bytes and waits for the 64 back, WARMUP + COUNT
times.  While the timed ones run, two tracers watch the same round trips
on one clock (CLOCK_MONOTONIC; QEMU's trace lines, stamped with the
wall clock, are moved onto it):

  - perf record, system-wide but filtered to the threads that matter
    (the server's thread, every QEMU thread, passt): the syscalls that
    move the bytes (send/recv/read/write/...msg on the sockets, ppoll
    and epoll_wait returns) and sched_wakeup/sched_switch of those
    threads, for the time a woken thread waited for a CPU;
  - QEMU's own trace events (log backend, -msg timestamp=on, enabled over
    QMP only for the round trips): virtqueue_pop (a frame taken: RX by
    the backend, TX by the virtio-net TX bottom half), virtio_notify
    (an interrupt to the guest) and virtio_queue_notify (the guest's
    kick, on the vCPU thread).

For each timed round trip, the chain of boundaries is found in order
(the first event of each kind after the previous boundary):

  A  server send() enters                          (host socket)
  B  passt's epoll_wait returns                    (passt only)
  C  passt writes the frame to QEMU's socket       (passt only)
  D  QEMU's main loop returns from ppoll
  E  QEMU has read the frame (passt) / the bytes (slirp)
  F  virtio-net took an RX buffer for it (virtqueue_pop, RX queue)
  G  the guest is interrupted (virtio_notify, RX queue)
  H  the guest kicks the TX queue (virtio_queue_notify 1, vCPU thread)
  I  the TX bottom half takes the reply (virtqueue_pop, TX queue)
  J  QEMU writes the reply to passt's socket / slirp sends it
  K  passt's epoll_wait returns                    (passt only)
  L  passt send()s the bytes to the server         (passt only)
  M  the server's recv() returns them              (host socket)

and the table has the median of each step over the round trips, next to
the median total (server's own clock, the figure bench.py reports) with
and without the tracers (--plain-count round trips are timed first with
no tracing).  Per round trip it also counts the frames each way (reads
and writes on the backend's socket and their sizes: a pure ACK is 66
bytes and more than one frame per direction means extra frames) and the
run-queue waits (sched_wakeup to sched_switch) of passt and QEMU's
threads.  The tracers cost a few microseconds per event: the steps add
up to a slower round trip than the plain one; compare the backends with
each other, not with bench.py.

Run it inside the private network namespace (servers on loopback only):

  scripts/netns-run.sh bench/latency.py                 # user, passt
  scripts/netns-run.sh bench/latency.py --backends user,passt,stream \\
      --count 400 --runs 2

needs perf (linux-perf) and root for the system-wide tracepoints; with
--no-perf only the QEMU trace events and the server's timing are used.
--copy-qemu runs a copy of the binary (for a tree being relinked).
With --keep each boot's traces stay in OUTDIR/lat-BACKEND-*/; then

  bench/latency.py --analyze DIR... [--timeline N]

re-reads them (no namespace needed) and --timeline prints every event
of round trip N; --stacks also records the call stacks of the main
thread's 8-byte (eventfd) writes into DIR/stacks.data (perf script -i).
It prints the table (and the machine's load average before and after
each boot) and keeps the raw traces in OUTDIR with --keep.
"""

import argparse
import json
import os
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "guest"))   # guestlib.py
from guestlib import (Qmp, alive, guest_cmd, make_initrd, passt_pids,  # noqa: E402
                      scratch_dir, start_passt_by_hand, wait_for)
from bench import stop_pid  # noqa: E402

RR_PORT = 5202
RR_SIZE = 64

GUEST_SCRIPT = r"""
ask() { echo "ASK $*"; read reply; }
udhcpc -i eth0 -n -q -t 10 -T 2 -s /etc/udhcpc/default.script >/dev/null 2>&1
echo "LEASE $(cat /tmp/lease 2>/dev/null)"
if [ -s /tmp/lease ]; then
    ask rr
    timeout @LIMIT@ nc @HOST4@ @PORT@ -e /bin/cat
    ask rr-done
fi
"""

TRACE_EVENTS = ["virtqueue_pop", "virtio_notify", "virtio_queue_notify"]

# syscalls that move bytes or end a wait, as the tracepoints name them
SYSCALLS = ["read", "write", "readv", "writev", "recvfrom", "sendto",
            "recvmsg", "sendmsg", "recvmmsg", "sendmmsg", "ppoll",
            "epoll_wait", "epoll_pwait", "epoll_pwait2"]
READS = {"read", "readv", "recvfrom", "recvmsg", "recvmmsg"}
WRITES = {"write", "writev", "sendto", "sendmsg", "sendmmsg"}
WAITS = {"ppoll", "epoll_wait", "epoll_pwait", "epoll_pwait2"}


# --- clocks -----------------------------------------------------------------

def realtime_offset():
    """CLOCK_REALTIME - CLOCK_MONOTONIC, from the closest of a few reads."""
    best = None
    for _ in range(20):
        m0 = time.clock_gettime(time.CLOCK_MONOTONIC)
        r = time.clock_gettime(time.CLOCK_REALTIME)
        m1 = time.clock_gettime(time.CLOCK_MONOTONIC)
        if best is None or m1 - m0 < best[0]:
            best = (m1 - m0, r - (m0 + m1) / 2)
    return best[1]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --- the host side of the round trips ----------------------------------------

class PingPong:
    """One connection from the guest: PLAIN untraced round trips, then
    COUNT traced ones (the caller starts the tracers in between, when
    ready is set), each timed with CLOCK_MONOTONIC."""

    def __init__(self, warmup, plain, count, limit):
        self.warmup, self.plain, self.count, self.limit = (warmup, plain,
                                                           count, limit)
        self.plain_rtts, self.windows, self.error = [], [], None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", RR_PORT))
        self.sock.listen(1)
        self.tid = self.fd = None
        self.tracing = threading.Event()     # the caller: tracers are on
        self.plain_done = threading.Event()  # this: untraced part is over
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        wait_for(lambda: self.tid is not None, 5)

    def _exchange(self, conn, msg):
        t0 = time.monotonic()
        conn.sendall(msg)
        got = b""
        while len(got) < RR_SIZE:
            d = conn.recv(RR_SIZE - len(got))
            if not d:
                raise OSError("connection closed by the guest")
            got += d
        t1 = time.monotonic()
        if got != msg:
            raise OSError("the guest echoed something else")
        return t0, t1

    def _run(self):
        self.tid = threading.get_native_id()
        try:
            self.sock.settimeout(120)
            conn, _ = self.sock.accept()
        except OSError as e:
            self.error = "guest did not connect: %s" % e
            self.plain_done.set()
            return
        msg = bytes((i * 7) & 0xff for i in range(RR_SIZE))
        try:
            with conn:
                self.fd = conn.fileno()
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.settimeout(10)
                for i in range(self.warmup + self.plain):
                    t0, t1 = self._exchange(conn, msg)
                    if i >= self.warmup:
                        self.plain_rtts.append(t1 - t0)
                self.plain_done.set()
                if not self.tracing.wait(60):
                    raise OSError("the tracers did not start")
                deadline = time.monotonic() + self.limit
                for i in range(10 + self.count):   # 10 to settle the tracers
                    t0, t1 = self._exchange(conn, msg)
                    if i >= 10:
                        self.windows.append((t0, t1))
                    if time.monotonic() > deadline:
                        break
        except OSError as e:
            self.error = str(e)
        finally:
            self.plain_done.set()


# --- tracers -----------------------------------------------------------------

def trace_event(qmp, name, enable):
    """trace-event-set-state (whose "name" Qmp.cmd() takes for itself)."""
    qmp.f.write(json.dumps({"execute": "trace-event-set-state", "arguments":
                            {"name": name, "enable": enable}}) + "\n")
    qmp.f.flush()
    while True:
        r = json.loads(qmp.f.readline())
        if "return" in r or "error" in r:
            return r


def threads_of(pid):
    try:
        return [int(t) for t in os.listdir("/proc/%d/task" % pid)]
    except OSError:
        return []


def thread_name(pid, tid):
    try:
        with open("/proc/%d/task/%d/comm" % (pid, tid)) as f:
            return f.read().strip()
    except OSError:
        return "?"


def start_perf(data, tids):
    """perf record, system-wide, each event filtered to @tids."""
    if not shutil.which("perf"):
        return None
    pid_f = " || ".join("common_pid == %d" % t for t in tids)
    cmd = ["perf", "record", "-q", "-a", "-k", "CLOCK_MONOTONIC",
           "-m", "1024", "-o", data]
    for sc in SYSCALLS:
        for kind in ("enter", "exit"):
            ev = "syscalls:sys_%s_%s" % (kind, sc)
            cmd += ["-e", ev, "--filter", pid_f]
    cmd += ["-e", "sched:sched_wakeup", "--filter",
            " || ".join("pid == %d" % t for t in tids),
            "-e", "sched:sched_switch", "--filter",
            " || ".join("next_pid == %d || prev_pid == %d" % (t, t)
                        for t in tids)]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # perf opens a few hundred events per CPU before it records
    time.sleep(2.5)
    if p.poll() is not None:
        sys.stderr.write("perf record failed: %s\n" %
                         p.stderr.read().decode(errors="replace")[-500:])
        return None
    return p


def stop_perf(p):
    if p is None:
        return
    p.send_signal(signal.SIGINT)
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


PERF_LINE = re.compile(r"^\s*(.+?)\s+(\d+)\s+(\d+\.\d+):\s+(\S+):\s?(.*)$")


def read_perf(data):
    """Syscalls ({tid, sc, fd, t0, t1, ret}), wakeups and switches."""
    out = subprocess.run(["perf", "script", "-i", data, "--ns", "-F",
                          "comm,tid,time,event,trace"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    calls, wakeups, switches, open_ = [], [], [], {}
    for line in out.stdout.decode(errors="replace").splitlines():
        m = PERF_LINE.match(line)
        if not m:
            continue
        tid, t, ev, rest = int(m.group(2)), float(m.group(3)), m.group(4), \
            m.group(5)
        if ev.startswith("syscalls:sys_enter_"):
            sc = ev[len("syscalls:sys_enter_"):]
            fd = re.search(r"fd: (0x[0-9a-f]+)", rest)
            open_[tid] = {"tid": tid, "sc": sc, "t0": t, "t1": None,
                          "fd": int(fd.group(1), 16) if fd else None,
                          "ret": None}
        elif ev.startswith("syscalls:sys_exit_"):
            sc = ev[len("syscalls:sys_exit_"):]
            c = open_.pop(tid, None)
            if c is None or c["sc"] != sc:
                continue
            c["t1"] = t
            try:
                c["ret"] = int(rest.strip(), 16)
                if c["ret"] >= 1 << 63:
                    c["ret"] -= 1 << 64
            except ValueError:
                pass
            calls.append(c)
        elif ev == "sched:sched_wakeup":
            w = re.search(r"pid=(\d+)", rest)
            if w:
                wakeups.append((t, int(w.group(1))))
        elif ev == "sched:sched_switch":
            n = re.search(r"next_pid=(\d+)", rest) or \
                re.search(r"==> .*:(\d+) \[", rest)
            if n:
                switches.append((t, int(n.group(1))))
    return calls, wakeups, switches


TRACE_LINE = re.compile(r"^(\d+)@(\d+)\.(\d+):(\S+) (.*)$")


def read_trace(path, offset):
    """QEMU's trace lines as (monotonic time, tid, event, {arg: value})."""
    evs = []
    try:
        f = open(path, errors="replace")
    except OSError:
        return evs
    with f:
        for line in f:
            m = TRACE_LINE.match(line.strip())
            if not m:
                continue
            t = int(m.group(2)) + int(m.group(3)) / 1e6 - offset
            args = dict(re.findall(r"(\w+) (\S+)", m.group(5)))
            evs.append((t, int(m.group(1)), m.group(4), args))
    return evs


# --- the backends -----------------------------------------------------------

def backend_args(name, passt, tmpdir):
    """(QEMU arguments, guest's address of the host, passt PID by hand)."""
    dev = ["-device", "virtio-net-pci,netdev=n0"]
    if name == "user":
        return ["-netdev", "user,id=n0"] + dev, "10.0.2.2", None
    if name == "passt":
        return (["-netdev", "passt,id=n0,path=%s" % passt] + dev,
                "192.0.2.2", None)
    if name == "passt-no-offload":
        return (["-netdev", "passt,id=n0,path=%s" % passt, "-device",
                 "virtio-net-pci,netdev=n0,csum=off,guest_csum=off"],
                "192.0.2.2", None)
    if name == "stream":
        pid, net = start_passt_by_hand(passt, tmpdir)
        return net, "192.0.2.2", pid
    raise ValueError(name)


def socket_fds(pid):
    """{inode: fd} of the sockets process @pid holds."""
    out = {}
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            m = re.match(r"socket:\[(\d+)\]", link)
            if m:
                out[int(m.group(1))] = int(fd)
    except OSError:
        pass
    return out


def fd_links(pid):
    out = {}
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                out[fd] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                pass
    except OSError:
        pass
    return out


def ss_lines(kind):
    r = subprocess.run(["ss", "-n", "-a", kind], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return r.stdout.splitlines()


def find_fds(qemu_pid, passt_pid):
    """The fds of the round trip's sockets: QEMU's to passt (or slirp's to
    the server) and passt's two.  From /proc and ss's inode columns."""
    fds = {}
    q, p = socket_fds(qemu_pid), socket_fds(passt_pid) if passt_pid else {}
    # TCP: the connection with the server's port, in whichever process
    for line in ss_lines("-te"):
        if (":%d " % RR_PORT) not in line + " " or "LISTEN" in line:
            continue
        m = re.search(r"ino:(\d+)", line)
        if not m:
            continue
        ino = int(m.group(1))
        if ino in q:
            fds["qemu_tcp"] = q[ino]
        if ino in p:
            fds["passt_tcp"] = p[ino]
    # unix: the pair between QEMU and passt (ss -x prints local and peer
    # inodes as the 6th and 8th columns)
    for line in ss_lines("-x"):
        cols = line.split()
        if len(cols) < 8 or not cols[5].isdigit() or not cols[7].isdigit():
            continue
        a, b = int(cols[5]), int(cols[7])
        if a in q and b in p:
            fds["qemu_unix"], fds["passt_unix"] = q[a], p[b]
        elif a in p and b in q:
            fds["qemu_unix"], fds["passt_unix"] = q[b], p[a]
    return fds


# --- one boot ---------------------------------------------------------------

def reader(stream, q):
    for raw in stream:
        q.put(raw.decode(errors="replace").rstrip("\r\n"))
    q.put(None)


def boot(args, name, run):
    """Boot on backend @name, time and trace the round trips; returns a
    dict: plain RTTs, windows, traces, fds, thread ids, load."""
    res = {"backend": name, "run": run, "load_before": loadavg()}
    tmp = scratch_dir("lat-%s-" % name)
    hand = None
    qemu = None
    perf = None
    pp = None
    qmp = None
    try:
        net, host4, hand = backend_args(name, args.passt, tmp)
        initrd = os.path.join(tmp, "initrd.gz")
        script = (GUEST_SCRIPT.replace("@HOST4@", host4)
                  .replace("@PORT@", str(RR_PORT))
                  .replace("@LIMIT@", str(args.limit + 120)))
        make_initrd(args.initrd, script, initrd)
        qmp_path = os.path.join(tmp, "qmp.sock")
        trace_path = os.path.join(tmp, "trace.log")
        cmd = guest_cmd(args.qemu, args.kernel, initrd, qmp_path) + [
            "-name", "lat,debug-threads=on", "-msg", "timestamp=on",
            "-D", trace_path] + net
        if args.dump:
            cmd += ["-object", "filter-dump,id=f0,netdev=n0,file=%s" %
                    os.path.join(tmp, "frames.pcap")]
        res["qemu_args"] = " ".join(net)
        qemu = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                start_new_session=True,
                                env=dict(os.environ, TMPDIR=tmp))
        lines = queue.Queue()
        threading.Thread(target=reader, args=(qemu.stdout, lines),
                         daemon=True).start()
        deadline = time.monotonic() + args.boot_timeout
        log = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            log.append(line)
            if line.startswith("ASK rr-done") or line.startswith("GUEST-DONE"):
                break
            if not line.startswith("ASK rr"):
                continue
            # the guest is about to connect: serve, time it plain, then trace
            pp = PingPong(args.warmup, args.plain_count, args.count,
                          args.limit)
            qmp = Qmp(qmp_path)
            passt_pid = hand
            if name != "user":
                pids = passt_pids(qmp.hmp("info network"))
                passt_pid = passt_pid or (pids[0] if pids else None)
            res["passt_pid"] = passt_pid
            qemu.stdin.write(b"go\n")
            qemu.stdin.flush()
            pp.plain_done.wait(args.limit + 60)
            res["fds"] = find_fds(qemu.pid, passt_pid)
            res["qemu_fd_links"] = fd_links(qemu.pid)
            res["log_fd"] = next((int(k) for k, v in
                                  res["qemu_fd_links"].items()
                                  if v == trace_path), None)
            res["server"] = {"tid": pp.tid, "fd": pp.fd}
            qtids = threads_of(qemu.pid)
            res["qemu_threads"] = {t: thread_name(qemu.pid, t) for t in qtids}
            tids = [pp.tid] + qtids + ([passt_pid] if passt_pid else [])
            if not args.no_trace:
                for ev in TRACE_EVENTS:
                    trace_event(qmp, ev, True)
            res["load_during"] = loadavg()
            stacks = None
            if args.stacks:
                # who writes the main thread's eventfds (DWARF unwinding)
                stacks = subprocess.Popen(
                    ["perf", "record", "-q", "-k", "CLOCK_MONOTONIC", "-t",
                     str(qemu.pid), "--call-graph", "dwarf,8192", "-o",
                     os.path.join(tmp, "stacks.data"), "-e",
                     "syscalls:sys_enter_write", "--filter", "count == 8"],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
            if not args.no_perf:
                perf = start_perf(os.path.join(tmp, "perf.data"), tids)
            elif stacks:
                time.sleep(2)
            res["offset"] = realtime_offset()
            pp.tracing.set()
            pp.thread.join(args.limit + 60)
            stop_perf(perf)
            stop_perf(stacks)
            if not args.no_trace:
                for ev in TRACE_EVENTS:
                    trace_event(qmp, ev, False)
            res["load_after"] = loadavg()
            qemu.stdin.write(b"go\n")
            qemu.stdin.flush()
        if pp is None:
            res["error"] = "the guest never asked for the round trips: %s" % (
                log[-3:] if log else "no output")
            return res
        if pp.error:
            res["error"] = pp.error
        res["plain_rtts"] = pp.plain_rtts
        res["windows"] = pp.windows
        with open(os.path.join(tmp, "meta.json"), "w") as mf:
            json.dump(res, mf)
        load_traces(res, tmp)
        if args.dump:
            res["dump"] = os.path.join(tmp, "frames.pcap")
        return res
    finally:
        if qmp is not None:
            qmp.sock.close()
        if pp is not None:
            pp.sock.close()
        if qemu is not None:
            if qemu.poll() is None:
                try:
                    qemu.wait(20)
                except subprocess.TimeoutExpired:
                    qemu.kill()
                    qemu.wait()
        for p in [res.get("passt_pid")] if not hand else []:
            if p and not wait_for(lambda: not alive(p), 5):
                stop_pid(p, "passt")
        stop_pid(hand, "passt")
        if args.keep:
            res["kept"] = tmp
        else:
            res["_tmp"] = tmp


def load_traces(res, d):
    """Read a boot's traces kept in @d into @res."""
    res["trace"] = read_trace(os.path.join(d, "trace.log"),
                              res.get("offset", 0))
    if os.path.exists(os.path.join(d, "perf.data")):
        res["calls"], res["wakeups"], res["switches"] = read_perf(
            os.path.join(d, "perf.data"))


def load_kept(d):
    """A boot kept with --keep, as boot() returned it."""
    with open(os.path.join(d, "meta.json")) as mf:
        res = json.load(mf)
    res["qemu_threads"] = {int(k): v for k, v in
                           res.get("qemu_threads", {}).items()}
    res["windows"] = [tuple(w) for w in res.get("windows", [])]
    load_traces(res, d)
    return res


def timeline(res, i):
    """Every traced event of round trip @i, relative to its start."""
    w0, w1 = res["windows"][i]
    names = dict(res.get("qemu_threads", {}))
    names[res.get("passt_pid")] = "passt"
    names[res.get("server", {}).get("tid")] = "server"
    fds = res.get("fds", {})
    rows = []
    for c in res.get("calls", []):
        if w0 - 2e-5 <= c["t0"] <= w1 + 2e-5:
            who = names.get(c["tid"], str(c["tid"]))
            what = "%s(fd %s) = %s" % (c["sc"], c["fd"], c["ret"])
            for k, v in fds.items():
                if v == c["fd"] and k.split("_")[0] in (
                        "qemu" if who != "passt" else "passt",):
                    what += " [%s]" % k
            rows.append((c["t0"], c["t1"], who, what))
    for t, tid, ev, a in res.get("trace", []):
        if w0 - 2e-5 <= t <= w1 + 2e-5:
            rows.append((t, None, names.get(tid, str(tid)),
                         "%s %s" % (ev, " ".join("%s=%s" % kv
                                                 for kv in a.items()))))
    for t, p in res.get("wakeups", []):
        if w0 - 2e-5 <= t <= w1 + 2e-5:
            rows.append((t, None, names.get(p, str(p)), "woken"))
    for t, p in res.get("switches", []):
        if w0 - 2e-5 <= t <= w1 + 2e-5:
            rows.append((t, None, names.get(p, str(p)), "gets the CPU"))
    out = ["round trip %d of %s: %.1f µs" % (i, res["backend"],
                                             (w1 - w0) * 1e6)]
    for t0, t1, who, what in sorted(rows, key=lambda r: r[0]):
        out.append("%8.1f %8s  %-16s %s" % (
            (t0 - w0) * 1e6, "" if t1 is None else "+%.1f" % ((t1 - t0) * 1e6),
            who[:16], what))
    return "\n".join(out)


# --- the analysis -----------------------------------------------------------

class Seq:
    """Events of one kind, sorted by time: the first after a time."""

    def __init__(self, items, key=lambda x: x):
        self.items = sorted(items, key=key)
        self.keys = [key(x) for x in self.items]

    def after(self, t, until=None):
        import bisect
        i = bisect.bisect_left(self.keys, t)
        if i < len(self.items) and (until is None or self.keys[i] <= until):
            return self.items[i]
        return None

    def last_before(self, t, since=None):
        import bisect
        i = bisect.bisect_right(self.keys, t) - 1
        if i >= 0 and (since is None or self.keys[i] >= since):
            return self.items[i]
        return None

    def between(self, t0, t1):
        import bisect
        return self.items[bisect.bisect_left(self.keys, t0):
                          bisect.bisect_right(self.keys, t1)]


def tx_vq(trace):
    """The TX queue's pointer, from the guest's kicks (virtio_queue_notify
    n 1 vq P: queue 1 is TX for a single queue pair)."""
    for _, _, ev, a in trace:
        if ev == "virtio_queue_notify" and a.get("n") == "1":
            return a.get("vq")
    return None


STEPS_PASST = [
    ("A", "B", "host send → passt's epoll_wait returns"),
    ("B", "C", "passt: host socket → write to QEMU (inside passt)"),
    ("C", "D", "passt's write → QEMU main loop wakes (ppoll returns)"),
    ("D", "E", "ppoll return → frame read"),
]
STEPS_SLIRP = [
    ("A", "D", "host send → QEMU main loop wakes (ppoll returns)"),
    ("D", "E", "ppoll return → bytes read (slirp)"),
]
STEPS_MID = [
    ("E", "F", "read → RX buffer taken (virtqueue_pop RX)"),
    ("F", "G", "RX pop → guest interrupted (virtio_notify RX)"),
    ("G", "H", "guest: interrupt → TX kick (vCPU writes ioeventfd)"),
    ("H", "H2", "ioeventfd → main loop runs the kick (virtio_queue_notify)"),
    ("H2", "I", "kick handler → TX bottom half takes the reply"),
    ("I", "J", "TX pop → backend writes/sends"),
]
STEPS_PASST_BACK = [
    ("J", "K", "QEMU's write → passt's epoll_wait returns"),
    ("K", "L", "passt: QEMU's socket → send() to host (inside passt)"),
    ("L", "M", "passt's send → host recv() returns"),
]
STEPS_SLIRP_BACK = [
    ("J", "M", "slirp's send → host recv() returns"),
]


def chains(res):
    """One dict of boundary times per traced round trip."""
    calls = res.get("calls", [])
    trace = res.get("trace", [])
    fds = res.get("fds", {})
    main_tid = min(res.get("qemu_threads", {}) or [0])
    vcpus = {t for t, n in res.get("qemu_threads", {}).items()
             if n.startswith("CPU ")}
    passt = res.get("passt_pid")
    srv = res.get("server", {})
    is_passt = passt is not None
    qfd = fds.get("qemu_unix") if is_passt else fds.get("qemu_tcp")

    def sel(pred):
        return Seq([c for c in calls if pred(c)], key=lambda c: c["t0"])

    s_send = sel(lambda c: c["tid"] == srv.get("tid") and c["sc"] in WRITES
                 and c["fd"] == srv.get("fd"))
    s_recv = Seq([c for c in calls if c["tid"] == srv.get("tid")
                  and c["sc"] in READS and c["fd"] == srv.get("fd")
                  and (c["ret"] or 0) > 0], key=lambda c: c["t1"])
    q_wait = Seq([c for c in calls if c["tid"] == main_tid
                  and c["sc"] in WAITS], key=lambda c: c["t1"])
    q_wait_in = Seq([c for c in calls if c["tid"] == main_tid
                     and c["sc"] in WAITS], key=lambda c: c["t0"])
    q_read = Seq([c for c in calls if c["tid"] == main_tid and c["sc"] in READS
                  and c["fd"] == qfd and (c["ret"] or 0) > 0],
                 key=lambda c: c["t1"])
    calls_main_w = sel(lambda c: c["tid"] == main_tid and c["sc"] == "write"
                       and c["fd"] not in (qfd, res.get("log_fd")))
    v_write = sel(lambda c: c["tid"] in vcpus and c["sc"] in WRITES)
    q_write = sel(lambda c: c["tid"] == main_tid and c["sc"] in WRITES
                  and c["fd"] == qfd)
    p_wait = Seq([c for c in calls if c["tid"] == passt and c["sc"] in WAITS
                  and (c["ret"] or 0) > 0], key=lambda c: c["t1"])
    p_tap = sel(lambda c: c["tid"] == passt and c["sc"] in WRITES
                and c["fd"] == fds.get("passt_unix"))
    p_host = sel(lambda c: c["tid"] == passt and c["sc"] in WRITES
                 and c["fd"] == fds.get("passt_tcp"))
    p_tapread = Seq([c for c in calls if c["tid"] == passt
                     and c["sc"] in READS and c["fd"] == fds.get("passt_unix")
                     and (c["ret"] or 0) > 0], key=lambda c: c["t1"])

    # RX buffers are all device-writable (in_num > 0, out_num 0), TX ones
    # all driver-written: that tells the pops apart; an interrupt is for RX
    # when it is on another queue than the TX one (the control queue is
    # quiet during the round trips)
    txq = tx_vq(trace)
    rx = Seq([e for e in trace if e[2] == "virtqueue_pop"
              and e[3].get("in_num", "0") != "0"
              and e[3].get("out_num") == "0"], key=lambda e: e[0])
    rx_irq = Seq([e for e in trace if e[2] == "virtio_notify"
                  and e[3].get("vq") != txq], key=lambda e: e[0])
    kick = Seq([e for e in trace if e[2] == "virtio_queue_notify"
                and e[3].get("n") == "1"], key=lambda e: e[0])
    tx = Seq([e for e in trace if e[2] == "virtqueue_pop"
              and e[3].get("out_num", "0") != "0"], key=lambda e: e[0])

    wk_passt = Seq([t for t, p in res.get("wakeups", []) if p == passt])
    wk_main = Seq([t for t, p in res.get("wakeups", []) if p == main_tid])
    out = []
    for w0, w1 in res.get("windows", []):
        lo, hi = w0 - 1e-4, w1 + 1e-3
        ch = {"rtt": w1 - w0}
        c = s_send.after(lo, hi)
        ch["A"] = c["t0"] if c else w0
        t = ch["A"]
        if is_passt:
            c = p_wait.after(t, hi)
            if c:
                ch["B"] = t = c["t1"]
            c = p_tap.after(t, hi)
            if c:
                ch["C"] = t = c["t0"]
        c = q_read.after(t, hi)
        if c:
            ch["E"] = c["t1"]
            ch["E_start"] = c["t0"]
            w = q_wait.last_before(c["t0"], since=t)
            if w:
                ch["D"] = w["t1"]
            t = ch["E"]
        e = rx.after(t, hi)
        if e:
            ch["F"] = t = e[0]
        e = rx_irq.after(t, hi)
        if e:
            ch["G"] = t = e[0]
        c = v_write.after(t, hi)
        if c:
            ch["H"] = t = c["t0"]
        e = kick.after(t, hi)
        if e:
            ch["H2"] = t = e[0]
        e = tx.after(t, hi)
        if e:
            ch["I"] = t = e[0]
        c = q_write.after(t, hi)
        if c:
            ch["J"] = t = c["t0"]
        if is_passt:
            c = p_wait.after(t, hi)
            if c:
                ch["K"] = t = c["t1"]
            c = p_host.after(t, hi)
            if c:
                ch["L"] = t = c["t0"]
        c = s_recv.after(t, hi)
        if c:
            ch["M"] = c["t1"]
        # the last wakeup before a wait returned: kernel part, then the
        # time the woken thread waited for a CPU
        for a, b, seq, name in (("A", "B", wk_passt, "Bw"),
                                ("J", "K", wk_passt, "Kw"),
                                ("C" if is_passt else "A", "D", wk_main, "Dw")):
            if a in ch and b in ch:
                w = seq.last_before(ch[b], since=ch[a])
                if w is not None:
                    ch[name] = w
        # what crossed the backend's socket in this round trip
        ch["q_reads"] = [x["ret"] for x in q_read.between(lo, w1)]
        ch["q_writes"] = len(q_write.between(lo, w1))
        ch["p_wakes"] = len(p_wait.between(lo, w1)) if is_passt else None
        ch["p_tapreads"] = ([x["ret"] for x in p_tapread.between(lo, w1)]
                            if is_passt else None)
        ch["kicks"] = len(kick.between(lo, w1))
        ch["q_polls"] = len(q_wait.between(lo, w1))
        # the main thread's time out of ppoll (awake: running or waiting
        # for a CPU), between the round trip's ppoll returns and the next
        # ppoll entries
        busy = 0.0
        for c in q_wait.between(w0, w1):
            nxt = q_wait_in.after(c["t1"] + 1e-9)
            if nxt is not None:
                busy += min(nxt["t0"], w1) - c["t1"]
        ch["q_busy"] = busy
        ch["notifier_writes"] = len([c for c in calls_main_w.between(lo, w1)
                                     if c["ret"] == 8])
        ch["rx_pops"] = len(rx.between(lo, w1))
        ch["tx_pops"] = len(tx.between(lo, w1))
        ch["irqs"] = len(rx_irq.between(lo, w1))
        out.append(ch)
    return out


def runq_waits(res, tid, windows):
    """Median wait from a sched_wakeup of @tid to its sched_switch in,
    within the round trips, and how many per round trip."""
    wk = Seq([t for t, p in res.get("wakeups", []) if p == tid])
    sw = Seq([t for t, p in res.get("switches", []) if p == tid])
    waits, n = [], 0
    for w0, w1 in windows:
        for t in wk.between(w0, w1):
            s = sw.after(t, w1 + 1e-3)
            if s is not None:
                waits.append(s - t)
                n += 1
    if not waits:
        return None
    return statistics.median(waits) * 1e6, n / max(1, len(windows))


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def step_medians(chs, steps):
    rows = []
    for a, b, label in steps:
        d = [(c[b] - c[a]) * 1e6 for c in chs if a in c and b in c]
        rows.append((a + "→" + b, label, med(d), len(d)))
    return rows


def summarize(res):
    """The figures of one boot."""
    chs = chains(res)
    s = {"backend": res["backend"], "run": res["run"],
         "load": (res.get("load_before"), res.get("load_during"),
                  res.get("load_after")),
         "plain_us": med([x * 1e6 for x in res.get("plain_rtts", [])]),
         "n_plain": len(res.get("plain_rtts", [])),
         "traced_us": med([c["rtt"] * 1e6 for c in chs]),
         "n": len(chs)}
    passt = res.get("passt_pid") is not None
    steps = ((STEPS_PASST if passt else STEPS_SLIRP) + STEPS_MID +
             (STEPS_PASST_BACK if passt else STEPS_SLIRP_BACK))
    s["steps"] = step_medians(chs, steps)
    wake = [("A", "Bw", "  host send → passt woken (kernel)"),
            ("Bw", "B", "  passt woken → its epoll_wait returns (run queue)"),
            ("J", "Kw", "  QEMU's write → passt woken (kernel)"),
            ("Kw", "K", "  passt woken → its epoll_wait returns (run queue)"),
            ("C" if passt else "A", "Dw", "  → QEMU main thread woken"),
            ("Dw", "D", "  QEMU main woken → its ppoll returns (run queue)")]
    s["wake_steps"] = step_medians(chs, [w for w in wake if passt
                                         or "passt" not in w[2]])
    s["a_m"] = med([(c["M"] - c["A"]) * 1e6 for c in chs if "A" in c and "M" in c])
    s["groups"] = {
        "host → QEMU has the request (A→E)": med(
            [(c["E"] - c["A"]) * 1e6 for c in chs if "E" in c]),
        "QEMU read → guest interrupted (E→G)": med(
            [(c["G"] - c["E"]) * 1e6 for c in chs if "E" in c and "G" in c]),
        "guest: interrupt → kick (G→H)": med(
            [(c["H"] - c["G"]) * 1e6 for c in chs if "G" in c and "H" in c]),
        "kick → QEMU writes the reply (H→J)": med(
            [(c["J"] - c["H"]) * 1e6 for c in chs if "H" in c and "J" in c]),
        "QEMU write → host has the reply (J→M)": med(
            [(c["M"] - c["J"]) * 1e6 for c in chs if "J" in c and "M" in c]),
    }
    if passt:
        s["groups"]["of which inside passt (B→C + K→L)"] = med(
            [(c["C"] - c["B"] + c["L"] - c["K"]) * 1e6 for c in chs
             if all(k in c for k in "BCKL")])
        s["groups"]["of which waiting for passt to wake (A→B + J→K)"] = med(
            [(c["B"] - c["A"] + c["K"] - c["J"]) * 1e6 for c in chs
             if all(k in c for k in "ABJK")])
    s["counts"] = {
        "QEMU reads of the backend socket": med([len(c["q_reads"]) for c in chs]),
        "bytes per QEMU read (median)": med([x for c in chs for x in c["q_reads"]]),
        "QEMU writes to the backend socket": med([c["q_writes"] for c in chs]),
        "RX buffers taken (frames to guest)": med([c["rx_pops"] for c in chs]),
        "RX interrupts": med([c["irqs"] for c in chs]),
        "TX kicks": med([c["kicks"] for c in chs]),
        "TX frames (pops)": med([c["tx_pops"] for c in chs]),
        "QEMU main thread out of ppoll, µs": med(
            [c["q_busy"] * 1e6 for c in chs]),
        "QEMU main-loop wakeups (ppoll returns)": med(
            [c["q_polls"] for c in chs]),
        "eventfd writes by QEMU's main thread": med(
            [c["notifier_writes"] for c in chs]),
    }
    if passt:
        s["counts"]["passt epoll wakeups"] = med([c["p_wakes"] for c in chs])
        s["counts"]["passt reads of QEMU's socket"] = med(
            [len(c["p_tapreads"]) for c in chs])
    wins = res.get("windows", [])
    rq = {}
    for tid, name in res.get("qemu_threads", {}).items():
        if name.startswith(("qemu-system", "CPU ", "lat")):
            r = runq_waits(res, tid, wins)
            if r:
                rq["QEMU " + ("main" if tid == min(res["qemu_threads"])
                              else name)] = r
    if passt:
        r = runq_waits(res, res["passt_pid"], wins)
        if r:
            rq["passt"] = r
    r = runq_waits(res, res.get("server", {}).get("tid"), wins)
    if r:
        rq["server"] = r
    s["runq"] = rq
    return s


def f(v):
    return "-" if v is None else ("%.1f" % v if v < 100 else "%.0f" % v)


def report(sums):
    out = []
    for s in sums:
        out.append("== %s (run %d): %d traced round trips; load %s / %s / %s"
                   " (before / tracing / after)" % (
                       s["backend"], s["run"], s["n"], *s["load"]))
        out.append("   round trip, untraced: median %s µs over %d; traced: "
                   "%s µs (A→M %s µs)" % (f(s["plain_us"]), s["n_plain"],
                                          f(s["traced_us"]), f(s["a_m"])))
        for k, label, v, n in s["steps"]:
            out.append("   %-4s %-55s %8s µs  (n=%d)" % (k, label, f(v), n))
        out.append("   -- wakeups (only round trips where the thread slept):")
        for k, label, v, n in s.get("wake_steps", []):
            out.append("   %-6s %-53s %8s µs  (n=%d)" % (k, label, f(v), n))
        out.append("   -- grouped:")
        for label, v in s["groups"].items():
            out.append("      %-58s %8s µs" % (label, f(v)))
        out.append("   -- per round trip (medians):")
        for label, v in s["counts"].items():
            out.append("      %-58s %8s" % (label, f(v)))
        for who, (w, n) in s["runq"].items():
            out.append("      run-queue wait of %-39s %8s µs  (%.1f wakeups)"
                       % (who, f(w), n))
        out.append("")
    # side by side
    by = {}
    for s in sums:
        by.setdefault(s["backend"], []).append(s)
    if len(by) > 1:
        names = list(by)
        out.append("Side by side (median over boots of per-boot medians, µs):")
        out.append("| | " + " | ".join(names) + " |")
        out.append("|---|" + "---:|" * len(names))

        def row(label, get):
            out.append("| %s | %s |" % (label, " | ".join(
                f(med([get(s) for s in by[n]])) for n in names)))
        row("round trip, untraced", lambda s: s["plain_us"])
        row("round trip, traced", lambda s: s["traced_us"])
        for label in sums[0]["groups"]:
            row(label, lambda s, l=label: s["groups"].get(l))
        for label in ["of which inside passt (B→C + K→L)",
                      "of which waiting for passt to wake (A→B + J→K)"]:
            if label not in sums[0]["groups"]:
                row(label, lambda s, l=label: s["groups"].get(l))
        out.append("| load average (during) | %s |" % " | ".join(
            "; ".join(s["load"][1] or "?" for s in by[n]) for n in names))
    return "\n".join(out)


def main():
    build = os.path.join(TOP, "build")
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qemu", default=os.path.join(build, "qemu-build",
                                                   "qemu-system-x86_64"))
    ap.add_argument("--kernel", default=os.path.join(build, "guest", "vmlinuz"))
    ap.add_argument("--initrd", default=os.path.join(build, "guest",
                                                     "initramfs.cpio.gz"))
    ap.add_argument("--passt", default=os.path.join(build, "passt", "passt"))
    ap.add_argument("--backends", default="user,passt",
                    help="comma-separated, of user, passt, stream "
                    "(default %(default)s)")
    ap.add_argument("--runs", type=int, default=1,
                    help="boots per backend, in turn (default %(default)s)")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--plain-count", type=int, default=300,
                    help="untraced round trips (default %(default)s)")
    ap.add_argument("--count", type=int, default=300,
                    help="traced round trips (default %(default)s)")
    ap.add_argument("--limit", type=int, default=30,
                    help="at most this many seconds of traced round trips")
    ap.add_argument("--boot-timeout", type=int, default=300)
    ap.add_argument("--no-perf", action="store_true",
                    help="no perf record (QEMU's trace events only)")
    ap.add_argument("--no-trace", action="store_true",
                    help="no QEMU trace events (perf only)")
    ap.add_argument("--dump", action="store_true",
                    help="also -object filter-dump on the netdev (kept "
                    "with --keep)")
    ap.add_argument("--stacks", action="store_true",
                    help="also record the call stacks of the 8-byte writes "
                    "(eventfd kicks) of QEMU's main thread, in OUTDIR's "
                    "stacks.data (with --keep; perf report -i ...)")
    ap.add_argument("--copy-qemu", action="store_true",
                    help="run a copy of --qemu (with its qemu-bundle), for "
                    "a build tree that is being relinked")
    ap.add_argument("--outdir", default=os.path.join(build, "bench", "latency"))
    ap.add_argument("--keep", action="store_true",
                    help="keep each boot's traces in OUTDIR")
    ap.add_argument("--analyze", nargs="+", metavar="DIR",
                    help="only analyse boots kept with --keep (no netns "
                    "needed)")
    ap.add_argument("--timeline", type=int, metavar="N",
                    help="with --analyze: print every event of round trip N")
    args = ap.parse_args()
    if args.analyze:
        sums = []
        for d in args.analyze:
            res = load_kept(d)
            if args.timeline is not None:
                print(timeline(res, args.timeline))
            sums.append(summarize(res))
        print(report(sums))
        return 0
    if os.environ.get("PASST_QEMU_NETNS") != "inside":
        ap.error("run inside scripts/netns-run.sh")
    backends = [b for b in args.backends.split(",") if b]
    known = ("user", "passt", "passt-no-offload", "stream")
    if not backends or any(b not in known for b in backends):
        ap.error("backends: " + ", ".join(known))
    os.makedirs(args.outdir, exist_ok=True)
    os.chmod(args.outdir, 0o711)
    if args.copy_qemu:
        d = tempfile.mkdtemp(prefix="qemu-", dir=args.outdir)
        os.chmod(d, 0o711)
        shutil.copy2(args.qemu, os.path.join(d, "qemu-system-x86_64"))
        bundle = os.path.join(os.path.dirname(os.path.abspath(args.qemu)),
                              "qemu-bundle")
        os.symlink(bundle, os.path.join(d, "qemu-bundle"))
        args.qemu = os.path.join(d, "qemu-system-x86_64")
    print("latency: %s, %d CPUs, load %s; %s; %d run(s)" % (
        args.qemu, os.cpu_count(), loadavg(), ", ".join(backends), args.runs),
        flush=True)
    sums = []
    for run in range(1, args.runs + 1):
        for b in backends:
            res = boot(args, b, run)
            if res.get("error"):
                print("%s run %d: %s" % (b, run, res["error"]), flush=True)
            if res.get("windows"):
                s = summarize(res)
                sums.append(s)
                print(report([s]), flush=True)
            if res.get("_tmp"):
                shutil.rmtree(res["_tmp"], ignore_errors=True)
            elif res.get("kept"):
                print("kept: %s" % res["kept"], flush=True)
    if args.copy_qemu:
        shutil.rmtree(os.path.dirname(args.qemu), ignore_errors=True)
    if not sums:
        return 1
    print(report(sums), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
