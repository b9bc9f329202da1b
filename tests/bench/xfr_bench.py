#!/usr/bin/python3
"""Zone transfer benchmark: dnsbld's AXFR against NSD's, queries during transfers,
dnsbld against NSD and Knot as query servers, change-to-secondary latency over
NOTIFY, and store growth while a slow transfer holds its snapshot.

  /usr/bin/python3 tests/bench/xfr_bench.py [--quick | --full] [--entries N]
                                             [--repeat N] [--seconds S] [--json FILE]

1. tests/bench/gen_sets.c (built here) writes a realistic IPv4 set (mostly /32s,
   some /24s and wider CIDRs; nine in ten of its /25../28s are dropped so that the
   zone has ~3 records an entry rather than ~14). dnsbld gets it with
   `dnsbl-loader import`; `dnsbl-loader export bl.bench --format zone` is the zone
   file NSD (primary, provide-xfr 127.0.0.1) and Knot (primary, zonefile-load whole)
   serve. Every server is pinned to one CPU, every client (the AXFR reader, dnsperf)
   to the other; the servers take turns, --repeat rounds, medians with min-max.
2. AXFR: a raw TCP reader (this script run with --reader) sums ANCOUNT over the
   length-prefixed messages until the closing SOA: records/s for dnsbld and NSD, the
   ratio, the reader's own CPU (it must not be the bottleneck) and dnsbld's peak RSS
   (anonymous and file-backed) during the transfer, against the store size.
3. UDP during AXFR: dnsperf against dnsbld alone, then while AXFRs run back to back;
   answers/s and their ratio (goal >= 0.9).
4. dnsbld, NSD and Knot answering the same zone at one offered rate, listed and
   unlisted addresses, A and TXT mixed: answers per server CPU-second.
5. Change to secondary: a dnsbld with `notify` pointing at a Knot secondary, then
   another at an NSD secondary, for each size; after an import of one new address,
   the time until the secondary answers it. Without a NOTIFY from dnsbld, a secondary
   waits for its SOA refresh (an hour): after 60 s the row says "no NOTIFY".
6. Store growth: the same `dnsbl-loader import --replace` runs on two copies of the
   store, once with a slow AXFR reader (64 KiB/s) holding dnsbld's read snapshot
   open, once without: data.mdb size and LMDB pages used (mdb_stat -e).

Exit status 1 when a server does not start or dies, a transfer fails or two servers
transfer different record counts, answers differ between the servers on a sample,
dnsperf fails, or dnsbld does not exit 0 on SIGTERM; goals are reported, never
enforced. Everything runs on loopback; every subprocess has a time limit; the work
directory (under /tmp unless --workdir) is deleted at the end unless --keep.
"""

import argparse
import datetime
import json
import os
import pathlib
import random
import re
import statistics
import resource
import select
import shutil
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
from benchutil import Failed, logger, pin_threads, proc_cpu, run  # noqa: E402
# dns_bench's server process, dnsperf runner and small measures, reused as they are
import dns_bench as db  # noqa: E402
import dns.exception  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

log = logger("[xfr-bench]")

NSD = "/usr/sbin/nsd"
KNOTD = "/usr/sbin/knotd"
MDB_STAT = "/usr/bin/mdb_stat"
HERE = REPO / "tests" / "bench"
ZONE = db.ZONE
ZONES = db.ZONES
SERVERS_AXFR = ("dnsbld", "nsd")
SERVERS_QUERY = ("dnsbld", "nsd", "knot")
GOAL_DURING = 0.9          # UDP answers/s during AXFRs as a share of those without
GOAL_CHANGE_S = 1.0        # median from a write's end to the secondary answering it
NOTIFY_WAIT = 60.0         # seconds a change may take to reach a secondary: "no NOTIFY"
NOTIFY_SIZES = (100_000,)  # change-to-secondary sets besides --notify-entries
ANON_GROWTH_MAX = 16 << 20  # dnsbld's RssAnon growth during an AXFR (buffers, stacks)
KEEP_WIDE_CIDR = 10        # keep one /25../28 in this many (each is 16..128 addresses)
AXFR_MSG = struct.Struct("!HHHHHHH")   # length prefix, then the header


def ratio(x, y):
    return x / y if y and y == y else float("nan")


def spread(values):
    """(median, min, max) of the numbers given (nan for none)."""
    v = [x for x in values if x == x]
    return (db.median(v), min(v), max(v)) if v else (float("nan"),) * 3


def fmt_spread(values, scale=1.0, digits=0):
    m, lo, hi = spread(values)
    if m != m:
        return "-"
    f = f"{{:,.{digits}f}}"
    return f"{f.format(m / scale)} ({f.format(lo / scale)}-{f.format(hi / scale)})"


def fmt_opt(seconds):
    """Seconds as text, "-" for None."""
    return "-" if seconds is None else f"{seconds:.1f}s"


def proc_status(pid, key):
    """A kB line of /proc/PID/status (VmRSS, RssAnon, RssFile, VmHWM) in bytes, or nan."""
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return float("nan")


def tree_pids(pid):
    """pid and its descendants (NSD forks its server and xfrd processes)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            ppid = int(pathlib.Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def tree_cpu(pid):
    """CPU seconds of pid and its descendants so far (exited children not counted)."""
    return sum(c for c in (proc_cpu(p) for p in tree_pids(pid)) if c == c)


def pin_tree(srv, cpu):
    """Pins every thread of every process of server srv (a dns_bench Proc) to cpu."""
    if cpu is None:
        return
    if not srv.alive():
        raise Failed(f"{srv.name} died\n{srv.log_text()}")
    for p in tree_pids(srv.pid):
        try:
            srv.threads = max(srv.threads, pin_threads(p, {cpu}))
        except OSError:
            pass        # a child that exited meanwhile


def on_cpu(cpu):
    """A preexec_fn pinning the child to cpu (None: no pinning)."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


# --------------------------------------------------------------------------------------
# The AXFR reader (run as `xfr_bench.py --reader`, pinned to the load CPU)

def skip_name(buf, p):
    """The offset after the (possibly compressed) name at buf[p]."""
    while True:
        b = buf[p]
        if b == 0:
            return p + 1
        if b >= 0xC0:
            return p + 2
        p += b + 1


def soa_tail(buf, msg, end):
    """The last 20 bytes of the first answer record's RDATA (SOA serial ... minimum) in
    message buf[msg:end]: every SOA of this transfer ends with them."""
    p = skip_name(buf, msg + 12) + 4          # the question
    p = skip_name(buf, p)
    rtype, _, _, rdlen = struct.unpack_from("!HHIH", buf, p)
    if rtype != 6 or p + 10 + rdlen > end or rdlen < 22:
        raise Failed(f"the transfer does not start with a SOA (type {rtype})")
    p += 10 + rdlen
    return bytes(buf[p - 20:p])


def axfr_once(port, zone, rcvbuf=8 << 20, rate=0, stop=None, on_first=None, timeout=60):
    """One AXFR of zone from 127.0.0.1:port: reads length-prefixed messages, sums
    ANCOUNT, ends at the message that ends with the opening SOA (or EOF). rate > 0
    reads at most that many bytes/s; stop (an Event) aborts it; on_first() is called
    at the first message. Returns records, messages, bytes, complete, error, seconds,
    first (seconds to the first message: dnsbld counts the zone's records before it
    sends any) and the reader's CPU seconds (its process's, so meaningful only in a
    reader process of its own)."""
    q = dns.message.make_query(zone, "AXFR")
    wire = q.to_wire()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(0.5 if stop else timeout)
    buf = bytearray(max(16 << 20, 2 * rcvbuf))
    mv = memoryview(buf)
    start = end = 0
    res = {"records": 0, "messages": 0, "bytes": 0, "complete": False, "error": None,
           "first": None}
    tail = None
    t_first = None
    chunk = 16384 if rate else len(buf)
    cpu0 = own_cpu()
    t0 = time.monotonic()
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(struct.pack("!H", len(wire)) + wire)
        while not res["complete"]:
            if stop is not None and stop.is_set():
                break
            if len(buf) - end < 65538:
                buf[:end - start] = buf[start:end]
                end -= start
                start = 0
            try:
                n = s.recv_into(mv[end:end + chunk] if rate else mv[end:])
            except socket.timeout:
                if stop is None:
                    raise
                continue
            if n == 0:
                break
            end += n
            res["bytes"] += n
            while end - start >= 14:
                ln, _, flags, _, ancount, _, _ = AXFR_MSG.unpack_from(buf, start)
                if end - start < 2 + ln:
                    break
                msg, mend = start + 2, start + 2 + ln
                if flags & 0xF:
                    raise Failed(f"AXFR message {res['messages']} has rcode "
                                 f"{dns.rcode.to_text(flags & 0xF)}")
                if tail is None and ancount:
                    tail = soa_tail(buf, msg, mend)
                if res["first"] is None:
                    t_first = time.monotonic()
                    res["first"] = t_first - t0
                    if on_first:
                        on_first()
                res["records"] += ancount
                res["messages"] += 1
                start = mend
                if res["records"] >= 2 and ancount and buf[mend - 20:mend] == tail:
                    res["complete"] = True
                    break
            if rate and res["first"] is not None:
                # paced from the first message: the wait before it earns no burst
                ahead = res["bytes"] / rate - (time.monotonic() - t_first)
                if ahead > 0:
                    time.sleep(ahead)
    except (OSError, Failed) as e:
        res["error"] = str(e)
    finally:
        s.close()
    res["seconds"] = time.monotonic() - t0
    res["cpu"] = own_cpu() - cpu0
    return res


def own_cpu():
    """CPU seconds this process has used."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def reader_main(a):
    """--reader: --count transfers, or with --until-eof back to back until stdin
    closes (printing "first" when the first message arrives); one JSON line each,
    then one with the reader's own CPU seconds."""
    stop = None
    if a.until_eof:
        stop = threading.Event()

        def wait_eof():
            sys.stdin.read()
            stop.set()
        threading.Thread(target=wait_eof, daemon=True).start()
    first = []

    def on_first():
        if not first:
            first.append(1)
            print('"first"', flush=True)
    done = 0
    while (stop is None and done < a.count) or (stop is not None and not stop.is_set()):
        r = axfr_once(a.port, a.zone, stop=stop, on_first=on_first if stop else None)
        print(json.dumps(r), flush=True)
        done += 1
        if r["error"]:
            break
    print(json.dumps({"cpu": own_cpu()}), flush=True)
    return 0


def start_reader(port, cpu, count=1, until_eof=False):
    """Starts the reader in a process of its own on cpu (reader_result collects it;
    with until_eof, wait_first waits for its first message and closing its stdin ends
    it)."""
    cmd = [sys.executable, __file__, "--reader", "--port", port, "--zone", ZONE,
           "--count", count] + (["--until-eof"] if until_eof else [])
    return subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.PIPE, text=True,
                            preexec_fn=on_cpu(cpu))


def wait_first(proc, timeout):
    """Waits until an --until-eof reader has its first message (the transfer streams)."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if line.strip() != '"first"':
        proc.kill()
        proc.wait()
        raise Failed(f"the AXFR reader got no message within {timeout:.0f}s ({line!r}):\n"
                     f"{proc.stderr.read()[-2000:]}")


def reader_cpu(proc):
    """CPU seconds a running reader process has used (0 for None)."""
    return proc_cpu(proc.pid) if proc else 0.0


def reader_result(proc, timeout):
    """Ends (closes its stdin) and waits for a reader process: (its transfers' dicts,
    its CPU seconds in all)."""
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        proc.stdin.close()
        out = proc.stdout.read()
        err = proc.stderr.read()
        proc.wait()
    finally:
        killer.cancel()
    if proc.returncode != 0:
        raise Failed(f"the AXFR reader failed or took over {timeout:.0f}s (exit "
                     f"{proc.returncode}):\n{err[-2000:]}")
    lines = [json.loads(x) for x in out.splitlines() if x.strip() and x.strip() != '"first"']
    return lines[:-1], lines[-1]["cpu"]


# --------------------------------------------------------------------------------------
# Data and servers

def make_data(d, tools, seed, entries, queries, tag):
    """gen_sets output thinned (KEEP_WIDE_CIDR) and cut to entries lines: (data file,
    mixed A/TXT query file, sample of names, prefix length counts)."""
    gen = d / f"gen-{tag}.data"
    qa, qt = d / f"gen-{tag}-A.txt", d / f"gen-{tag}-TXT.txt"
    want = int(entries * 1.1) + 100
    run([tools["gen"], seed, want, 4, ZONE, gen, queries, qa, qt], timeout=300)
    data = d / f"{tag}.data"
    lens, kept = {}, 0
    with open(gen) as f, open(data, "w") as out:
        out.write(f.readline())              # the default A and TXT
        for i, line in enumerate(f):
            slash = line.find("/")
            plen = int(line[slash + 1:]) if slash > 0 else 32
            if 25 <= plen <= 28 and i % KEEP_WIDE_CIDR:
                continue
            out.write(line)
            lens[plen] = lens.get(plen, 0) + 1
            kept += 1
            if kept == entries:
                break
    if kept < entries:
        raise Failed(f"gen_sets gave {kept} entries after thinning, wanted {entries}")
    gen.unlink()
    mixed = d / f"{tag}-queries.txt"
    with open(qa) as fa, open(qt) as ft, open(mixed, "w") as out:
        for i, (la, lt) in enumerate(zip(fa, ft)):
            out.write(la if i % 2 == 0 else lt)
    with open(qa) as f:
        sample = [next(f).split()[0] for _ in range(min(300, queries))]
    qa.unlink()
    qt.unlink()
    return data, mixed, sample, lens


def dnsbld_server(srv, name="dnsbld"):
    """Starts dnsbltest.Dnsbl srv as a dns_bench Proc and waits for its answers."""
    p = db.Proc(name, srv.port)
    p.spawn_dnsbld(srv)
    srv.wait_ready(timeout=60)
    return p


def nsd_spawn(d, port, name, server_lines, zone_lines):
    """Spawns NSD in directory d on 127.0.0.1:port, unprivileged-style (no chroot, no
    user change, no database file, no rate limit, no remote control), with the extra
    server: lines and the zone: lines given."""
    d.mkdir(exist_ok=True)
    conf = d / "nsd.conf"
    conf.write_text(f"""server:
  ip-address: 127.0.0.1@{port}
  port: {port}
  username: ""
  chroot: ""
  database: ""
  zonesdir: "{d}"
  pidfile: "{d}/nsd.pid"
  xfrdfile: "{d}/xfrd.state"
  zonelistfile: "{d}/zone.list"
  xfrdir: "{d}"
  logfile: "{d}/nsd.log"
  server-count: 1
  rrl-ratelimit: 0
{server_lines}remote-control:
  control-enable: no
zone:
  name: {ZONE}
{zone_lines}""")
    p = db.Proc(name, port)
    p.spawn([NSD, "-d", "-c", conf], d / "nsd.out")
    return p


def nsd_server(d, zonefile, port):
    """Spawns NSD in directory d as the primary of zonefile on 127.0.0.1:port."""
    return nsd_spawn(d, port, "nsd", "  verbosity: 1\n",
                     f'  zonefile: "{zonefile}"\n  provide-xfr: 127.0.0.1 NOKEY\n')


def knot_conf(d, port, zone_lines):
    """Writes d/knot.conf: one worker of each kind on 127.0.0.1:port, rundir, storage
    and log in d, then zone_lines; returns its path."""
    d.mkdir(exist_ok=True)
    (d / "storage").mkdir(exist_ok=True)
    conf = d / "knot.conf"
    conf.write_text(f"""server:
    rundir: "{d}"
    listen: 127.0.0.1@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "{d}/storage"
log:
  - target: "{d}/knot.log"
    any: info
template:
  - id: default
    storage: "{d}/storage"
{zone_lines}""")
    return conf


def knot_primary(d, zonefile, port):
    """Spawns knotd in directory d as the primary of zonefile on 127.0.0.1:port."""
    conf = knot_conf(d, port, f"""zone:
  - domain: {ZONE}
    file: "{zonefile}"
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
""")
    p = db.Proc("knot", port)
    p.spawn([KNOTD, "-c", conf], d / "knotd.out")
    return p


def knot_secondary(d, port, primary_port):
    """Spawns knotd in directory d as a secondary of the dnsbld on primary_port that
    takes its NOTIFYs."""
    conf = knot_conf(d, port, f"""remote:
  - id: dnsbld
    address: 127.0.0.1@{primary_port}
acl:
  - id: notify_from_dnsbld
    address: 127.0.0.1
    action: notify
zone:
  - domain: {ZONE}
    master: dnsbld
    acl: notify_from_dnsbld
    file: "{d}/secondary.zone"
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
""")
    p = db.Proc("knot-secondary", port)
    p.spawn([KNOTD, "-c", conf], d / "knotd.out")
    return p


def nsd_secondary(d, port, primary_port):
    """Spawns NSD in directory d as a secondary of the dnsbld on primary_port that takes
    its NOTIFYs (as tests/e2e/secondaries.py's: no zone file written, a transfer served
    at once rather than batched)."""
    return nsd_spawn(d, port, "nsd-secondary",
                     "  verbosity: 2\n  xfrd-reload-timeout: 0\n  zonefiles-write: 0\n",
                     f'  zonefile: "{d}/secondary.zone"\n'
                     f"  request-xfr: 127.0.0.1@{primary_port} NOKEY\n"
                     "  allow-notify: 127.0.0.1 NOKEY\n")


SECONDARIES = ("knot", "nsd")           # the change step's, in turn for each size
SECONDARY_NAME = {"knot": "Knot", "nsd": "NSD"}
# "[2026-12-03 14:30:05.455] nsd[16961]: info: notify for bl.bench. from 127.0.0.1 serial 7"
NSD_STAMP = r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\] "
NSD_NOTIFY = re.compile(NSD_STAMP + r".*\bnotify for \S+ from \S+ serial (\d+)", re.M)
# "[...] nsd[16962]: info: zone bl.bench serial 6 is updated to 7"
NSD_UPDATED = re.compile(NSD_STAMP + r".*\bzone \S+ serial \d+ is updated to (\d+)", re.M)


def nsd_stamp(text):
    """An NSD log line's local time (its ASCII stamp) in seconds since the epoch."""
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return datetime.datetime.strptime(text, fmt).timestamp()


def nsd_notify_to_served(text, serial):
    """Seconds from NSD's first "notify for" line in text to the line saying the zone
    "is updated to" serial after it (the reload that serves it), or None."""
    n = NSD_NOTIFY.search(text)
    if not n:
        return None
    for u in NSD_UPDATED.finditer(text, n.end()):
        if int(u.group(2)) == serial:
            return nsd_stamp(u.group(1)) - nsd_stamp(n.group(1))
    return None


def secondary_log(kind, sdir):
    """The log a secondary of kind writes in its directory sdir ("" before it has one)."""
    try:
        return (sdir / ("knot.log" if kind == "knot" else "nsd.log")).read_text(
            errors="replace")
    except FileNotFoundError:
        return ""


def serial_of(port, timeout=0.5):
    """The SOA serial a server on 127.0.0.1:port answers, or None."""
    try:
        r = dns.query.udp(dns.message.make_query(ZONE, "SOA"), "127.0.0.1", port=port,
                          timeout=timeout)
    except (OSError, dns.exception.DNSException):
        return None
    for rs in r.answer:
        if rs.rdtype == 6:
            return rs[0].serial
    return None


def wait_serial(srv, want, timeout):
    """Waits until server srv (a Proc) answers the SOA with serial want (any when
    None); Failed if it dies or the time runs out. Returns the seconds it took."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if not srv.alive():
            raise Failed(f"{srv.name} exited with {srv.proc.returncode}\n{srv.log_text()}")
        s = serial_of(srv.port)
        if s is not None and (want is None or s == want):
            return time.monotonic() - t0
        time.sleep(0.05)
    raise Failed(f"{srv.name}: no SOA{'' if want is None else f' serial {want}'} within "
                 f"{timeout:.0f}s\n{srv.log_text()}")


def listed_a(port, qname, timeout=0.5):
    """True when the server answers qname A with NOERROR and an A record."""
    try:
        r = dns.query.udp(dns.message.make_query(qname, "A"), "127.0.0.1", port=port,
                          timeout=timeout)
    except (OSError, dns.exception.DNSException):
        return False
    return r.rcode() == dns.rcode.NOERROR and bool(t.a_values(r))


def mem_available():
    """Bytes of memory the kernel says are available (MemAvailable)."""
    m = re.search(r"^MemAvailable:\s+(\d+) kB", pathlib.Path("/proc/meminfo").read_text(), re.M)
    return int(m.group(1)) * 1024 if m else 0


def store_pages(dbdir):
    """(data.mdb bytes, pages used * page size, page size) of an LMDB directory."""
    out = run([MDB_STAT, "-e", dbdir], timeout=30).stdout
    page = int(re.search(r"Page size:\s*(\d+)", out).group(1))
    used = int(re.search(r"Number of pages used:\s*(\d+)", out).group(1))
    return (pathlib.Path(dbdir) / "data.mdb").stat().st_size, used * page, page


def store_txns(dbdir):
    """(last transaction id, oldest transaction a reader holds or None): a reader on an
    old transaction keeps every page freed since from being reused."""
    # mdb_stat exits 1 after printing a reader table that has entries: read what it says
    out = subprocess.run([MDB_STAT, "-e", "-r", str(dbdir)], capture_output=True, text=True,
                         timeout=30).stdout
    m = re.search(r"Last transaction ID:\s*(\d+)", out)
    if not m:
        raise Failed(f"mdb_stat -e -r {dbdir}: no transaction id in\n{out}")
    last = int(m.group(1))
    held = [int(m.group(1)) for m in re.finditer(r"^\s*\d+\s+[0-9a-f]+\s+(\d+)\s*$", out, re.M)]
    return last, min(held) if held else None


class RssSampler:
    """Samples VmRSS, RssAnon and RssFile of a process and its children every 5 ms;
    keeps the peaks, each the largest of one process (NSD's zone is in its server
    child; adding COW-shared pages of forked processes would count them twice)."""

    def __init__(self, pid):
        self.pids = tree_pids(pid)
        self.peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid in self.pids:
                for k in self.peak:
                    v = proc_status(pid, k)
                    if v == v and v > self.peak[k]:
                        self.peak[k] = v
            self._stop.wait(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------------------
# The measurements

def server_cpu(a):
    """The CPU the servers are pinned to, or None."""
    return a.pin[0] if a.pin else None


def load_cpu(a):
    """The CPU the clients (reader, dnsperf) are pinned to, or None."""
    return a.pin[1] if a.pin else None


def axfr_step(tag, servers, a, store, problems):
    """AXFR records/s, --repeat rounds of dnsbld then NSD: per server a list of runs."""
    runs = {s: [] for s in servers}
    timeout = 120 + store / 2**20        # generous: ~1 s per MiB of store
    for rep in range(a.repeat):
        for name, srv in servers.items():
            pin_tree(srv, server_cpu(a))
            anon0 = max(proc_status(p, "RssAnon") for p in tree_pids(srv.pid))
            cpu0 = tree_cpu(srv.pid)
            with RssSampler(srv.pid) as rss:
                xfrs, _ = reader_result(start_reader(srv.port, load_cpu(a)), timeout)
            cpu = tree_cpu(srv.pid) - cpu0
            x = xfrs[0]
            if x["error"] or not x["complete"]:
                raise Failed(f"{tag}: AXFR from {name} failed after {x['records']:,} records: "
                             f"{x['error'] or 'no closing SOA before EOF'}\n{srv.log_text()}")
            r = {"records": x["records"], "messages": x["messages"], "bytes": x["bytes"],
                 "seconds": x["seconds"], "rps": x["records"] / x["seconds"],
                 "first": x["first"],
                 "server_cpu": cpu, "reader_cpu": x["cpu"],
                 "reader_share": x["cpu"] / x["seconds"], "rss_anon_before": anon0,
                 "rss_peak": rss.peak}
            runs[name].append(r)
            log(f"{tag} #{rep + 1} AXFR {name:6}: {r['records']:,} records in "
                f"{r['seconds']:.2f}s = {r['rps'] / 1e6:.2f}M/s (first message after "
                f"{r['first']:.2f}s; {r['messages']:,} messages, "
                f"{db.mib(r['bytes'])}); server CPU {cpu:.2f}s, reader CPU "
                f"{r['reader_cpu']:.2f}s ({r['reader_share']:.0%} of a core); peak RSS "
                f"{db.mib(rss.peak['VmRSS'])} (anon {db.mib(rss.peak['RssAnon'])})")
    counts = {(n, r["records"]) for n in runs for r in runs[n]}
    if len({c for _, c in counts}) != 1:
        problems.append(f"{tag}: servers transferred different record counts: "
                        f"{sorted(counts)}")
    return runs


def udp_during_step(srv, qfile, a, d):
    """dnsperf against dnsbld alone and while AXFRs run back to back, alternating."""
    runs = {"alone": [], "axfr": []}
    xfr_timeout = a.seconds + 60
    for rep in range(a.repeat):
        for mode in ("alone", "axfr"):
            pin_tree(srv, server_cpu(a))
            reader = None
            if mode == "axfr":
                # dnsperf starts once the transfer streams and ends before the reader
                reader = start_reader(srv.port, load_cpu(a), until_eof=True)
                wait_first(reader, 120 + a.entries / 20_000)
            cpu0, perf0, busy0 = tree_cpu(srv.pid), db.children_cpu(), db.machine_cpu()[0]
            rcpu0 = reader_cpu(reader)
            res, _ = db.dnsperf(srv.port, qfile, a.seconds, a, d / f"udp-{mode}-{rep}.txt",
                                qps=a.udp_qps or None)
            res["server_cpu"] = tree_cpu(srv.pid) - cpu0
            res["dnsperf_cpu"] = db.children_cpu() - perf0
            res["other_cpu"] = max(0.0, db.machine_cpu()[0] - busy0 - res["server_cpu"] -
                                   res["dnsperf_cpu"] - (reader_cpu(reader) - rcpu0))
            res["aps"] = res["completed"] / res["runtime"]
            if reader:
                xfrs, rcpu = reader_result(reader, xfr_timeout)
                bad = [x["error"] for x in xfrs if x["error"]]
                if bad:
                    raise Failed(f"an AXFR during dnsperf failed: {bad[0]}")
                secs = sum(x["seconds"] for x in xfrs)
                res["xfr"] = {"complete": sum(1 for x in xfrs if x["complete"]),
                              "first": xfrs[0]["first"],
                              "records": sum(x["records"] for x in xfrs),
                              "rps": sum(x["records"] for x in xfrs) / secs if secs else 0,
                              "reader_cpu": rcpu}
            if not srv.alive():
                raise Failed(f"dnsbld died during dnsperf\n{srv.log_text()}")
            runs[mode].append(res)
            extra = ""
            if reader:
                extra = (f"; {res['xfr']['complete']} AXFRs complete, "
                         f"{res['xfr']['rps'] / 1e6:.2f}M records/s, reader CPU "
                         f"{res['xfr']['reader_cpu']:.1f}s")
            log(f"udp #{rep + 1} {mode:5}: {res['aps']:,.0f} answers/s, {res['lost']:,} lost, "
                f"dnsbld CPU {res['server_cpu']:.2f}s, dnsperf CPU {res['dnsperf_cpu']:.2f}s, "
                f"others {res['other_cpu']:.1f}s" + extra)
    return runs


def compare_sample(sample, servers):
    """rcode and A records of each sample name alike on every server: the differences."""
    diffs = []
    names = list(servers)
    for qname in sample:
        got = {n: db.ask(servers[n].port, qname, "A") for n in names}
        ref = got[names[0]]
        for n in names[1:]:
            if got[n] != ref:
                diffs.append(f"{qname} A: {names[0]} {ref[0]} {sorted(ref[1])} / {n} "
                             f"{got[n][0]} {sorted(got[n][1])}")
    return diffs


def query_step(servers, qfile, a, d, problems):
    """Each server in turn at --rate q/s: answers per server CPU-second."""
    runs = {s: [] for s in servers}
    for rep in range(a.repeat):
        for name, srv in servers.items():
            pin_tree(srv, server_cpu(a))
            cpu0, perf0, busy0 = tree_cpu(srv.pid), db.children_cpu(), db.machine_cpu()[0]
            res, _ = db.dnsperf(srv.port, qfile, a.seconds, a, d / f"q-{name}-{rep}.txt",
                                qps=a.rate or None)
            cpu = tree_cpu(srv.pid) - cpu0
            res["dnsperf_cpu"] = db.children_cpu() - perf0
            res["other_cpu"] = max(0.0, db.machine_cpu()[0] - busy0 - cpu - res["dnsperf_cpu"])
            if not srv.alive():
                raise Failed(f"{name} died during dnsperf\n{srv.log_text()}")
            res["server_cpu"] = cpu
            res["apc"] = res["completed"] / cpu if cpu > 0 else float("nan")
            bad = {k: v for k, v in res["rcodes"].items() if k not in ("NOERROR", "NXDOMAIN")}
            if bad:
                problems.append(f"queries: {name}: response codes {bad}")
            runs[name].append(res)
            log(f"queries #{rep + 1} {name:6}: {res['qps']:,.0f} q/s, {res['lost']:,} lost, "
                f"CPU {cpu:.2f}s, {res['apc']:,.0f} answers/CPU-s, NOERROR "
                f"{res['rcodes'].get('NOERROR', 0) / max(1, res['completed']):.0%}; others "
                f"{res['other_cpu']:.1f}s")
    return runs


def import_replace(srv, data, timeout):
    """`dnsbl-loader import --replace` of data into srv's store: its wall seconds."""
    t0 = time.monotonic()
    r = srv.loader("import", ZONE, data, "--format", "rbldnsd", "--replace", "--no-progress",
                   timeout=timeout)
    if r.returncode != 0:
        raise Failed(f"dnsbl-loader import --replace: exit {r.returncode}\n{r.stderr}{r.stdout}")
    return time.monotonic() - t0


def growth_step(main_db, files, a, d, problems):
    """The same imports --replace on two copies of the store: without a transfer, and
    with a slow AXFR reader holding dnsbld's snapshot. Per mode: sizes and times."""
    out = {}
    for mode in ("without", "with"):
        srv = t.Dnsbl(d / f"growth-{mode}", zones=ZONES, server_opts=xfr_opts())
        shutil.copytree(main_db, srv.db)
        proc = dnsbld_server(srv)
        try:
            pin_tree(proc, server_cpu(a))
            before = store_pages(srv.db)
            reader, slow, stop, streaming = None, {}, threading.Event(), threading.Event()
            if mode == "with":
                def slow_read():
                    slow.update(axfr_once(srv.port, ZONE, rcvbuf=65536, rate=a.slow_rate,
                                          stop=stop, on_first=streaming.set))
                reader = threading.Thread(target=slow_read, daemon=True)
                reader.start()
                # dnsbld takes its snapshot before it counts the records, and sends
                # once it has: the imports start while the records flow
                if not streaming.wait(120 + a.entries / 20_000):
                    raise Failed("growth: the slow AXFR got no message")
            times, sizes = [], []
            for i in range(a.imports):
                times.append(import_replace(srv, files[i % len(files)],
                                            120 + a.entries / 20_000))
                sizes.append(store_pages(srv.db)[1])
            after = store_pages(srv.db)
            txns = store_txns(srv.db)
            if reader:
                open_still = reader.is_alive()
                stop.set()
                reader.join(10)
                if slow.get("error"):
                    problems.append(f"growth: the slow AXFR failed: {slow['error']}")
                if not open_still or slow.get("complete"):
                    problems.append("growth: the slow AXFR ended before the imports did "
                                    "(raise --entries or lower --slow-rate)")
            row = {"file_before": before[0], "file_after": after[0], "used_before": before[1],
                   "used_after": after[1], "page": before[2], "import_s": times,
                   "used_each": sizes, "last_txn": txns[0], "oldest_reader_txn": txns[1],
                   "slow_bytes": slow.get("bytes"), "slow_seconds": slow.get("seconds"),
                   "slow_first": slow.get("first")}
            out[mode] = row
            log(f"growth {mode:7} a transfer: {a.imports} imports --replace "
                f"({', '.join(f'{x:.1f}' for x in times)} s): data.mdb "
                f"{db.mib(before[0])} -> {db.mib(after[0])}, pages used "
                f"{db.mib(before[1])} -> " + " -> ".join(db.mib(x) for x in sizes) +
                f"; last txn {txns[0]}, oldest reader's {txns[1] or '-'}"
                + (f"; the slow reader read {(slow.get('bytes') or 0) // 1024:,} KiB in "
                   f"{slow.get('seconds', 0):.0f}s (first message after "
                   f"{fmt_opt(slow.get('first'))})" if reader else ""))
        finally:
            code = proc.stop()
            if code != 0:
                problems.append(f"growth: dnsbld exit code after SIGTERM: {code}")
            shutil.rmtree(srv.db, ignore_errors=True)
    return out


def notify_steps(data, a, d, problems):
    """notify_step for the first --notify-entries and each smaller NOTIFY_SIZES, once
    with each of SECONDARIES (a dnsbld of its own for each)."""
    sizes = sorted({a.notify_entries, *[m for m in NOTIFY_SIZES if m < a.notify_entries]})
    return [notify_step(data, a, d, problems, n, kind) for n in sizes for kind in SECONDARIES]


def notify_step(data, a, d, problems, entries, kind):
    """A dnsbld of the first entries with notify = a secondary of kind ("knot" or
    "nsd"): per new address imported, seconds from the import's end to the secondary's
    first answer for it, how dnsbld sent it and the secondary's own time for it (its
    log: Knot's refresh, NSD's notify to served)."""
    name = SECONDARY_NAME[kind]
    sec_port = t.free_port()
    srv = t.Dnsbl(d / f"notify-{kind}-{entries}", zones=ZONES,
                  server_opts=xfr_opts(notify=f"127.0.0.1:{sec_port}"))
    small = d / f"notify-{entries}.data"
    with open(data) as f, open(small, "w") as o:
        for i, line in enumerate(f):
            if i >= entries:
                break
            o.write(line)
    r = srv.loader("import", ZONE, small, "--format", "rbldnsd", "--no-progress",
                   timeout=120 + entries / 20_000)
    if r.returncode != 0:
        raise Failed(f"dnsbl-loader import: exit {r.returncode}\n{r.stderr}{r.stdout}")
    proc = dnsbld_server(srv)
    sec = None
    res = {"entries": entries, "secondary": kind, "changes": [], "import_s": [],
           "notify": True, "kinds": [], "ixfr_ms": [], "own_s": []}
    sdir = d / f"{kind}-secondary-{entries}"
    try:
        serial = serial_of(srv.port)
        spawn = knot_secondary if kind == "knot" else nsd_secondary
        sec = spawn(sdir, sec_port, srv.port)
        boot = wait_serial(sec, serial, 120 + entries / 10_000)
        res["bootstrap_s"] = boot
        log(f"notify: {name} secondary has serial {serial} after {boot:.1f}s "
            f"({entries:,} entries)")
        pin_tree(proc, server_cpu(a))
        # the secondary is the client here: on the other CPU, so that its work on one
        # change does not take dnsbld's CPU while dnsbld makes the next difference
        pin_tree(sec, load_cpu(a))
        rng = random.Random(a.seed)
        for i in range(a.changes):
            # gen_sets never writes 10/8: these addresses are new
            addr = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            qname = t.rev(addr, ZONE)
            f = d / f"change-{i}.txt"
            f.write_text(addr + "\n")
            log_mark = len(srv.stderr_text())
            sec_mark = len(secondary_log(kind, sdir))
            t0 = time.monotonic()
            r = srv.loader("import", ZONE, f, "--format", "rbldnsd", "--no-progress",
                           timeout=60)
            t1 = time.monotonic()
            if r.returncode != 0:
                raise Failed(f"dnsbl-loader import: exit {r.returncode}\n{r.stderr}{r.stdout}")
            res["import_s"].append(t1 - t0)
            seen = None
            while time.monotonic() - t1 < NOTIFY_WAIT:
                if listed_a(sec.port, qname, timeout=0.2):
                    seen = time.monotonic()
                    break
                time.sleep(0.002)
            if not listed_a(srv.port, qname):
                problems.append(f"notify: dnsbld does not answer {addr} after importing it")
            if seen is None:
                res["notify"] = False
                log(f"notify: {name} does not answer {addr} {NOTIFY_WAIT:.0f}s after the "
                    "import: no NOTIFY from dnsbld (the remaining changes are skipped)")
                break
            res["changes"].append(seen - t1)
            # how dnsbld sent it: "IXFR of ZONE from serial A to B to PEER: ..., N ms",
            # or "...: REASON; sending the whole zone" then an AXFR line
            text = srv.stderr_text()[log_mark:]
            m = re.search(r"IXFR of \S+ from serial \d+ to \d+ to \S+: .* (\d+) ms", text)
            how = "IXFR" if m else ("whole zone" if "sending the whole zone" in text else "?")
            res["kinds"].append(how)
            if m:
                res["ixfr_ms"].append(int(m.group(1)))
            if kind == "knot":
                # "refresh, remote ..., zone updated, 15.76 seconds, serial A -> B": from
                # its SOA query to the update in place (the transfer and applying it)
                k = re.search(r"zone updated, ([0-9.]+) seconds",
                              secondary_log(kind, sdir)[sec_mark:])
                if k:
                    res["own_s"].append(float(k.group(1)))
                own = f"; Knot's refresh {k.group(1)} s)" if k else ")"
            else:
                # from its "notify for" line to its "is updated to" the new serial (the
                # reload logs it before its server serves the new zone: a moment's grace)
                new = serial_of(srv.port)
                own_s = None
                t_end = time.monotonic() + 1.0
                while new is not None and own_s is None and time.monotonic() < t_end:
                    own_s = nsd_notify_to_served(secondary_log(kind, sdir)[sec_mark:], new)
                    if own_s is None:
                        time.sleep(0.02)
                if own_s is not None:
                    res["own_s"].append(own_s)
                own = f"; NSD's notify to served {own_s * 1000:.0f} ms)" \
                    if own_s is not None else ")"
            log(f"notify #{i + 1} ({entries:,}): {addr} on {name} {(seen - t1) * 1000:.0f} ms "
                f"after the import ended (import {(t1 - t0) * 1000:.0f} ms, sent as {how}"
                + (f" in {m.group(1)} ms" if m else "") + own)
    finally:
        if sec:
            sec.stop()
        code = proc.stop()
        if code != 0:
            problems.append(f"notify: dnsbld exit code after SIGTERM: {code}")
    return res


def xfr_opts(notify=None):
    """dnsbld's [server] keys here: one thread, transfers to loopback, NOTIFY targets."""
    opts = {"threads": 1, "allow_transfer": "127.0.0.1/32"}
    if notify:
        opts["notify"] = notify
    return opts


# --------------------------------------------------------------------------------------
# One data set: dnsbld's store, its zone file, NSD (and Knot) serving it

def prepare_set(tag, entries, a, work, tools, seed):
    """Data, dnsbld's store and the exported zone file of one set; the numbers the
    report gives about it."""
    d = work / tag
    d.mkdir()
    t0 = time.monotonic()
    data, qfile, sample, lens = make_data(d, tools, seed, entries, a.queries, tag)
    srv = t.Dnsbl(d / "dnsbld", zones=ZONES, server_opts=xfr_opts())
    r = srv.loader("import", ZONE, data, "--format", "rbldnsd", "--no-progress",
                   timeout=120 + entries / 20_000)
    if r.returncode != 0:
        raise Failed(f"dnsbl-loader import: exit {r.returncode}\n{r.stderr}{r.stdout}")
    zonefile = d / "zone.txt"
    with open(zonefile, "w") as f:
        r = subprocess.run([str(t.LOADER), "-c", str(srv.config), "export", ZONE, "--format",
                            "zone"], stdout=f, stderr=subprocess.PIPE, text=True,
                           cwd=srv.cwd, timeout=120 + entries / 10_000)
    if r.returncode != 0:
        raise Failed(f"dnsbl-loader export: exit {r.returncode}\n{r.stderr}")
    records = t.stat(srv, ZONE, "records")
    info = {"entries": entries, "lens": lens, "records": records,
            "store": store_pages(srv.db), "zonefile": zonefile.stat().st_size,
            "prepare_s": time.monotonic() - t0}
    log(f"{tag}: {entries:,} entries ({', '.join(f'/{k} {v:,}' for k, v in sorted(lens.items()))}),"
        f" {records:,} records, store {db.mib(info['store'][0])} ({db.mib(info['store'][1])} "
        f"used), zone file {db.mib(info['zonefile'])}; {info['prepare_s']:.0f}s")
    return d, srv, data, qfile, sample, zonefile, info


def start_all(d, srv, zonefile, a, want):
    """Starts dnsbld and the servers named in want (nsd, knot) on the zone file; waits
    until each answers the store's serial. Returns {name: Proc}."""
    servers = {"dnsbld": dnsbld_server(srv)}
    serial = serial_of(srv.port)
    if "nsd" in want:
        servers["nsd"] = nsd_server(d / "nsd", zonefile, t.free_port())
    if "knot" in want:
        servers["knot"] = knot_primary(d / "knot", zonefile, t.free_port())
    for name, p in servers.items():
        wait_serial(p, serial, 600)
        pin_tree(p, server_cpu(a))
        # they load in parallel: from its own spawn, not from the previous one's answer
        log(f"{name} answers serial {serial} ({time.monotonic() - p.t_spawn:.1f}s after "
            "its start); "
            f"{len(tree_pids(p.pid))} process(es), RSS {db.mib(proc_status(p.pid, 'VmRSS'))}")
    return servers


def stop_all(servers, problems):
    """Stops every server; dnsbld must exit 0 on SIGTERM."""
    for name, p in servers.items():
        was = p.alive()
        code = p.stop()
        if name == "dnsbld" and was and code != 0:
            problems.append(f"dnsbld exit code after SIGTERM: {code}")


def variant_files(d, data, tools, seed, entries, a):
    """The growth step's two feeds: the data set itself, and it with its first tenth
    replaced by other entries (so each import --replace deletes and adds a tenth)."""
    tenth = max(1, entries // 10)
    extra, _, _, _ = make_data(d, tools, seed, tenth, 10, "extra")
    variant = d / "variant.data"
    with open(data) as f, open(extra) as e, open(variant, "w") as o:
        o.write(f.readline())
        for i, line in enumerate(f):
            if i >= tenth:
                o.write(line)
        e.readline()
        o.writelines(e)
    return [variant, data]


# --------------------------------------------------------------------------------------
# Report

def report(R, a, mach):
    """Prints the machine line and a Markdown table per measurement."""
    lines = []
    p = lines.append
    p(f"Machine: Linux {mach['kernel']}, {mach['cpu']}, nproc {mach['nproc']} (load average "
      f"at start {mach['loadavg_at_start']}). " +
      (f"Servers pinned to CPU {a.pin[0]}, clients (AXFR reader, dnsperf) to CPU {a.pin[1]}. "
       if a.pin else "Not pinned. ") +
      f"{a.repeat} rounds, servers alternating; medians (min-max). On a shared machine "
      "these numbers are noisy: \"other CPU\" is what the rest of the machine used during "
      "a run (/proc/stat busy time less the server, dnsperf and the reader).")
    for tag, s in R.get("sets", {}).items():
        info = s["info"]
        p("")
        p(f"### AXFR, {tag}: {info['entries']:,} entries, {info['records']:,} records "
          f"(store {db.mib(info['store'][0])}, {db.mib(info['store'][1])} used)")
        p("")
        p("| server | records/s | seconds | first message s | MiB sent | server CPU s "
          "| reader CPU (share of a core) | peak RSS | peak RssAnon (before) | peak RssFile |")
        p("|---|---|---|---|---|---|---|---|---|---|")
        runs = s["axfr"]
        for name, rr in runs.items():
            pk = [r["rss_peak"] for r in rr]
            p(f"| {name} | {fmt_spread([r['rps'] for r in rr])} | "
              f"{fmt_spread([r['seconds'] for r in rr], digits=2)} | "
              f"{fmt_spread([r['first'] for r in rr], digits=2)} | "
              f"{rr[0]['bytes'] / 2**20:,.1f} | "
              f"{fmt_spread([r['server_cpu'] for r in rr], digits=2)} | "
              f"{fmt_spread([r['reader_cpu'] for r in rr], digits=2)} "
              f"({spread([r['reader_share'] for r in rr])[0]:.0%}) | "
              f"{db.mib(max(x['VmRSS'] for x in pk))} | "
              f"{db.mib(max(x['RssAnon'] for x in pk))} "
              f"({db.mib(min(r['rss_anon_before'] for r in rr))}) | "
              f"{db.mib(max(x['RssFile'] for x in pk))} |")
        rps = {n: spread([r["rps"] for r in rr])[0] for n, rr in runs.items()}
        p("")
        if "nsd" in runs:
            rounds = [ratio(x["rps"], y["rps"]) for x, y in zip(runs["dnsbld"], runs["nsd"])]
            s["ratio"] = ratio(rps["dnsbld"], rps["nsd"])
            p(f"- dnsbld/NSD records/s **{s['ratio']:.2f}** (per round "
              f"{fmt_spread(rounds, digits=2)}); records per transfer "
              f"{runs['dnsbld'][0]['records']:,} on both.")
        elif s.get("nsd_skipped"):
            p(f"- NSD not run: it would need about {db.mib(s['nsd_need'])} of memory "
              f"({db.mib(s['mem_available'])} available); the goal line compares dnsbld "
              "with NSD's records/s at the smaller set.")
    if "udp" in R:
        u = R["udp"]
        p("")
        p(f"### UDP answers/s during AXFRs (dnsbld, dnsperf -c {a.clients} -q {a.outstanding}"
          + (f" -Q {a.udp_qps}" if a.udp_qps else ", full speed") + f", {a.seconds} s runs)")
        p("")
        p("| dnsbld | answers/s | lost | dnsbld CPU s | dnsperf CPU s | other CPU s "
          "| AXFRs complete | AXFR records/s | first message s | reader CPU s |")
        p("|---|---|---|---|---|---|---|---|---|---|")
        for mode, rr in u.items():
            x = [r.get("xfr") for r in rr]
            p(f"| {'alone' if mode == 'alone' else 'AXFRs back to back'} | "
              f"{fmt_spread([r['aps'] for r in rr])} | {spread([r['lost'] for r in rr])[0]:,.0f}"
              f" | {fmt_spread([r['server_cpu'] for r in rr], digits=2)} | "
              f"{fmt_spread([r['dnsperf_cpu'] for r in rr], digits=2)} | "
              f"{fmt_spread([r['other_cpu'] for r in rr], digits=1)} | " +
              (f"{fmt_spread([v['complete'] for v in x])} | {fmt_spread([v['rps'] for v in x])}"
               f" | {fmt_spread([v['first'] for v in x], digits=2)}"
               f" | {fmt_spread([v['reader_cpu'] for v in x], digits=2)} |"
               if x[0] else "- | - | - | - |"))
        R["udp_ratio"] = ratio(spread([r["aps"] for r in u["axfr"]])[0],
                               spread([r["aps"] for r in u["alone"]])[0])
        rounds = [ratio(y["aps"], x["aps"]) for x, y in zip(u["alone"], u["axfr"])]
        p("")
        p(f"- during/alone **{R['udp_ratio']:.2f}** (per round {fmt_spread(rounds, digits=2)};"
          f" goal >= {GOAL_DURING})")
    if "query" in R:
        q = R["query"]
        p("")
        p(f"### dnsbld, NSD and Knot answering the same zone (dnsperf -Q {a.rate or 'max'}, "
          f"{a.seconds} s runs, A and TXT, listed and unlisted)")
        p("")
        p("| server | q/s | lost | NOERROR | server CPU s | answers/CPU-s | dnsbld/server "
          "| other CPU s |")
        p("|---|---|---|---|---|---|---|---|")
        apc = {n: spread([r["apc"] for r in rr])[0] for n, rr in q.items()}
        for name, rr in q.items():
            noerr = spread([r["rcodes"].get("NOERROR", 0) / max(1, r["completed"]) for r in rr])[0]
            p(f"| {name} | {spread([r['qps'] for r in rr])[0]:,.0f} | "
              f"{spread([r['lost'] for r in rr])[0]:,.0f} | {noerr:.0%} | "
              f"{fmt_spread([r['server_cpu'] for r in rr], digits=2)} | "
              f"{fmt_spread([r['apc'] for r in rr])} | "
              f"{'-' if name == 'dnsbld' else format(ratio(apc['dnsbld'], apc[name]), '.2f')} | "
              f"{fmt_spread([r['other_cpu'] for r in rr], digits=1)} |")
        p("")
        p(f"- Answers compared first: {R['compared']} names (A: rcode and records) alike on "
          "all three.")
    if "notify" in R:
        p("")
        p("### Change to secondary (dnsbld notify -> a Knot, then an NSD secondary; import "
          "of one new address until the secondary answers it)")
        p("")
        p("| entries | secondary | changes | import end -> secondary answers | import time "
          "| sent as | dnsbld's IXFR | secondary's own time (its log) |")
        p("|---|---|---|---|---|---|---|---|")
        for n in R["notify"]:
            name = SECONDARY_NAME[n["secondary"]]
            if n["notify"]:
                kinds = ", ".join(f"{n['kinds'].count(k)} {k}" for k in sorted(set(n["kinds"])))
                ixfr = f"{fmt_spread(n['ixfr_ms'])} ms" if n["ixfr_ms"] else "-"
                own = f"{fmt_spread(n['own_s'], 1e-3)} ms" if n["own_s"] else "-"
                p(f"| {n['entries']:,} | {name} | {len(n['changes'])} | "
                  f"{fmt_spread(n['changes'], 1e-3)} ms | {fmt_spread(n['import_s'], 1e-3)} ms "
                  f"| {kinds} | {ixfr} | {own} |")
            else:
                p(f"| {n['entries']:,} | {name} | {len(n['import_s'])} | no NOTIFY ({name} did "
                  f"not have the change after {NOTIFY_WAIT:.0f} s) | "
                  f"{fmt_spread(n['import_s'], 1e-3)} ms | | | |")
        p("")
        p("- The secondary's own time, from its log. Knot's: its refresh, from its SOA query "
          "to the zone updated in place; Knot 3.2 re-checks and re-adjusts every node of the "
          "zone on each IXFR (zone_update_semcheck and zone_adjust_incremental_update in "
          "src/knot/updates/zone-update.c / src/knot/zone/adjust.c), so at millions of "
          "records it dominates, after dnsbld's IXFR has arrived. NSD's: from receiving the "
          "NOTIFY to serving the new serial (its \"notify for\" line to its \"is updated "
          "to\" line).")
    if "growth" in R:
        g = R["growth"]
        p("")
        p(f"### Store growth over {a.imports} imports --replace of the zone (a tenth "
          f"replaced each time), with and without a slow AXFR ({a.slow_rate // 1024} KiB/s) open")
        p("")
        p("| open transfer | data.mdb before -> after | growth | pages used, before and after "
          "each import | growth | oldest reader / last txn | import s |")
        p("|---|---|---|---|---|---|---|")
        for mode, row in g.items():
            p(f"| {mode} | {db.mib(row['file_before'])} -> {db.mib(row['file_after'])} | "
              f"{db.mib(row['file_after'] - row['file_before'])} | "
              + " -> ".join(db.mib(x) for x in [row["used_before"]] + row["used_each"]) +
              f" | {db.mib(row['used_after'] - row['used_before'])} | "
              f"{row['oldest_reader_txn'] or '-'} / {row['last_txn']} | "
              f"{fmt_spread(row['import_s'], digits=1)} |")
        w, o = g.get("with"), g.get("without")
        if w and o:
            p("")
            p(f"- growth with the open transfer / without: **"
              f"{ratio(w['used_after'] - w['used_before'], o['used_after'] - o['used_before']):.2f}"
              f"** (the slow reader read {(w['slow_bytes'] or 0) // 1024:,} KiB in "
              f"{w['slow_seconds'] or 0:.0f} s, its first message after "
              f"{fmt_opt(w['slow_first'])})")
    print("\n".join(lines), flush=True)


# --------------------------------------------------------------------------------------

def parse_args():
    """The options, with --quick's and the defaults filled in."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=None,
                    help="entries of the data set (default 1M; --quick 20k)")
    ap.add_argument("--full", action="store_true", help="also AXFR at 10M entries")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 20k entries, 2 rounds, 2 s runs, 2 changes, 3 imports "
                         "(each unless given explicitly)")
    ap.add_argument("--repeat", type=int, default=None,
                    help="rounds of every measurement, servers alternating (default 5)")
    ap.add_argument("--seconds", type=int, default=None,
                    help="length of each dnsperf run (default 3; --quick 2)")
    ap.add_argument("--rate", type=int, default=50000,
                    help="offered q/s when comparing the servers (dnsperf -Q; 0: full speed)")
    ap.add_argument("--udp-qps", type=int, default=0,
                    help="dnsperf -Q of the UDP-during-AXFR runs (default 0: full speed)")
    ap.add_argument("--clients", type=int, default=1, help="dnsperf -c (default 1)")
    ap.add_argument("--outstanding", type=int, default=100, help="dnsperf -q (default 100)")
    ap.add_argument("--queries", type=int, default=None,
                    help="lines of the dnsperf query file (default 200k; --quick 20k)")
    ap.add_argument("--changes", type=int, default=None,
                    help="changes timed to each secondary (default 5; --quick 2)")
    ap.add_argument("--only-change", action="store_true",
                    help="run only the change-to-secondary step")
    ap.add_argument("--notify-entries", type=int, default=None,
                    help="entries of the zone the secondaries copy (default as --entries)")
    ap.add_argument("--imports", type=int, default=None,
                    help="imports --replace of the growth step (default 4; --quick 3)")
    ap.add_argument("--slow-rate", type=int, default=65536,
                    help="bytes/s the slow AXFR reader reads (default 64 KiB/s)")
    ap.add_argument("--pin", default=None, metavar="SERVER_CPU,LOAD_CPU",
                    help="pin the servers to SERVER_CPU and the clients to LOAD_CPU "
                         "(default 1,0 with 2 CPUs or more; none: no pinning)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--workdir", default=None, help="parent of the work directory (default /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    # the AXFR reader process this script starts
    ap.add_argument("--reader", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--zone", default=ZONE, help=argparse.SUPPRESS)
    ap.add_argument("--count", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--until-eof", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.reader:
        return a
    defaults = {"entries": 1_000_000, "repeat": 5, "seconds": 3, "queries": 200_000,
                "changes": 5, "notify_entries": None, "imports": 4}
    if a.quick:
        defaults = {"entries": 20_000, "repeat": 2, "seconds": 2, "queries": 20_000,
                    "changes": 2, "notify_entries": None, "imports": 3}
    for k, v in defaults.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.notify_entries is None:
        a.notify_entries = a.entries
    a.notify_entries = min(a.notify_entries, a.entries)
    if min(a.entries, a.repeat, a.seconds, a.queries, a.changes, a.imports,
           a.slow_rate) < 1:
        ap.error("--entries, --repeat, --seconds, --queries, --changes, --imports and "
                 "--slow-rate must be positive")
    db.parse_pin(ap, a)
    return a


class Done(Exception):
    """The steps asked for have run (--only-change)."""


def main():
    a = parse_args()
    if a.reader:
        return reader_main(a)
    for p in (t.DNSBLD, t.LOADER, db.DNSPERF, NSD, KNOTD, MDB_STAT):
        if not os.access(p, os.X_OK):
            log(f"missing {p} (make all; apt-get install dnsperf nsd knot lmdb-utils)")
            return 2
    seed = a.seed if a.seed is not None else random.randrange(1, 2**63)
    a.seed = seed
    if a.workdir:
        pathlib.Path(a.workdir).mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="dnsbl-xfrbench-", dir=a.workdir))
    mach = db.machine()
    R, problems = {"sets": {}}, []
    t_all = time.monotonic()
    servers = {}
    try:
        log(f"work directory {work}, seed {seed}")
        tools = {"gen": work / "gen_sets"}
        run(["cc", "-O2", "-std=gnu11", "-o", tools["gen"], HERE / "gen_sets.c"], timeout=120)

        tag = f"v4-{a.entries // 1000}k" if a.entries < 1_000_000 else \
            f"v4-{a.entries / 1e6:g}m"
        d, srv, data, qfile, sample, zonefile, info = prepare_set(tag, a.entries, a, work,
                                                                  tools, seed)
        if a.only_change:
            R["notify"] = notify_steps(data, a, d, problems)
            raise Done
        servers = start_all(d, srv, zonefile, a, ("nsd", "knot"))
        axfr = axfr_step(tag, {k: servers[k] for k in SERVERS_AXFR}, a, info["store"][0],
                         problems)
        R["sets"][tag] = {"info": info, "axfr": axfr}
        R["udp"] = udp_during_step(servers["dnsbld"], qfile, a, d)
        diffs = compare_sample(sample, {k: servers[k] for k in SERVERS_QUERY})
        if diffs:
            raise Failed(f"{len(diffs)} of {len(sample)} A answers differ between the servers,"
                         " e.g.:\n  " + "\n  ".join(diffs[:10]))
        R["compared"] = len(sample)
        log(f"{len(sample)} names answer alike (A) on dnsbld, NSD and Knot")
        R["query"] = query_step({k: servers[k] for k in SERVERS_QUERY}, qfile, a, d, problems)
        stop_all(servers, problems)
        servers = {}

        files = variant_files(d, data, tools, seed + 1, a.entries, a)
        R["growth"] = growth_step(srv.db, files, a, d, problems)
        R["notify"] = notify_steps(data, a, d, problems)
        if not a.keep:
            shutil.rmtree(d, ignore_errors=True)     # the 10M set needs the room

        if a.full:
            big = 10_000_000
            tag = "v4-10m"
            d, srv, data, qfile, sample, zonefile, info = prepare_set(tag, big, a, work, tools,
                                                                      seed + 2)
            # NSD holds the zone in memory: about ten times its 1M peak, which this
            # machine may not have (24 GiB: NSD at 10M needs about as much)
            small = R["sets"].get(next(iter(R["sets"]), ""), {}).get("axfr", {})
            nsd_1m = max((r["rss_peak"]["VmRSS"] for r in small.get("nsd", [])), default=0)
            need = nsd_1m * big // max(1, a.entries) * 11 // 10
            avail = mem_available()
            want = ("nsd",) if need and need < avail else ()
            if not want:
                log(f"{tag}: NSD not started: it would need about {db.mib(need)} (its peak at "
                    f"{a.entries:,} entries times {big // a.entries}), {db.mib(avail)} "
                    "available; dnsbld's rate is compared with NSD's at the smaller set")
            servers = start_all(d, srv, zonefile, a, want)
            axfr = axfr_step(tag, servers, a, info["store"][0], problems)
            R["sets"][tag] = {"info": info, "axfr": axfr, "nsd_skipped": not want,
                              "nsd_need": need, "mem_available": avail}
            stop_all(servers, problems)
            servers = {}
    except Done:
        pass
    except Failed as e:
        problems.append(str(e))
    except subprocess.TimeoutExpired as e:
        problems.append(f"time limit: {e}")
    finally:
        stop_all(servers, problems)
        if a.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print()
    report(R, a, mach)
    goals = goal_lines(R)
    if goals:
        print("\nGoals (reported, never enforced):\n")
        for ok, text in goals:
            print(f"- {'PASS' if ok else 'MISS'}: {text}")
    mach["loadavg_at_end"] = " ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])
    print(f"\nTotal {time.monotonic() - t_all:.0f} s; seed {seed}; load average at the end "
          f"{mach['loadavg_at_end']}.")
    if a.json:
        doc = {"machine": mach, "seed": seed, "args": vars(a), "results": R,
               "goals": goals, "problems": problems}
        pathlib.Path(a.json).write_text(json.dumps(doc, indent=1, default=str) + "\n")
    if problems:
        print("\nFAILED:")
        for p in problems:
            print(f"- {p}")
        return 1
    print("\nOK")
    return 0


def goal_lines(R):
    """The goals as (met, text): reported, never enforced."""
    goals = []
    for n in R.get("notify", []):
        if n["notify"] and n["changes"]:
            med = statistics.median(n["changes"])
            goals.append((med < GOAL_CHANGE_S, f"change to secondary "
                          f"({SECONDARY_NAME[n['secondary']]}): median {med * 1000:.0f} ms < "
                          f"{GOAL_CHANGE_S * 1000:.0f} ms ({n['entries']:,} entries)"))
    if "udp_ratio" in R:
        goals.append((R["udp_ratio"] >= GOAL_DURING,
                      f"UDP answers/s during AXFRs / alone {R['udp_ratio']:.2f} >= {GOAL_DURING}"))
    for tag, s in R.get("sets", {}).items():
        rr = s["axfr"].get("dnsbld", [])
        if not rr:
            continue
        nsd, where = s["axfr"].get("nsd", []), ""
        if not nsd and s.get("nsd_skipped"):
            for other, o in R["sets"].items():
                if o["axfr"].get("nsd"):
                    nsd, where = o["axfr"]["nsd"], f" at {other} (NSD not run at {tag})"
                    break
        if nsd:
            ours = statistics.median(r["rps"] for r in rr)
            theirs = statistics.median(r["rps"] for r in nsd)
            goals.append((ours >= theirs, f"{tag}: dnsbld's AXFR {ours:,.0f} records/s >= "
                          f"NSD's {theirs:,.0f}{where} ({ours / theirs:.2f})"))
        grow = max(r["rss_peak"]["RssAnon"] - r["rss_anon_before"] for r in rr)
        goals.append((grow <= ANON_GROWTH_MAX,
                      f"{tag}: dnsbld's anonymous memory grows {db.mib(grow)} during an AXFR "
                      f"(<= {db.mib(ANON_GROWTH_MAX)}: only the mapped store may grow)"))
        share = max(r["reader_share"] for r in rr)
        goals.append((share < 0.8, f"{tag}: the AXFR reader used at most {share:.0%} of a core"
                                   " (< 80%: the client is not the bottleneck)"))
    return goals


if __name__ == "__main__":
    sys.exit(main())
