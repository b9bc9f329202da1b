#!/usr/bin/python3
"""TCP benchmark: many pipelining TCP connections against UDP, the idle timeout and the
connection cap, and what TCP load does to UDP latency.

  /usr/bin/python3 tests/bench/tcp_bench.py [--quick] [--entries N] [--seconds S]
                   [--conns N] [--pipeline K] [--threads N] [--keep]

1. Generates N (default 1M) distinct random IPv4 /32 addresses with
   tests/bench/gen_feed.c (built here), imports them into bl.bench with
   `dnsbl-loader import bl.bench FILE --format rbldnsd --no-progress`, writes a dnsperf
   query file (half listed, half unlisted addresses) and starts dnsbld (threads = 1,
   tcp_max_connections = 2000, tcp_idle_timeout = 5; 127.0.0.1, a free port). 500 listed
   and 500 unlisted addresses are checked over UDP and pipelined on one TCP connection.
2. UDP at full speed (dnsperf -c 2 -q 200 for --seconds): q/s and answers per dnsbld
   CPU-second (utime + stime of all its threads, /proc/PID/stat, before and after).
   Then UDP latency at a fixed rate (dnsperf -c 2 -q 2000 -Q 5000 -v: the verbose mode
   prints every answer's latency in microseconds; p50/p99/p99.9/max are computed from
   those lines, a lost query counting as infinitely late).
3. TCP at full speed: dnsperf -m tcp -c CONNS -q CONNS*K -T ceil(CONNS/256) (dnsperf
   opens one connection per client, at most 256 per thread, and pipelines: the -q
   queries in flight are spread over the connections; Little's law on its q/s and
   mean latency gives the queries in flight per connection actually reached). Reports
   q/s, answers per dnsbld CPU-second and both as a ratio to UDP.
4. The fixed-rate UDP latency run again while a full-speed TCP run goes on, and once
   more (for a shorter time, under the idle timeout) while tcp_max_connections idle TCP
   connections are open.
5. Connection cap: opens cap + 50 connections, 100 at a time, with one query on each
   as soon as it is connected (served ones are asked again every idle timeout / 3, so a
   slow accept cannot let the idle timeout close them); checks that exactly cap are
   served (the others closed by dnsbld or never answered: "at most cap", and none
   refused below the cap), that dnsbld holds at most cap connections (its descriptors
   that are TCP sockets on the port, /proc/PID/fd and /proc/net/tcp), that UDP answers
   meanwhile, and that once they are closed cap new connections are served again.
   Idle timeout: an idle connection (and one idle
   after a query) is closed within timeout + 1.5 s and not before timeout - 0.5 s; a
   connection sending one query a second is still served after timeout + 2.5 s.
6. Prints Markdown tables and the machine line. Exit status 1 when a functional check
   fails (wrong answers, TCP queries lost or answered with an unexpected id, TCP
   connections closed under load, cap, idle timeout, dnsbld not exiting 0 on SIGTERM);
   rates and latencies are reported, never enforced.

Everything runs on loopback; every subprocess has a time limit; the work directory
(under /tmp unless --workdir) is deleted at the end unless --keep.
"""

import argparse
import errno
import math
import os
import pathlib
import platform
import random
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import dnsbltest as t  # noqa: E402  (binaries, free ports, config, a running dnsbld)
from benchutil import Failed, cpu_model, head_lines, logger, proc_cpu, run  # noqa: E402
import dns.exception  # noqa: E402
import dns.message  # noqa: E402
import dns.rcode  # noqa: E402

log = logger("[bench]")

DNSPERF = "/usr/bin/dnsperf"
GEN_SRC = REPO / "tests" / "bench" / "gen_feed.c"
ZONE = "bl.bench"
LISTED_A = "127.0.0.2"
TEST_POINT = t.rev("127.0.0.2", ZONE)      # listed in every IP zone (RFC 5782)
UDP_CLIENT = ["-c", "2", "-q", "200"]     # dnsperf's UDP load, as in import_bench.py
# fixed rate: room to keep the rate when answers are slow; an answer later than 1 s
# counts as lost (and dnsperf does not wait 5 s for it at the end)
LAT_CLIENT = ["-c", "2", "-q", "2000", "-t", "1"]
PERF_CONNS_PER_THREAD = 256               # dnsperf opens at most this many per thread
CHECK_SAMPLE = 500                        # addresses checked each way, UDP and TCP
CAP_EXTRA = 50                            # connections opened over the cap
LISTED_SHARE_TOLERANCE = 0.02             # NOERROR share under load: 0.5 +- this


def zone(name):
    return {"type": "ip", "policy": "block", "ttl": 300, "a": LISTED_A,
            "soa": f"ns1.{name}. hostmaster.{name}. 3600 600 86400 120",
            "ns": f"ns1.{name}."}


# --------------------------------------------------------------------------------------
# CPU time and sockets, from /proc

CLK_TCK = os.sysconf("SC_CLK_TCK")


def machine_busy():
    """CPU seconds all CPUs spent not idle so far (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is inside user)
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK_TCK


def server_conns(pid, port):
    """TCP connections to port that process pid holds open: its descriptors that are
    TCP sockets of /proc/net/tcp{,6} with that local port, not listening."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = pathlib.Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if len(f) > 9 and f[3] != "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f[9])
    n = 0
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return -1
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            n += 1
    return n


def listen_overflows():
    """TcpExt ListenOverflows (system-wide): handshakes dropped because a listener's
    accept queue was full (the client retransmits, after 1 s at first)."""
    try:
        lines = pathlib.Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            d = dict(zip(names.split()[1:], map(int, values.split()[1:])))
            return d.get("ListenOverflows", 0)
    return 0


def udp_rcvbuf_errors():
    """Udp RcvbufErrors (system-wide): datagrams dropped because a socket's receive
    buffer was full."""
    try:
        lines = pathlib.Path("/proc/net/snmp").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("Udp:"):
            return dict(zip(names.split()[1:], map(int, values.split()[1:]))).get(
                "RcvbufErrors", 0)
    return 0


class Meter:
    """dnsbld CPU, machine CPU and wall time over a phase."""

    def __init__(self, pid):
        self.pid = pid
        self.t0 = time.monotonic()
        self.cpu0 = proc_cpu(pid)
        self.busy0 = machine_busy()
        self.ovf0 = listen_overflows()
        self.rcvbuf0 = udp_rcvbuf_errors()

    def stop(self):
        return {"wall": time.monotonic() - self.t0, "srv_cpu": proc_cpu(self.pid) - self.cpu0,
                "busy": machine_busy() - self.busy0, "overflows": listen_overflows() - self.ovf0,
                "udp_drops": udp_rcvbuf_errors() - self.rcvbuf0}


# --------------------------------------------------------------------------------------
# dnsperf

class Perf:
    """A dnsperf run; finish() reaps it with wait4 (for its own CPU time) and parses
    its report."""

    def __init__(self, args, seconds, out):
        self.cmd = [DNSPERF, *map(str, args), "-l", str(seconds)]
        self.seconds = seconds
        self.out = pathlib.Path(out)
        f = open(self.out, "wb")
        try:
            self.p = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=f,
                                      stderr=subprocess.STDOUT)
        finally:
            f.close()
        self.t0 = time.monotonic()
        self.ru = None

    def running(self):
        return self.p.returncode is None and self._reap(os.WNOHANG)

    def _reap(self, flags):
        """True while still running."""
        pid, status, ru = os.wait4(self.p.pid, flags)
        if pid == 0:
            return True
        self.p.returncode = os.waitstatus_to_exitcode(status)
        self.ru = ru
        return False

    def finish(self, grace=30, on_wait=None):
        deadline = self.t0 + self.seconds + grace
        while self.running():
            if time.monotonic() > deadline:
                self.p.send_signal(signal.SIGINT)   # prints its statistics
                end = time.monotonic() + 5
                while self.running() and time.monotonic() < end:
                    time.sleep(0.05)
                if self.running():
                    self.p.kill()
                    self._reap(0)
                raise Failed(f"dnsperf still running {grace}s after its -l ran out: "
                             f"{' '.join(self.cmd)}\n{self.text()[-2000:]}")
            if on_wait:
                on_wait()
            time.sleep(0.05)
        res = parse_dnsperf(self.text(), self.p.returncode)
        res["client_cpu"] = self.ru.ru_utime + self.ru.ru_stime
        res["cmd"] = " ".join(self.cmd[1:])
        return res

    def kill(self):
        if self.p.returncode is None:
            try:
                self.p.kill()
                self._reap(0)
            except (OSError, ChildProcessError):
                pass

    def text(self):
        return self.out.read_text(errors="replace")


def parse_dnsperf(text, rc):
    def num(label, conv=int, src=text):
        m = re.search(rf"^\s*{label}:\s*([0-9.]+)", src, re.M)
        return conv(m.group(1)) if m else None

    stats, _, conn = text.partition("Connection Statistics:")
    res = {"sent": num("Queries sent", src=stats),
           "completed": num("Queries completed", src=stats),
           "lost": num("Queries lost", src=stats),
           "interrupted": num("Queries interrupted", src=stats) or 0,
           "qps": num("Queries per second", float, stats),
           "runtime": num(r"Run time \(s\)", float, stats),
           "latency": num(r"Average Latency \(s\)", float, stats),
           "reconnections": num("Reconnections", src=conn) or 0,
           "unexpected": len(re.findall(r"unexpected \(maybe timed out\) id", text)),
           "rcodes": {}, "rc": rc, "text": text}
    m = re.search(r"^\s*Average Latency \(s\):\s*([0-9.]+) \(min ([0-9.]+), max ([0-9.]+)\)",
                  conn, re.M)
    res["connect"] = (float(m.group(1)), float(m.group(3))) if m else None
    m = re.search(r"^\s*Response codes:\s*(.*)$", stats, re.M)
    if m:
        for code, count in re.findall(r"([A-Z0-9]+) (\d+) \(", m.group(1)):
            res["rcodes"][code] = int(count)
    if res["sent"] is None or res["completed"] is None or res["lost"] is None:
        raise Failed(f"cannot parse dnsperf output (exit {rc}):\n{text[-3000:]}")
    # -v: "> NOERROR 1.2.0.192.bl.bench A 0.000307", one line per answer
    res["latencies"] = [float(x) for x in re.findall(r"^> \S+ \S+ \S+ ([0-9.]+)$", text, re.M)]
    return res


def answer_problems(res, what, tcp):
    """Functional problems of a dnsperf run: wrong response codes or share of listed
    answers, and for TCP any lost query, unexpected id or reconnection."""
    probs = []
    if res["rc"] != 0:
        probs.append(f"{what}: dnsperf exit {res['rc']}")
    if res["completed"] == 0:
        probs.append(f"{what}: no query answered")
    bad = {k: v for k, v in res["rcodes"].items() if k not in ("NOERROR", "NXDOMAIN")}
    if bad:
        probs.append(f"{what}: response codes {bad}")
    if res["completed"] >= 10000:
        share = res["rcodes"].get("NOERROR", 0) / res["completed"]
        if abs(share - 0.5) > LISTED_SHARE_TOLERANCE:
            probs.append(f"{what}: {share:.1%} NOERROR, expected 50% (half the queried "
                         f"addresses are listed)")
    if tcp:
        if res["lost"]:
            probs.append(f"{what}: {res['lost']} TCP queries lost")
        if res["unexpected"]:
            probs.append(f"{what}: {res['unexpected']} answers with an unexpected id")
        if res["reconnections"]:
            probs.append(f"{what}: {res['reconnections']} reconnections (dnsbld closed "
                         f"connections under load, below the cap)")
    return probs


def percentiles(res):
    """p50, p99, p99.9, max of a -v run's latencies (seconds); a lost query counts as
    infinitely late."""
    lat = sorted(res["latencies"]) + [math.inf] * (res["lost"] or 0)
    if not lat:
        return None

    def pct(p):
        return lat[min(len(lat) - 1, max(0, math.ceil(p / 100 * len(lat)) - 1))]

    return {"p50": pct(50), "p99": pct(99), "p999": pct(99.9), "max": lat[-1], "n": len(lat)}


# --------------------------------------------------------------------------------------
# Answer checks over UDP and (pipelined) TCP

def check_udp(srv, listed, unlisted):
    wrong = []
    for ip, want in [(ip, True) for ip in listed] + [(ip, False) for ip in unlisted]:
        r = None
        for _ in range(3):
            try:
                r = srv.ask(t.rev(ip, ZONE), "A", timeout=2.0)
                break
            except dns.exception.Timeout:
                continue
        if r is None:
            wrong.append(f"{ip}: no UDP answer")
        elif want and (r.rcode() != dns.rcode.NOERROR or t.a_values(r) != {LISTED_A}):
            wrong.append(f"{ip} (listed): UDP {dns.rcode.to_text(r.rcode())} "
                         f"{sorted(t.a_values(r))}")
        elif not want and r.rcode() != dns.rcode.NXDOMAIN:
            wrong.append(f"{ip} (not listed): UDP {dns.rcode.to_text(r.rcode())}")
    return wrong


def frame(wire):
    return struct.pack("!H", len(wire)) + wire


def check_tcp_pipelined(srv, listed, unlisted, timeout=15):
    """All queries written on one connection at once (by a thread, so neither side
    can block the other), answers matched by id."""
    cases = [(ip, True) for ip in listed] + [(ip, False) for ip in unlisted]
    qs = [dns.message.make_query(t.rev(ip, ZONE), "A", id=i) for i, (ip, _) in enumerate(cases)]
    payload = b"".join(frame(q.to_wire()) for q in qs)
    wrong = []
    with srv.tcp_connect(timeout=timeout) as s:
        sender = threading.Thread(target=s.sendall, args=(payload,), daemon=True)
        sender.start()
        got = {}
        try:
            while len(got) < len(qs):
                wire = t.tcp_recv(s)
                if wire is None:
                    break
                r = dns.message.from_wire(wire)
                if r.id in got or r.id >= len(qs):
                    wrong.append(f"TCP: unexpected or repeated id {r.id}")
                got[r.id] = r
        except (OSError, dns.exception.DNSException) as e:
            wrong.append(f"TCP: {e!r} after {len(got)} of {len(qs)} answers")
        sender.join(5)
    missing = len(qs) - len([i for i in got if i < len(qs)])
    if missing:
        wrong.append(f"TCP: {missing} of {len(qs)} pipelined queries not answered")
    for i, (ip, want) in enumerate(cases):
        r = got.get(i)
        if r is None:
            continue
        if r.question[0].name != qs[i].question[0].name:
            wrong.append(f"TCP: answer {i} is for {r.question[0].name}, asked {ip}")
        elif want and (r.rcode() != dns.rcode.NOERROR or t.a_values(r) != {LISTED_A}):
            wrong.append(f"{ip} (listed): TCP {dns.rcode.to_text(r.rcode())}")
        elif not want and r.rcode() != dns.rcode.NXDOMAIN:
            wrong.append(f"{ip} (not listed): TCP {dns.rcode.to_text(r.rcode())}")
    return wrong


# --------------------------------------------------------------------------------------
# Many raw connections (cap and idle timeout)

def open_conns(port, n, batch=100, wait=3.0):
    """Opens n connections, batch at a time (non-blocking connects, so a server that
    stops accepting costs at most `wait` per batch). Returns (sockets, failed)."""
    socks, failed = [], 0
    for start in range(0, n, batch):
        pend = {}
        poller = select.poll()
        for _ in range(start, min(n, start + batch)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex(("127.0.0.1", port))
            if err not in (0, errno.EINPROGRESS):
                failed += 1
                s.close()
                continue
            pend[s.fileno()] = s
            poller.register(s, select.POLLOUT)
        deadline = time.monotonic() + wait
        while pend and time.monotonic() < deadline:
            for fd, _ in poller.poll(100):
                s = pend.pop(fd, None)
                if s is None:
                    continue
                poller.unregister(fd)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    failed += 1
                    s.close()
                else:
                    socks.append(s)
        for s in pend.values():
            failed += 1
            s.close()
    return socks, failed


def closed_now(socks):
    """The sockets of socks the server has already closed (EOF or reset)."""
    poller = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for s in socks:
        poller.register(s, select.POLLIN)
    out = set()
    for fd, _ in poller.poll(0):
        s = by_fd[fd]
        try:
            if s.recv(1, socket.MSG_PEEK) == b"":
                out.add(s)
        except OSError:
            out.add(s)
    return out


def query_each(socks, wait=3.0):
    """Sends one query for the test point on each socket and waits up to `wait` for the
    answers. Returns (answered, closed, silent, wrong) lists of sockets / texts."""
    q = {}
    answered, closed, wrong = [], [], []
    poller = select.poll()
    bufs = {}
    for i, s in enumerate(socks):
        qid = i & 0xFFFF
        try:
            s.send(frame(dns.message.make_query(TEST_POINT, "A", id=qid).to_wire()))
        except OSError:
            closed.append(s)
            continue
        q[s.fileno()] = (s, qid)
        bufs[s.fileno()] = b""
        poller.register(s, select.POLLIN)
    deadline = time.monotonic() + wait
    while q and time.monotonic() < deadline:
        for fd, _ in poller.poll(100):
            if fd not in q:
                continue
            s, qid = q[fd]
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                closed.append(s)
            else:
                bufs[fd] += data
                b = bufs[fd]
                if len(b) < 2 or len(b) < 2 + struct.unpack("!H", b[:2])[0]:
                    continue
                r = dns.message.from_wire(b[2:2 + struct.unpack("!H", b[:2])[0]])
                if r.id != qid or t.a_values(r) != {LISTED_A}:
                    wrong.append(f"id {r.id} (sent {qid}): {dns.rcode.to_text(r.rcode())} "
                                 f"{sorted(t.a_values(r))}")
                answered.append(s)
            del q[fd]
            poller.unregister(fd)
    silent = [s for s, _ in q.values()]
    return answered, closed, silent, wrong


def cap_round(port, n, idle_timeout, batch=100):
    """Opens n connections, batch at a time, and asks one query on each as soon as it
    is connected: served (answered), closed by the server, or never answered (3 s).
    Served connections are asked again whenever idle_timeout / 3 has passed, so the
    idle timeout cannot close them however long dnsbld takes to accept the rest; one
    of them closed or silent then is a drop. Returns a dict; the sockets in its
    "served" and "silent" lists are still open, for the caller to close."""
    r = {"served": [], "silent": [], "closed": 0, "failed": 0, "dropped": 0, "wrong": []}
    t0 = last_keep = time.monotonic()
    for start in range(0, n, batch):
        new, failed = open_conns(port, min(batch, n - start), batch)
        r["failed"] += failed
        ans, closed, silent, wrong = query_each(new)
        close_all(closed)
        r["served"] += ans
        r["silent"] += silent
        r["closed"] += len(closed)
        r["wrong"] += wrong
        if time.monotonic() - last_keep > idle_timeout / 3:
            r["served"] = keep_alive(r, r["served"])
            last_keep = time.monotonic()
    r["open_s"] = time.monotonic() - t0
    return r


def keep_alive(r, served):
    """One more query on each served connection; returns those still served."""
    ans, closed, silent, wrong = query_each(served)
    r["dropped"] += len(closed) + len(silent)
    r["wrong"] += wrong
    close_all(closed + silent)
    return ans


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def wait_conns(srv, timeout):
    """Waits until dnsbld holds no TCP connection; returns how many it still holds."""
    deadline = time.monotonic() + timeout
    n = server_conns(srv.proc.pid, srv.port)
    while n > 0 and time.monotonic() < deadline:
        time.sleep(0.1)
        n = server_conns(srv.proc.pid, srv.port)
    return n


# --------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=None, help="zone size (default 1M)")
    ap.add_argument("--seconds", type=int, default=None,
                    help="length of each dnsperf run (default 8)")
    ap.add_argument("--conns", type=int, default=500,
                    help="TCP connections of the full-speed TCP load (default 500)")
    ap.add_argument("--pipeline", type=int, default=10,
                    help="TCP queries allowed in flight per connection (dnsperf -q "
                         "CONNS*K; default 10)")
    ap.add_argument("--threads", type=int, default=1, help="dnsbld threads (default 1)")
    ap.add_argument("--cap", type=int, default=2000,
                    help="tcp_max_connections (default 2000; must be over --conns)")
    ap.add_argument("--idle-timeout", type=int, default=5,
                    help="tcp_idle_timeout in seconds (default 5)")
    ap.add_argument("--udp-rate", type=int, default=5000,
                    help="q/s of the UDP latency runs (default 5000)")
    ap.add_argument("--queries", type=int, default=100_000,
                    help="lines of the dnsperf query file (default 100k)")
    ap.add_argument("--quick", action="store_true",
                    help="100k entries, 3 s runs (unless given)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    ap.add_argument("--workdir", default=None, help="parent of the work directory (default /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    if a.entries is None:
        a.entries = 100_000 if a.quick else 1_000_000
    if a.seconds is None:
        a.seconds = 3 if a.quick else 8
    if a.entries < 2 * CHECK_SAMPLE or a.queries < 1000 or a.seconds < 1:
        ap.error(f"--entries must be at least {2 * CHECK_SAMPLE}, --queries at least 1000, "
                 "--seconds at least 1")
    if a.conns < 1 or a.pipeline < 1 or a.cap <= a.conns or a.idle_timeout < 3 \
            or a.cap + CAP_EXTRA > 65536:
        ap.error("need --conns >= 1, --pipeline >= 1, --conns < --cap <= 65486, "
                 "--idle-timeout >= 3")
    seed = a.seed if a.seed is not None else random.randrange(1, 2**63)

    for p in (t.DNSBLD, t.LOADER, DNSPERF):
        if not os.access(p, os.X_OK):
            log(f"missing {p} (make all; apt-get install dnsperf)")
            return 2
    # dnsbld (started by us) and this script each need about cap + 100 descriptors
    need = a.cap + CAP_EXTRA + a.conns + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        log(f"the open files limit is {hard}; this bench needs {need} (ulimit -n)")
        return 2
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))

    if a.workdir:
        pathlib.Path(a.workdir).mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="dnsbl-tcpbench-", dir=a.workdir))
    srv = None
    perfs = []
    socks = []
    udp_runs, tcp_runs = [], []   # (name, dnsperf result) for the answer checks
    problems, notes = [], []
    R = {}            # results for the report
    checks = []       # (name, passed, detail)

    def check(name, ok, detail):
        checks.append((name, ok, detail))
        log(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")
        if not ok:
            problems.append(f"{name}: {detail}")

    def perf(args, seconds, name):
        p = Perf(["-s", "127.0.0.1", "-p", srv.port, "-d", qfile, *args], seconds,
                 work / f"dnsperf-{name}.txt")
        perfs.append(p)
        return p

    def tcp_args():
        threads = max(1, math.ceil(a.conns / PERF_CONNS_PER_THREAD))
        return ["-m", "tcp", "-c", a.conns, "-q", a.conns * a.pipeline, "-T", threads]

    def latency_args():
        return [*LAT_CLIENT, "-Q", a.udp_rate, "-v"]

    try:
        # ---- 1. data, store, server
        rng = random.Random(seed)
        log(f"work directory {work}, seed {seed}")
        gen = work / "gen_feed"
        run(["cc", "-O2", "-std=gnu11", "-o", gen, GEN_SRC], timeout=120)
        half = a.queries // 2
        feed, not_feed = work / "feed.txt", work / "not-feed.txt"
        run([gen, seed, a.entries, feed, max(half, CHECK_SAMPLE), not_feed], timeout=300)
        listed = head_lines(feed, min(a.entries, max(half, CHECK_SAMPLE)))
        unlisted = head_lines(not_feed, max(half, CHECK_SAMPLE))
        qs = [f"{t.rev(ip, ZONE)} A" for ip in
              (listed * (half // len(listed) + 1))[:half] + unlisted[:half]]
        rng.shuffle(qs)
        qfile = work / "queries.txt"
        qfile.write_text("\n".join(qs) + "\n")

        srv = t.Dnsbl(work / "srv", zones={ZONE: zone(ZONE)},
                      server_opts={"threads": a.threads, "tcp_max_connections": a.cap,
                                   "tcp_idle_timeout": a.idle_timeout})
        t0 = time.monotonic()
        r = srv.loader("import", ZONE, feed, "--format", "rbldnsd", "--no-progress",
                       timeout=60 + a.entries / 50_000)
        if r.returncode != 0:
            raise Failed(f"dnsbl-loader import: exit {r.returncode}\n{r.stderr}{r.stdout}")
        log(f"imported {a.entries} entries in {time.monotonic() - t0:.1f}s")
        srv.start()
        pid = srv.proc.pid
        log(f"dnsbld pid {pid} on 127.0.0.1:{srv.port}, threads {a.threads}, "
            f"tcp_max_connections {a.cap}, tcp_idle_timeout {a.idle_timeout}")
        sample_l = rng.sample(listed, CHECK_SAMPLE)
        sample_u = rng.sample(unlisted, CHECK_SAMPLE)
        wrong = check_udp(srv, sample_l, sample_u) + check_tcp_pipelined(srv, sample_l, sample_u)
        check("answers before the load", not wrong,
              f"{len(wrong)} wrong, e.g. {wrong[:3]}" if wrong else
              f"{2 * CHECK_SAMPLE} over UDP, {2 * CHECK_SAMPLE} pipelined on one TCP "
              f"connection, all correct")

        # ---- 2. UDP alone: full speed, then latency at a fixed rate
        log(f"UDP at full speed, {a.seconds}s")
        m = Meter(pid)
        res = perf(UDP_CLIENT, a.seconds, "udp").finish()
        R["udp"] = (res, m.stop())
        udp_runs.append(("UDP full speed", res))

        log(f"UDP latency at {a.udp_rate} q/s, {a.seconds}s")
        m = Meter(pid)
        res = perf(latency_args(), a.seconds, "lat-alone").finish()
        R["lat_alone"] = (res, m.stop())
        udp_runs.append(("UDP latency alone", res))

        # ---- 3. TCP at full speed
        log(f"TCP at full speed: {a.conns} connections, up to {a.pipeline} queries in "
            f"flight each, {a.seconds}s")
        held = [0]
        last_sample = [0.0]

        def sample():
            if time.monotonic() - last_sample[0] >= 0.25:
                last_sample[0] = time.monotonic()
                held[0] = max(held[0], server_conns(pid, srv.port))

        m = Meter(pid)
        res = perf(tcp_args(), a.seconds, "tcp").finish(on_wait=sample)
        R["tcp"] = (res, m.stop(), held[0])
        tcp_runs.append(("TCP full speed", res))
        wait_conns(srv, 5)

        # ---- 4. UDP latency under TCP load
        log(f"UDP latency at {a.udp_rate} q/s while the TCP load runs, {a.seconds}s")
        held[0] = 0
        m = Meter(pid)
        tcp_load = perf(tcp_args(), a.seconds + 3, "tcp-bg")
        deadline = time.monotonic() + 3
        while server_conns(pid, srv.port) < a.conns and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        lat = perf(latency_args(), a.seconds, "lat-tcp")
        res = lat.finish(on_wait=sample)
        bg = tcp_load.finish(on_wait=sample)
        R["lat_tcp"] = (res, m.stop(), bg, held[0])
        udp_runs.append(("UDP latency under TCP load", res))
        tcp_runs.append(("TCP load during the UDP latency run", bg))
        for what, runs, tcp in (("TCP", tcp_runs, True), ("UDP", udp_runs, False)):
            probs = [x for name, res in runs for x in answer_problems(res, name, tcp)]
            total = sum(res["completed"] for _, res in runs)
            rc = {}
            for _, res in runs:
                for k, v in res["rcodes"].items():
                    rc[k] = rc.get(k, 0) + v
            ok_text = (f"{total:,} answers in {len(runs)} dnsperf runs: "
                       + ", ".join(f"{k} {v:,}" for k, v in sorted(rc.items())))
            if tcp:
                ok_text += (", 0 lost, 0 unexpected ids, 0 reconnections")
            else:
                ok_text += (f", {sum(res['lost'] for _, res in runs):,} lost (reported, "
                            f"not checked)")
            check(f"{what} answers under load", not probs, "; ".join(probs) or ok_text)
        wait_conns(srv, 5)

        # ---- 5. connection cap
        n = a.cap + CAP_EXTRA
        log(f"connection cap: opening {n} connections (cap {a.cap}), a query on each")
        left = wait_conns(srv, a.idle_timeout + 3)
        if left:
            notes.append(f"dnsbld still held {left} connections after the TCP load")
        m = Meter(pid)
        cr = cap_round(srv.port, n, a.idle_timeout)
        socks = cr["served"] + cr["silent"]
        cr["served"] = keep_alive(cr, cr["served"])
        srv_held = server_conns(pid, srv.port)
        udp_wrong = check_udp(srv, sample_l[:50], sample_u[:50])
        cr["overflows"] = m.stop()["overflows"]
        R["cap1"] = cr
        served = len(cr["served"])
        detail = (f"{n} opened in {cr['open_s']:.1f}s: {served} served, {cr['closed']} "
                  f"closed by dnsbld, {len(cr['silent'])} never answered, {cr['failed']} "
                  f"connects failed, {cr['dropped']} served then dropped; dnsbld held "
                  f"{srv_held} connections; listen queue overflows {cr['overflows']}")
        if served < a.cap:
            detail += f"; refused below the cap: {a.cap - served}"
        if cr["wrong"]:
            detail += f"; wrong answers: {cr['wrong'][:3]}"
        check(f"cap: {n} connections, cap {a.cap}",
              served == a.cap and srv_held <= a.cap and not cr["wrong"] and not cr["dropped"],
              detail)
        check("UDP while the cap is reached", not udp_wrong,
              "100 queries, all correct" if not udp_wrong else f"{udp_wrong[:3]}")
        close_all(socks)
        socks = []

        left = wait_conns(srv, a.idle_timeout + 3)
        m = Meter(pid)
        cr = cap_round(srv.port, a.cap, a.idle_timeout)
        socks = cr["served"] + cr["silent"]
        cr["overflows"] = m.stop()["overflows"]
        R["cap2"] = cr
        served = len(cr["served"])
        check("cap: connections served again after closing",
              served == a.cap and not cr["wrong"] and not cr["dropped"] and not left,
              f"{served} of {a.cap} new connections served, opened in {cr['open_s']:.1f}s "
              f"({cr['closed']} closed, {len(cr['silent'])} not answered, {cr['failed']} "
              f"connects failed, {cr['dropped']} dropped; listen queue overflows "
              f"{cr['overflows']})"
              + (f"; dnsbld still held {left} of the closed connections" if left else "")
              + (f"; wrong: {cr['wrong'][:3]}" if cr["wrong"] else ""))
        idle_secs = a.idle_timeout - 2.5
        if idle_secs >= 1 and served == a.cap:
            cr["served"] = keep_alive(cr, cr["served"])
            log(f"UDP latency at {a.udp_rate} q/s with {len(cr['served'])} idle TCP "
                f"connections open, {idle_secs:g}s")
            held[0] = 0
            last_sample[0] = 0.0
            m = Meter(pid)
            res = perf(latency_args(), idle_secs, "lat-idle").finish(on_wait=sample)
            R["lat_idle"] = (res, m.stop(), held[0])
            problems.extend(answer_problems(res, "UDP latency with idle TCP connections",
                                            tcp=False))
        close_all(socks)
        socks = []

        # ---- idle timeout
        wait_conns(srv, a.idle_timeout + 3)
        log(f"idle timeout ({a.idle_timeout}s): an idle connection, one idle after a query, "
            f"one sending a query a second")
        idle_c = srv.tcp_connect()
        t_idle = time.monotonic()
        after_q = srv.tcp_connect()
        t.tcp_send(after_q, dns.message.make_query(TEST_POINT, "A", id=1).to_wire())
        after_ok = t.tcp_recv(after_q) is not None
        t_after = time.monotonic()
        active = srv.tcp_connect()
        socks = [idle_c, after_q, active]
        closed_at = {}
        active_fail = None
        next_q, qid = time.monotonic(), 100
        end = t_idle + a.idle_timeout + 2.5
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_q and active_fail is None:
                qid += 1
                try:
                    active.settimeout(1.0)
                    t.tcp_send(active, dns.message.make_query(TEST_POINT, "A", id=qid).to_wire())
                    wire = t.tcp_recv(active)
                    if wire is None:
                        active_fail = f"closed after {now - t_idle:.2f}s"
                    elif dns.message.from_wire(wire).id != qid:
                        active_fail = f"answer with id {dns.message.from_wire(wire).id}"
                except OSError as e:
                    active_fail = f"{e!r} after {now - t_idle:.2f}s"
                next_q += 1.0
            for name, s in (("idle", idle_c), ("after", after_q)):
                if name not in closed_at and s in closed_now([s]):
                    closed_at[name] = time.monotonic()
            time.sleep(0.02)
        limit = a.idle_timeout + 1.5
        for name, s, t_start, what in (("idle", idle_c, t_idle, "idle connection"),
                                       ("after", after_q, t_after, "idle after a query")):
            if name in closed_at:
                el = closed_at[name] - t_start
                ok = a.idle_timeout - 0.5 <= el <= limit and (name == "idle" or after_ok)
                check(f"idle timeout: {what}", ok,
                      f"closed by dnsbld after {el:.2f}s (expected {a.idle_timeout - 0.5:g}"
                      f" to {limit:g})")
            else:
                check(f"idle timeout: {what}", False,
                      f"still open after {time.monotonic() - t_start:.1f}s (limit {limit:g})")
        check("idle timeout: a connection sending a query a second stays open",
              active_fail is None,
              f"{qid - 100} queries over {a.idle_timeout + 2.5:g}s, all answered"
              if active_fail is None else active_fail)
        close_all(socks)
        socks = []

        # ---- still correct afterwards
        wrong = check_udp(srv, sample_l, sample_u) + check_tcp_pipelined(srv, sample_l, sample_u)
        check("answers after the load", not wrong,
              f"{len(wrong)} wrong, e.g. {wrong[:3]}" if wrong else "UDP and pipelined TCP, "
              "all correct")
    except Failed as e:
        problems.append(str(e))
    except subprocess.TimeoutExpired as e:
        problems.append(f"time limit: {e}")
    except (OSError, dns.exception.DNSException, AssertionError) as e:
        problems.append(f"{type(e).__name__}: {e}")
    finally:
        close_all(socks)
        for p in perfs:
            p.kill()
        if srv is not None:
            was_running = srv.running()
            code = srv.stop()
            if was_running:
                check("dnsbld exits 0 on SIGTERM", code == 0,
                      f"exit {code}" + (f"\n{srv.stderr_text()[-2000:]}" if code != 0 else ""))
            elif srv.returncode not in (None, 0):
                problems.append(f"dnsbld died: exit {srv.returncode}\n{srv.stderr_text()}")
        if a.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    report(R, checks, a)
    for n in notes:
        print(f"note: {n}")
    if problems:
        print("\nFAILED:")
        for p in problems:
            print(f"- {p}")
        return 1
    print("\nOK")
    return 0


# --------------------------------------------------------------------------------------

def machine_line():
    cpu = cpu_model("unknown CPU")
    try:
        ver = subprocess.run([DNSPERF, "-h"], capture_output=True, text=True, timeout=10)
        m = re.search(r"Version (\S+)", ver.stdout + ver.stderr)
        perf_ver = f"dnsperf {m.group(1)}" if m else "dnsperf"
    except (OSError, subprocess.TimeoutExpired):
        perf_ver = "dnsperf"
    return f"Linux {platform.release()}, {cpu}, nproc {os.cpu_count()}, {perf_ver}"


def ms(x):
    return "lost" if x == math.inf else f"{x * 1000:.3f} ms"


def ratio(x, y):
    return f"{x / y:.2f}" if y and x == x and y == y and x != math.inf and y != math.inf \
        else "n/a"


def report(R, checks, a):
    print()
    print(f"machine: {machine_line()}")
    print(f"dnsbld: threads {a.threads}, tcp_max_connections {a.cap}, tcp_idle_timeout "
          f"{a.idle_timeout}s; {a.entries:,} entries; runs of {a.seconds}s")
    if "udp" in R:
        print()
        print("| load | q/s | answers per dnsbld CPU-s | dnsbld CPU | dnsperf CPU | "
              "other CPU | lost | notes |")
        print("|---|---|---|---|---|---|---|---|")
        rows = []
        for key, label in (("udp", f"UDP, dnsperf {' '.join(UDP_CLIENT)}"),
                           ("tcp", f"TCP, {a.conns} conns, up to {a.pipeline} in flight each")):
            if key not in R:
                continue
            res, mt = R[key][0], R[key][1]
            per_cpu = res["completed"] / mt["srv_cpu"] if mt["srv_cpu"] > 0 else float("nan")
            other = max(0.0, mt["busy"] - mt["srv_cpu"] - res["client_cpu"])
            notes = ""
            if key == "tcp":
                held = R[key][2]
                inflight = res["qps"] * res["latency"] / a.conns if res["latency"] else 0
                c = res["connect"]
                notes = (f"{inflight:.1f} in flight per conn (Little), avg latency "
                         f"{res['latency'] * 1000:.2f} ms; dnsbld held {held} connections; "
                         f"reconnections {res['reconnections']}; "
                         + (f"connect avg {c[0] * 1000:.0f} / max {c[1] * 1000:.0f} ms; "
                            if c else "")
                         + f"listen queue overflows {mt['overflows']}")
            else:
                notes = f"avg latency {res['latency'] * 1000:.3f} ms"
                if mt["udp_drops"]:
                    notes += f"; UDP rcvbuf drops (system-wide) {mt['udp_drops']}"
            rows.append((res["qps"], per_cpu))
            print(f"| {label} | {res['qps']:,.0f} | {per_cpu:,.0f} | "
                  f"{mt['srv_cpu'] / mt['wall']:.2f} | {res['client_cpu'] / mt['wall']:.2f} | "
                  f"{other / mt['wall']:.2f} | {res['lost']} | {notes} |")
        if len(rows) == 2:
            print(f"| TCP / UDP | {ratio(rows[1][0], rows[0][0])} | "
                  f"{ratio(rows[1][1], rows[0][1])} | | | | | |")

    if "lat_alone" in R:
        print()
        print(f"| UDP at {a.udp_rate} q/s (dnsperf -v) | p50 | p99 | p99.9 | max | answers "
              f"| lost | dnsbld CPU | other CPU | notes |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        pct = {}
        for key, label in (("lat_alone", "alone"),
                           ("lat_tcp", f"under TCP load ({a.conns} conns)"),
                           ("lat_idle", f"with {a.cap} idle TCP conns open")):
            if key not in R:
                continue
            res, mt = R[key][0], R[key][1]
            p = percentiles(res)
            pct[key] = p
            notes = ""
            if key == "lat_tcp":
                bg = R[key][2]
                notes = (f"TCP meanwhile: {bg['qps']:,.0f} q/s, {bg['lost']} lost; dnsbld "
                         f"held {R[key][3]} connections")
            elif key == "lat_idle":
                notes = (f"{res['runtime']:.1f} s run (under the idle timeout); dnsbld held "
                         f"up to {R[key][2]} connections")
            if mt["udp_drops"]:
                notes = "; ".join(x for x in (notes, f"UDP rcvbuf drops (system-wide) "
                                                     f"{mt['udp_drops']}") if x)
            clients = res["client_cpu"] + (R[key][2]["client_cpu"] if key == "lat_tcp" else 0)
            other = max(0.0, mt["busy"] - mt["srv_cpu"] - clients) / mt["wall"]
            if p is None:
                print(f"| {label} | - | - | - | - | 0 | {res['lost']} | | {other:.2f} | {notes} |")
                continue
            print(f"| {label} | {ms(p['p50'])} | {ms(p['p99'])} | {ms(p['p999'])} | "
                  f"{ms(p['max'])} | {len(res['latencies']):,} | {res['lost']} | "
                  f"{mt['srv_cpu'] / mt['wall']:.2f} | {other:.2f} | {notes} |")
        base = pct.get("lat_alone")
        for key, label in (("lat_tcp", "under TCP load / alone"),
                           ("lat_idle", "idle conns open / alone")):
            if base and pct.get(key):
                p = pct[key]
                print(f"| {label} | {ratio(p['p50'], base['p50'])} | "
                      f"{ratio(p['p99'], base['p99'])} | {ratio(p['p999'], base['p999'])} | "
                      f"| | | | | |")

    if "udp" in R:
        print()
        print("CPU columns in cores (CPU-s per wall second); other = the whole machine's busy "
              "time minus dnsbld and dnsperf (loopback softirq, other processes): on a shared "
              "machine, read rates and latencies against it.")

    if checks:
        print()
        print("| check | result | detail |")
        print("|---|---|---|")
        for name, ok, detail in checks:
            print(f"| {name} | {'PASS' if ok else 'FAIL'} | "
                  f"{detail.splitlines()[0] if detail else ''} |")


if __name__ == "__main__":
    sys.exit(main())
