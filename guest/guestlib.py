"""Helpers shared by the guest tests, the demo and the benchmarks: the
host services the guest talks to, the guest's initramfs, QMP, and
process checks.  Everything here runs inside the private network
namespace of scripts/netns-run.sh."""

import contextlib
import hashlib
import http.server
import json
import os
import re
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import traceback

HTTP_PORT = 8080
SINK_PORT = 9001
DNS_ANSWER = "198.51.100.7"        # what the fake resolver answers
FWD_TCP = 10001                    # host port forwarded to the guest's nc
FWD_IPERF = 10002                  # host port forwarded to guest iperf3
FWD_ECHO = 10003                   # the guest's echo server (hostfwd form)
FWD_UDP = 10004                    # the guest's UDP listener (hostfwd form)
BLOB_MIB = 64
BOOT_TIMEOUT = 420                 # seconds for one boot, all steps in


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, name, detail=""):
        self.n += 1
        if not ok:
            self.failed += 1
        line = "%s %d - %s" % ("ok" if ok else "not ok", self.n, name)
        print(line + (" # %s" % detail if detail else ""), flush=True)

    @contextlib.contextmanager
    def exceptions_fail(self, what):
        """An exception in the block is one failed test, @what, with the
        traceback on stderr: the run still ends with its plan and counts,
        and says where it stopped."""
        try:
            yield
        except Exception as e:
            traceback.print_exc()
            self.result(False, what, "%s: %s" % (type(e).__name__, e))

    def finish(self):
        print("1..%d" % self.n)
        print("%d passed, %d failed" % (self.n - self.failed, self.failed))
        return 1 if self.failed or not self.n else 0


# --- host services, on this namespace's loopback ---------------------------

class DualStack:
    """A server on "::" that takes IPv4 clients too."""
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class DualStackTCPServer(DualStack, socketserver.ThreadingTCPServer):
    pass


class DualStackUDPServer(DualStack, socketserver.ThreadingUDPServer):
    pass


class Sink(socketserver.BaseRequestHandler):
    """Reads a connection to its end and records the MD5 of what came."""
    digests = []

    def handle(self):
        md5 = hashlib.md5()
        while True:
            data = self.request.recv(1 << 16)
            if not data:
                break
            md5.update(data)
        Sink.digests.append(md5.hexdigest())


class Resolver(socketserver.BaseRequestHandler):
    """Answers every DNS query for an A record with DNS_ANSWER."""

    def handle(self):
        query, sock = self.request
        if len(query) < 12:
            return
        qend = query.index(b"\0", 12) + 5
        is_a = query[qend - 4:qend - 2] == b"\x00\x01"
        answer = (query[:2] + b"\x81\x80" + query[4:6] +
                  (b"\0\x01" if is_a else b"\0\0") + b"\0\0\0\0" +
                  query[12:qend])
        if is_a:
            answer += (b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" +
                       socket.inet_aton(DNS_ANSWER))
        sock.sendto(answer, self.client_address)


def serve_www(workdir):
    """A www folder with hello.txt in @workdir, and the host services."""
    www = os.path.join(workdir, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "hello.txt"), "w") as f:
        f.write("hello-from-host\n")
    start_services(www)
    return www


def start_services(www):
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(
        *a, directory=www)
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    servers = [DualStackTCPServer(("::", HTTP_PORT), handler),
               DualStackTCPServer(("::", SINK_PORT), Sink),
               DualStackUDPServer(("::", 53), Resolver)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    return servers


def guest_cmd(qemu, kernel, initrd, qmp_path=None):
    """QEMU's command line for the test guest, less its network: serial
    console on stdio, QMP on @qmp_path if given, $GUEST_ACCEL (TCG by
    default: KVM hangs early boot on the machines this was built on)."""
    cmd = [qemu, "-M", "q35", "-accel", os.environ.get("GUEST_ACCEL", "tcg"),
           "-m", "512M", "-display", "none", "-nodefaults", "-no-reboot",
           "-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
           "-append", "console=ttyS0 quiet panic=-1"]
    if qmp_path:
        cmd += ["-qmp", "unix:%s,server=on,wait=off" % qmp_path]
    return cmd


def serial_lines(qemu, log, reports):
    """The guest's console lines, kept in @log; its "REPORT key value"
    lines are also gathered into @reports."""
    for raw in qemu.stdout:
        line = raw.decode(errors="replace").rstrip("\r\n")
        log.append(line)
        if line.startswith("REPORT "):
            key, _, value = line[7:].partition(" ")
            reports[key] = value.strip()
        yield line


def make_blob(path):
    """64 MiB of reproducible data, and its MD5."""
    md5 = hashlib.md5()
    block = hashlib.sha512(b"passt").digest() * 128
    with open(path, "wb") as f:
        for i in range(BLOB_MIB * 1024 * 1024 // len(block)):
            chunk = hashlib.sha512(i.to_bytes(4, "big")).digest() + block[64:]
            f.write(chunk)
            md5.update(chunk)
    return md5.hexdigest()


def make_initrd(base, script, out):
    """The guest's initramfs with /test.sh appended as a second archive."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "test.sh"), "w") as f:
            f.write(script)
        extra = subprocess.run("echo ./test.sh | cpio -o -H newc --quiet | gzip",
                               shell=True, cwd=d, check=True,
                               stdout=subprocess.PIPE).stdout
    with open(base, "rb") as f, open(out, "wb") as o:
        o.write(f.read())
        o.write(extra)


class Qmp:
    def __init__(self, path, proc=None):
        """Connect to the QMP socket at @path, of the QEMU @proc (a Popen
        with its output on a pipe) if given: a QEMU that exits before it
        listens is reported with its own words, not as a missing socket."""
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if proc and proc.poll() is not None:
                    out = proc.stdout.read().decode(errors="replace")
                    raise RuntimeError("QEMU exited with status %d before "
                                       "its QMP socket was up: %s"
                                       % (proc.returncode, out.strip()))
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.f = self.sock.makefile("rw")
        self.f.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r or "error" in r:
                return r

    def hmp(self, line):
        return self.cmd("human-monitor-command",
                        **{"command-line": line}).get("return", "")


def passt_pids(info):
    return [int(p) for p in re.findall(r"type=passt,\S*connected to pid (\d+)",
                                       info)]


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (FileNotFoundError, IndexError):
        return False


def wait_for(cond, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


MIGRATE_TIMEOUT = 120

# What a guest must still have after a migration, whatever happened to the
# connections it had: (its REPORT key, the value, the test's name)
KEPT_AFTER_MIGRATION = [
    ("address-after", "inet 192.0.2.1",
     "destination: the guest keeps its address"),
    ("tcp4-after", "hello-from-host",
     "destination: a new TCP connection works"),
]


def leased(report):
    """Whether a lease REPORT gives the guest the host's own address, as
    passt does"""
    return "ip=192.0.2.1" in report


def check_reports(tap, reports, checks):
    """One TAP line per (key, value, name) of @checks: the guest reported
    @value under @key; a callable @value tells whether it passes."""
    for key, want, name in checks:
        got = reports.get(key, "")
        tap.result(want(got) if callable(want) else got == want, name, got)


def scratch_dir(prefix):
    """A fresh directory for one run's sockets, initrd and TMPDIR.  Under
    /tmp, not the checkout: a UNIX socket's path (QMP, the migration
    stream, passt's socket and the repair one QEMU makes for it in its
    TMPDIR) must fit in 107 bytes, which a deep checkout can break.  Mode
    0711: passt run by root reaches it as "nobody"."""
    d = tempfile.mkdtemp(prefix="passt-qemu-" + prefix, dir="/tmp")
    os.chmod(d, 0o711)
    return d


def leaves_nothing(pids, tmpdir):
    """Every passt of @pids ends within 5 s, and no private directory of
    the backend is left in @tmpdir (the QEMUs' TMPDIR)."""
    return (wait_for(lambda: not any(alive(p) for p in pids), 5) and
            not any(n.startswith("qemu-passt.") for n in os.listdir(tmpdir)))


def start_qemu(cmd, tmpdir):
    """QEMU in a session of its own (a signal to its process group stays
    there), its serial console on a pipe, and its own TMPDIR, so that
    what its passt leaves behind can be found."""
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env=dict(os.environ, TMPDIR=tmpdir))


def migrate(qmp, uri):
    """Migrate and wait, at most MIGRATE_TIMEOUT, for the outcome; returns
    the final status."""
    r = qmp.cmd("migrate", uri=uri)
    if "error" in r:
        return "refused: " + r["error"]["desc"]
    status = []

    def finished():
        info = qmp.cmd("query-migrate").get("return", {})
        status[:] = [info.get("status", "?"), info.get("error-desc", "")]
        return status[0] in ("completed", "failed", "cancelled")
    wait_for(finished, MIGRATE_TIMEOUT)
    return " ".join(s for s in status if s)


def stop_started(timers, procs):
    """Cancel the watchdog timers, and kill what of procs (Popen objects
    this run started, or None) is still running."""
    for t in timers:
        t.cancel()
    for p in procs:
        if p and p.poll() is None:
            p.kill()
            p.wait()


def migrate_checked(tap, qsrc, qdst, uri, dst_pids):
    """Migrate from qsrc to qdst; TAP: the migration completed, and the
    destination shows its own passt, the one it started with.  Returns
    the final status."""
    status = migrate(qsrc, uri)
    tap.result(status == "completed", "migration completed", status)
    info = qdst.hmp("info network")
    after = passt_pids(info)
    tap.result(after and alive(after[0]) and after == dst_pids and
               "vhost-user,connected to pid" in info,
               "destination: its own passt, shown in info network",
               info.strip().replace("\r\n", " | "))
    return status




VHOST_USER_MEM = ["-object", "memory-backend-memfd,id=mem,size=512M,share=on",
                  "-machine", "memory-backend=mem"]


def start_passt_by_hand(passt, tmpdir, extra=(), vhost_user=False):
    """passt on a socket in tmpdir, as users start it without the backend.
    Returns its PID (to end it with) and the -netdev stream arguments, or
    with @vhost_user those of -netdev vhost-user on a chardev that
    reconnects.  Call again to start another on the same socket."""
    piddir = os.path.join(tmpdir, "hand")
    os.makedirs(piddir, exist_ok=True)
    if os.geteuid() == 0:
        # as the backend does (passt_make_dir()): passt run by root writes
        # its PID file either as uid 0 without privileges or as nobody
        os.chown(piddir, 0, 65534)
        os.chmod(piddir, 0o730)
    sock = os.path.join(tmpdir, "passt.sock")
    pidfile = os.path.join(piddir, "passt.pid")
    if os.path.exists(sock):
        os.unlink(sock)     # left by a passt that was killed
    # passt says what it does even with --quiet: keep it for a failure
    if vhost_user:
        extra = ["--vhost-user"] + list(extra)
    r = subprocess.run([passt, "--quiet", "--socket", sock, "--pid", pidfile]
                       + list(extra), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if r.returncode:
        raise RuntimeError("passt by hand failed: " + r.stdout.decode())
    with open(pidfile) as f:
        pid = int(f.read())
    if vhost_user:
        return pid, VHOST_USER_MEM + [
            "-chardev", "socket,id=c0,path=%s,reconnect-ms=500" % sock,
            "-netdev", "vhost-user,id=n0,chardev=c0",
            "-device", "virtio-net-pci,netdev=n0,id=nic0"]
    return pid, ["-netdev", "stream,id=n0,server=off,addr.type=unix,"
                 "addr.path=" + sock, "-device", "virtio-net-pci,netdev=n0"]
