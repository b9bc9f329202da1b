#!/usr/bin/python3
"""Query-rate benchmark: dnsbld against rbldnsd and a trivial floor responder.

  /usr/bin/python3 tests/bench/dns_bench.py [--sets v4-1m,v4-10m,v6-1m] [--quick]
                                             [--seconds S] [--repeat N] [--json FILE]
                                             [--baseline DIR] [--pin S,L | --pin none]
                                             [--servers dnsbld,dnsbld-base,rbldnsd,floor]

1. tests/bench/gen_sets.c (built here) writes each data set: an rbldnsd ip4set
   (ip6trie) file whose first line is the default ":127.0.0.2:Listed, see
   https://bl.bench/lookup?ip=$", then non-overlapping entries (IPv4: ~90% /32, ~10%
   /24../28, a few /16../23; IPv6: /128, /64, a few /48), and dnsperf query files (A
   and TXT, the same names): half an address inside an entry, half one no entry covers.
2. dnsbld (zone bl.bench, threads = 1, 127.0.0.1, a free port) gets the file with
   `dnsbl-loader import bl.bench FILE --format rbldnsd --no-progress` (timed); rbldnsd
   (Debian package) serves the same file as bl.bench:ip4set (ip6trie) after a small
   file with the same $SOA/$NS/$TTL as dnsbld's config; floor.c (built here) answers
   every query with NXDOMAIN, no lookup: what no server can beat on this kernel.
   Each server's start-up time is measured from spawn to the first correct answer
   for a listed name (a UDP probe every 2 ms), its RSS once it answers.
3. A sample of names (A and TXT) must get identical answers from dnsbld and rbldnsd
   (rcode and the answer section's records, TTLs aside); else exit 1.
4. dnsperf drives each server in turn (dnsbld, rbldnsd, floor; A then TXT), --repeat
   times interleaved, for --seconds at --rate q/s (default 50k; 0 = full speed):
   queries/s, lost, the server's CPU
   seconds (utime + stime from /proc/PID/stat around the run), answers per CPU-second.
   A short run at a fixed moderate rate with `dnsperf -v` (per-query latencies) gives
   p50/p99. Medians of the repeats are reported, with the answers/CPU-s spread.
5. Prints a Markdown table per data set, the ratios dnsbld/rbldnsd and dnsbld/floor,
   and the design's goals as PASS/MISS (reported, never enforced).

--baseline DIR: DIR/dnsbld (another build, e.g. the previous main) serves the store the
   main dnsbld's loader filled, read-only, with its own config and port, as the server
   "dnsbld-base": it takes its turn in every step above (after dnsbld), its answers are
   compared with rbldnsd's too, and each set gets a table dnsbld against dnsbld-base
   per qtype: median answers/CPU-s with min-max, their ratio, and the min-max of the
   ratio within each round of the rotation. `--baseline bin` (the same build) shows
   how far two runs of one binary differ here.
--pin SERVER_CPU,LOAD_CPU (default 1,0 with two CPUs or more; `none` turns it off):
   every thread of each server is pinned to SERVER_CPU once it answers and again
   before each dnsperf run (threads it started later), dnsperf to LOAD_CPU.
--servers LIST: only these, of dnsbld (always), dnsbld-base, rbldnsd, floor (default
   all; dnsbld-base with --baseline). Answers are compared with rbldnsd's when it runs,
   else dnsbld's with dnsbld-base's; goals that need a server left out are not shown.

Exit status 1 on differing answers, a server that does not start or dies, dnsperf
failing, or dnsbld not exiting 0 on SIGTERM; missed goals do not change it. Everything
runs on loopback; every subprocess has a time limit; the work directory (under /tmp
unless --workdir) is deleted at the end unless --keep.
"""

import argparse
import json
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
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import dnsbltest as t  # noqa: E402  (binaries, free ports, config, a running dnsbld)
from benchutil import (Failed, cpu_model, disk_usage, logger, pin_threads,  # noqa: E402
                       proc_cpu, run)
import dns.exception  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

log = logger("[dns-bench]")

DNSPERF = "/usr/bin/dnsperf"
RBLDNSD = "/usr/sbin/rbldnsd"
HERE = REPO / "tests" / "bench"
ZONE = "bl.bench"
LISTED_A = "127.0.0.2"
TXT = "Listed, see https://bl.bench/lookup?ip=$"
TTL = 300
SOA = f"ns1.{ZONE}. hostmaster.{ZONE}. 3600 600 86400 120"
NS = f"ns1.{ZONE}."
# The zone's own txt is the file's default, so entries carry no TXT of their own
# (what an operator moving an rbldnsd zone would configure).
ZONES = {ZONE: {"type": "ip", "policy": "block", "ttl": TTL, "a": LISTED_A, "txt": TXT,
                "soa": SOA, "ns": NS}}
SETS = {"v4-1m": (4, 1_000_000), "v4-10m": (4, 10_000_000), "v6-1m": (6, 1_000_000)}
SERVERS = ("dnsbld", "dnsbld-base", "rbldnsd", "floor")   # the rotation's order
QTYPES = ("A", "TXT")
GOAL_FLOOR = 0.90          # dnsbld answers/CPU-s as a share of the floor's
GOAL_RBLDNSD = 1.2         # ... and as a multiple of rbldnsd's
GOAL_STARTUP = 0.100       # seconds, spawn to first answer
GOAL_SETS = ("v4-1m", "v4-10m")   # the answers/CPU-s goals are stated for these
PROBE_EVERY = 0.002        # start-up probe interval
STOP_TIMEOUT = 5.0


def machine_cpu():
    """(busy, steal) CPU seconds of the whole machine so far, from /proc/stat."""
    v = [int(x) for x in pathlib.Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (v + [0] * 8)[:8]
    hz = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / hz, steal / hz


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def proc_rss(pid):
    """VmRSS in bytes, or nan."""
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return float("nan")


def mib(nbytes):
    return "-" if nbytes != nbytes else f"{nbytes / 2**20:.0f} MiB"


def median(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def machine():
    cpu = cpu_model()
    load = pathlib.Path("/proc/loadavg").read_text().split()[:3]
    return {"kernel": platform.release(), "cpu": cpu, "nproc": os.cpu_count(),
            "loadavg_at_start": " ".join(load)}


# --------------------------------------------------------------------------------------
# Servers

class Proc:
    """A server process we spawned: dnsbld (through dnsbltest.Dnsbl), rbldnsd or floor."""

    def __init__(self, name, port):
        self.name = name
        self.port = port
        self.proc = None
        self.t_spawn = None
        self.log_path = None
        self.dnsbl = None
        self.threads = 0        # most threads seen when pinning

    @property
    def pid(self):
        return self.proc.pid

    def spawn(self, cmd, log_path, cwd=None):
        self.log_path = log_path
        f = open(log_path, "wb")
        try:
            self.t_spawn = time.monotonic()
            self.proc = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                                         stdout=f, stderr=subprocess.STDOUT, cwd=cwd)
        finally:
            f.close()

    def spawn_dnsbld(self, srv):
        self.dnsbl = srv
        self.log_path = srv.stderr_path
        self.t_spawn = time.monotonic()
        srv.start(wait=False)
        self.proc = srv.proc

    def pin(self, cpu):
        """Pins every thread of the server to cpu (nothing when cpu is None)."""
        if cpu is None:
            return
        if not self.alive():
            raise Failed(f"{self.name} died\n{self.log_text()}")
        try:
            self.threads = max(self.threads, pin_threads(self.pid, {cpu}))
        except OSError as e:
            raise Failed(f"{self.name}: cannot pin its threads to CPU {cpu}: {e}\n"
                         f"{self.log_text()}")

    def log_text(self):
        try:
            return pathlib.Path(self.log_path).read_text(errors="replace")[-3000:]
        except (OSError, TypeError):
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s. Returns the exit code (None: killed)."""
        if self.proc is None:
            return None
        if self.dnsbl is not None:
            code = self.dnsbl.stop(STOP_TIMEOUT)
            self.proc = None
            return code
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.proc = None
                return None
        code = self.proc.returncode
        self.proc = None
        return code


def wait_first_answer(srv, qname, want_listed, timeout):
    """Sends an A query for qname every PROBE_EVERY from spawn on until a correct answer
    arrives (NOERROR with A 127.0.0.2 when want_listed; any reply to our query for the
    floor); returns seconds from spawn to that answer."""
    q = dns.message.make_query(qname, "A")
    q.id = random.randrange(1, 65536)
    wire = q.to_wire()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    deadline = srv.t_spawn + timeout
    try:
        while True:
            now = time.monotonic()
            if now > deadline:
                raise Failed(f"{srv.name}: no correct answer within {timeout:.0f}s of "
                             f"spawning it\n{srv.log_text()}")
            if not srv.alive():
                raise Failed(f"{srv.name} exited with {srv.proc.returncode} at start-up"
                             f"\n{srv.log_text()}")
            try:
                sock.sendto(wire, ("127.0.0.1", srv.port))
            except OSError:
                pass
            end = now + PROBE_EVERY
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                r, _, _ = select.select([sock], [], [], left)
                if not r:
                    break
                try:
                    data = sock.recv(4096)
                except OSError:
                    continue
                t_got = time.monotonic()
                try:
                    m = dns.message.from_wire(data)
                except dns.exception.DNSException:
                    continue
                if m.id != q.id:
                    continue
                if not want_listed:
                    return t_got - srv.t_spawn
                if m.rcode() == dns.rcode.NOERROR and LISTED_A in t.a_values(m):
                    return t_got - srv.t_spawn
    finally:
        sock.close()


# --------------------------------------------------------------------------------------
# Identical answers

def normalized(resp):
    """rcode and the answer section's records (owner, type, rdata), TTLs aside."""
    recs = set()
    for rs in resp.answer:
        for rd in rs:
            recs.add((rs.name.to_text().lower(), dns.rdatatype.to_text(rs.rdtype),
                      rd.to_text()))
    return dns.rcode.to_text(resp.rcode()), frozenset(recs)


def ask(port, qname, qtype):
    q = dns.message.make_query(qname, qtype)
    for attempt in range(3):
        try:
            return normalized(dns.query.udp(q, "127.0.0.1", port=port, timeout=2.0))
        except dns.exception.Timeout:
            if attempt == 2:
                return ("TIMEOUT", frozenset())
    return None


def compare_answers(names, srv_a, srv_b):
    """Differences between the two servers over names x (A, TXT): a list of text lines.
    Also counts the listed/unlisted answers srv_a gave (a sanity check of the data)."""
    diffs = []
    seen = {"NOERROR": 0, "NXDOMAIN": 0}
    for name in names:
        for qtype in QTYPES:
            a = ask(srv_a.port, name, qtype)
            b = ask(srv_b.port, name, qtype)
            seen[a[0]] = seen.get(a[0], 0) + 1
            if a != b:
                diffs.append(f"{name} {qtype}: {srv_a.name} {a[0]} {sorted(a[1])} / "
                             f"{srv_b.name} {b[0]} {sorted(b[1])}")
    return diffs, seen


# --------------------------------------------------------------------------------------
# dnsperf

def parse_dnsperf(text, rc):
    def num(label, conv=int):
        m = re.search(rf"^\s*{label}:\s*([0-9.]+)", text, re.M)
        return conv(m.group(1)) if m else None

    res = {"sent": num("Queries sent"), "completed": num("Queries completed"),
           "lost": num("Queries lost"), "interrupted": num("Queries interrupted") or 0,
           "qps": num("Queries per second", float), "runtime": num(r"Run time \(s\)", float),
           "avg_latency": num(r"Average Latency \(s\)", float), "rcodes": {}, "rc": rc}
    m = re.search(r"^\s*Response codes:\s*(.*)$", text, re.M)
    if m:
        for code, count in re.findall(r"([A-Z0-9]+) (\d+) \(", m.group(1)):
            res["rcodes"][code] = int(count)
    m = re.search(r"Average packet size:\s*request (\d+), response (\d+)", text)
    if m:
        res["req_size"], res["resp_size"] = int(m.group(1)), int(m.group(2))
    if rc != 0 or res["sent"] is None or res["completed"] is None or res["lost"] is None:
        raise Failed(f"dnsperf failed or cannot be parsed (exit {rc}):\n{text[-3000:]}")
    return res


def dnsperf(port, qfile, seconds, a, out, qps=None, verbose=False):
    cmd = [DNSPERF, "-s", "127.0.0.1", "-p", str(port), "-d", str(qfile),
           "-l", str(seconds), "-c", str(a.clients), "-q", str(a.outstanding)]
    if qps:
        cmd += ["-Q", str(qps)]
    if verbose:
        cmd.append("-v")
    pin = None
    if a.pin:
        load_cpu = a.pin[1]
        pin = lambda: os.sched_setaffinity(0, {load_cpu})  # noqa: E731  (its threads inherit it)
    with open(out, "wb") as f:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f,
                             stderr=subprocess.STDOUT, preexec_fn=pin)
        try:
            p.wait(seconds + 30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise Failed(f"dnsperf did not finish within {seconds + 30}s")
    text = pathlib.Path(out).read_text(errors="replace")
    return parse_dnsperf(text, p.returncode), text


def server_cpu(a):
    """The CPU the servers are pinned to, or None."""
    return a.pin[0] if a.pin else None


def rate_run(srv, qfile, a, out):
    """One dnsperf run (at --rate q/s; full speed with --rate 0): its report plus the
    server's CPU seconds, dnsperf's,
    and what the rest of the machine used meanwhile (a noise gauge on a shared VM:
    other processes, and time stolen by the hypervisor)."""
    srv.pin(server_cpu(a))
    busy0, steal0 = machine_cpu()
    perf0 = children_cpu()
    cpu0 = proc_cpu(srv.pid)
    res, _ = dnsperf(srv.port, qfile, a.seconds, a, out, qps=a.rate or None)
    cpu = proc_cpu(srv.pid) - cpu0
    res["dnsperf_cpu"] = children_cpu() - perf0
    busy1, steal1 = machine_cpu()
    res["other_cpu"] = max(0.0, busy1 - busy0 - cpu - res["dnsperf_cpu"])
    res["steal"] = steal1 - steal0
    if not srv.alive():
        raise Failed(f"{srv.name} died during a dnsperf run\n{srv.log_text()}")
    res["cpu"] = cpu
    res["util"] = cpu / res["runtime"] if res["runtime"] else float("nan")
    res["apc"] = res["completed"] / cpu if cpu > 0 else float("nan")
    return res


def latency_run(srv, qfile, a, out):
    """A short run at a fixed moderate rate with -v: per-query latencies -> p50/p99."""
    srv.pin(server_cpu(a))
    res, text = dnsperf(srv.port, qfile, a.lat_seconds, a, out, qps=a.lat_qps, verbose=True)
    lat = sorted(float(m.group(1))
                 for m in re.finditer(r"^> \S+ \S+ \S+ ([0-9.]+)$", text, re.M))
    if not lat:
        raise Failed(f"no per-query latencies in dnsperf -v output ({out})")
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]  # noqa: E731
    return {"p50": pct(0.50), "p99": pct(0.99), "n": len(lat), "lost": res["lost"],
            "qps": res["qps"]}


# --------------------------------------------------------------------------------------
# One data set

def run_set(name, family, entries, a, work, tools, seed, problems):
    d = work / name
    d.mkdir()
    os.chmod(d, 0o755)
    res = {"set": name, "family": family, "entries": entries, "servers": {}}
    data, qa, qt = d / f"{name}.data", d / "queries-A.txt", d / "queries-TXT.txt"
    t0 = time.monotonic()
    out = run([tools["gen"], seed, entries, family, ZONE, data, a.queries, qa, qt],
              timeout=300).stdout
    res["gen_s"] = time.monotonic() - t0
    listed = [ln.split()[1] for ln in out.splitlines() if ln.startswith("listed ")]
    res["lens"] = {int(m.group(1)): int(m.group(2))
                   for m in re.finditer(r"^len (\d+) (\d+)$", out, re.M)}
    os.chmod(data, 0o644)
    log(f"{name}: {entries:,} entries ({mib(data.stat().st_size)}) generated in "
        f"{res['gen_s']:.1f}s")

    # rbldnsd reads the $SOA/$NS/$TTL of the first file of the dataset: the same
    # values as dnsbld's config, so negative answers carry the SOA on both sides
    meta = d / "meta.rbldnsd"
    refresh, retry, expire, minimum = SOA.split()[2:]
    meta.write_text(f"$SOA {TTL} ns1.{ZONE}. hostmaster.{ZONE}. 0 {refresh} {retry} "
                    f"{expire} {minimum}\n$NS {TTL} {NS}\n$TTL {TTL}\n")
    os.chmod(meta, 0o644)

    # ---- dnsbld: import (timed), then spawn
    srv_d = t.Dnsbl(d / "dnsbld", zones=ZONES, server_opts={"threads": 1})
    limit = 120 + entries / 50_000
    t0 = time.monotonic()
    r = srv_d.loader("import", ZONE, data, "--format", "rbldnsd", "--no-progress",
                     timeout=limit)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise Failed(f"dnsbl-loader import: exit {r.returncode}\n{r.stderr}{r.stdout}")
    added = t.summary_count(r.stdout + r.stderr, "added")
    if added is not None and added != entries:
        problems.append(f"{name}: the loader added {added} entries, expected {entries}")
    res["import"] = {"wall": wall, "rate": entries / wall, "store": disk_usage(srv_d.db)[0],
                     "summary": (r.stdout + r.stderr).strip()[-500:]}
    log(f"{name}: dnsbl-loader import {wall:.1f}s ({entries / wall / 1e6:.2f}M entries/s), "
        f"store {mib(res['import']['store'])}")

    names = a.server_list
    servers = {s: Proc(s, None) for s in names}
    try:
        startup = start_servers(servers, srv_d, listed[0], family, a, d, data, meta,
                                tools["floor"])
        for s in names:
            res["servers"][s] = {"startup": startup[s], "rss_load": proc_rss(servers[s].pid),
                                 "runs": {q: [] for q in QTYPES},
                                 "lat": {q: [] for q in QTYPES}}
        log(f"{name}: start-up to first answer: " + ", ".join(
            f"{s} {startup[s] * 1000:.0f} ms" for s in names))
        if a.pin:
            log(f"{name}: pinned to CPU {a.pin[0]}: " + ", ".join(
                f"{s} {servers[s].threads} thread{'s' if servers[s].threads != 1 else ''}"
                for s in names) + f"; dnsperf to CPU {a.pin[1]}")

        # ---- identical answers on a sample
        with open(qa) as f:
            sample = [next(f).split()[0] for _ in range(min(a.sample, a.queries))]
        res["compare"] = compare_step(name, sample, servers)

        # ---- rate runs, interleaved
        files = {"A": qa, "TXT": qt}
        width = max(len(s) for s in names)
        for rep in range(a.repeat):
            for s in names:
                srv = servers[s]
                for q in QTYPES:
                    rr = rate_run(srv, files[q], a, d / f"perf-{s}-{q}-{rep}.txt")
                    lr = latency_run(srv, files[q], a, d / f"lat-{s}-{q}-{rep}.txt")
                    res["servers"][s]["runs"][q].append(rr)
                    res["servers"][s]["lat"][q].append(lr)
                    bad = {k: v for k, v in rr["rcodes"].items()
                           if k not in ("NOERROR", "NXDOMAIN")}
                    if bad:
                        problems.append(f"{name}: {s} {q}: response codes {bad}")
                    log(f"{name} #{rep + 1} {s:{width}} {q:3}: {rr['qps']:9,.0f} q/s, "
                        f"{rr['lost']:,} lost, CPU {rr['cpu']:.2f}s, "
                        f"{rr['apc']:9,.0f} answers/CPU-s; p50 {lr['p50'] * 1e6:.0f} us, "
                        f"p99 {lr['p99'] * 1e6:.0f} us; others {rr['other_cpu']:.1f} "
                        f"CPU-s, steal {rr['steal']:.1f}s")
        for s in names:
            res["servers"][s]["rss_after"] = proc_rss(servers[s].pid)
            res["servers"][s]["threads"] = servers[s].threads
    finally:
        for s in names:
            srv = servers[s]
            if srv.proc is None:
                continue
            was_running = srv.alive()
            code = srv.stop()
            if s.startswith("dnsbld") and was_running and code != 0:
                text = srv_d.stderr_text() if s == "dnsbld" else srv.log_text()
                problems.append(f"{name}: {s} exit code after SIGTERM: {code}\n"
                                f"{text[-2000:]}")
    summarize(res)
    return res


def start_servers(servers, srv_d, listed, family, a, d, data, meta, floor):
    """Spawns the servers chosen, in the rotation's order, each once the one before
    answers, and pins each when it does; returns {server: seconds to first answer}."""
    startup = {}
    for s, srv in servers.items():
        if s == "dnsbld":
            srv.port = srv_d.port
            srv.spawn_dnsbld(srv_d)
            startup[s] = wait_first_answer(srv, listed, True, 60)
        elif s == "dnsbld-base":
            srv.port = t.free_port()
            base = d / "dnsbld-base"
            base.mkdir()
            conf = base / "dnsbl.conf"
            # the store the main build's loader filled, read-only (dnsbld never writes)
            conf.write_text(t.config_text(srv_d.db.resolve(), [f"127.0.0.1:{srv.port}"],
                                          ZONES, {"threads": 1}))
            srv.spawn([a.baseline / "dnsbld", "-c", conf, "-f"], base / "dnsbld.stderr",
                      cwd=base)
            startup[s] = wait_first_answer(srv, listed, True, 60)
        elif s == "rbldnsd":
            srv.port = t.free_port()
            kind = "ip4set" if family == 4 else "ip6trie"
            srv.spawn([RBLDNSD, "-n", "-a", "-c", "0", "-t", f"{TTL}",
                       "-b", f"127.0.0.1/{srv.port}", "-w", d,
                       f"{ZONE}:{kind}:{meta.name},{data.name}"], d / "rbldnsd.log")
            startup[s] = wait_first_answer(srv, listed, True, 300)
        else:
            srv.port = t.free_port()
            srv.spawn([floor, "127.0.0.1", srv.port], d / "floor.log")
            startup[s] = wait_first_answer(srv, listed, False, 30)
        srv.pin(server_cpu(a))
    return startup


def compare_pairs(names):
    """Which servers' answers are compared: (server, reference) pairs."""
    if "rbldnsd" in names:
        return [(s, "rbldnsd") for s in ("dnsbld", "dnsbld-base") if s in names]
    if "dnsbld-base" in names:
        return [("dnsbld", "dnsbld-base")]
    return []


def compare_step(name, sample, servers):
    """Compares the answers of each pair of compare_pairs on sample x (A, TXT): Failed
    on a difference; else what the report says about it."""
    pairs = compare_pairs(list(servers))
    out = {"names": len(sample), "differences": 0, "pairs": pairs}
    for x, ref in pairs:
        t0 = time.monotonic()
        diffs, seen = compare_answers(sample, servers[x], servers[ref])
        out["differences"] += len(diffs)
        out.setdefault(x, seen)
        if diffs:
            raise Failed(f"{name}: {len(diffs)} of {2 * len(sample)} answers differ between "
                         f"{x} and {ref}, e.g.:\n  " + "\n  ".join(diffs[:10]))
        log(f"{name}: {len(sample)} names x A/TXT answer alike on {x} and {ref} "
            f"({seen.get('NOERROR', 0)} NOERROR, {seen.get('NXDOMAIN', 0)} NXDOMAIN; "
            f"{time.monotonic() - t0:.1f}s)")
    if not pairs:
        log(f"{name}: answers not compared (neither rbldnsd nor dnsbld-base runs)")
    return out

def summarize(res):
    for s, sr in res["servers"].items():
        sr["summary"] = {}
        for q in QTYPES:
            runs, lats = sr["runs"][q], sr["lat"][q]
            if not runs:
                continue
            apcs = [r["apc"] for r in runs]
            sr["summary"][q] = {
                "qps": median([r["qps"] for r in runs]),
                "lost": median([r["lost"] for r in runs]),
                "lost_total": sum(r["lost"] for r in runs),
                "sent_total": sum(r["sent"] for r in runs),
                "cpu": median([r["cpu"] for r in runs]),
                "util": median([r["util"] for r in runs]),
                "apc": median(apcs), "apc_min": min(apcs), "apc_max": max(apcs),
                "p50": median([x["p50"] for x in lats]),
                "p99": median([x["p99"] for x in lats]),
                "resp_size": runs[0].get("resp_size"),
            }


# --------------------------------------------------------------------------------------
# Report

def us(v):
    return "-" if v != v else f"{v * 1e6:.0f} us"


def ratio(x, y):
    return x / y if y and y == y else float("nan")


def pin_text(a):
    if a.pin:
        return (f"Pinned: every thread of each server to CPU {a.pin[0]}, dnsperf to CPU "
                f"{a.pin[1]}.")
    return "Not pinned" + (" (--pin none)." if a.pin_arg == "none" else " (one CPU).")


def report(results, a, mach):
    lines = []
    p = lines.append
    names = a.server_list
    p(f"Machine: Linux {mach['kernel']}, {mach['cpu']}, nproc {mach['nproc']} "
      f"(load average at start {mach['loadavg_at_start']}). dnsperf -c {a.clients} "
      f"-q {a.outstanding} " + (f"-Q {a.rate}" if a.rate else "at full speed") +
      f", {a.seconds} s runs x {a.repeat} (median; answers/CPU-s "
      f"min-max); latency: -Q {a.lat_qps} -v for {a.lat_seconds} s; dnsbld threads = 1; "
      f"dnsbld {t.DNSBLD}." +
      (f" dnsbld-base {a.baseline / 'dnsbld'}." if "dnsbld-base" in names else "") +
      f" {pin_text(a)}")
    goals = []
    for res in results:
        sv = res["servers"]
        if not all(s in sv and sv[s]["summary"] for s in names):
            continue
        report_set(res, a, p)
        if "dnsbld-base" in names:
            report_baseline(res, a, p)
        goals += set_goals(res, names)
    if goals:
        p("")
        p("Goals (design.md, Performance budget; reported, never enforced):")
        p("")
        for ok, text in goals:
            p(f"- {'PASS' if ok else 'MISS'}: {text}")
    print("\n".join(lines), flush=True)
    return [{"pass": ok, "goal": text} for ok, text in goals]


def compared_text(cmp):
    pairs = [tuple(x) for x in cmp["pairs"]]
    if not pairs:
        return "Answers not compared (neither rbldnsd nor dnsbld-base ran)."
    who = "" if pairs == [("dnsbld", "rbldnsd")] else " (" + "; ".join(
        f"{x} against {ref}" for x, ref in pairs) + ")"
    return f"Answers compared: {cmp['names']:,} names x A/TXT{who}, identical."


def report_set(res, a, p):
    """One set's import line, table, noise line and ratios (kept in res["ratios"])."""
    names = a.server_list
    sv = res["servers"]
    lens = ", ".join(f"/{k} {v:,}" for k, v in sorted(res["lens"].items()))
    imp = res["import"]
    p("")
    p(f"### {res['set']}: {res['entries']:,} IPv{res['family']} entries ({lens})")
    p("")
    p(f"dnsbl-loader import: {imp['wall']:.2f} s, {imp['rate'] / 1e6:.2f}M entries/s, "
      f"store {mib(imp['store'])}. {compared_text(res['compare'])}")
    p("")
    # CPU s: the server's utime + stime during a run (and that as a share of a core)
    p("| server | qtype | q/s | lost | CPU s (busy) | answers/CPU-s (min-max) | p50 | p99 "
      "| RSS loaded / after | start-up |")
    p("|---|---|---|---|---|---|---|---|---|---|")
    for s in names:
        for q in QTYPES:
            m = sv[s]["summary"][q]
            p(f"| {s} | {q} | {m['qps']:,.0f} | {m['lost']:,.0f} | "
              f"{m['cpu']:.2f} ({m['util']:.0%}) | "
              f"{m['apc']:,.0f} ({m['apc_min']:,.0f}-{m['apc_max']:,.0f}) | "
              f"{us(m['p50'])} | {us(m['p99'])} | {mib(sv[s]['rss_load'])} / "
              f"{mib(sv[s]['rss_after'])} | {sv[s]['startup'] * 1000:.0f} ms |")
    p("")
    p("Average response size (dnsperf): " + ", ".join(
        f"{s} " + " / ".join(f"{q} {sv[s]['summary'][q]['resp_size']} B" for q in QTYPES)
        for s in names) + ".")
    allruns = [r for s in names for q in QTYPES for r in sv[s]["runs"][q]]
    oth = [r["other_cpu"] for r in allruns]
    stl = [r["steal"] for r in allruns]
    p(f"Rest of the machine during a {a.seconds} s run (median / max): dnsperf "
      f"{median([r['dnsperf_cpu'] for r in allruns]):.1f} / "
      f"{max(r['dnsperf_cpu'] for r in allruns):.1f} CPU-s, other processes "
      f"{median(oth):.1f} / {max(oth):.1f} CPU-s, stolen by the hypervisor "
      f"{median(stl):.1f} / {max(stl):.1f} s."
      + (" **Noisy: other work took CPU during the runs; compare with care.**"
         if median(oth) + median(stl) > 0.1 * a.seconds else ""))
    bullets = []
    for q in QTYPES:
        apc = {s: sv[s]["summary"][q]["apc"] for s in names}
        rt = res.setdefault("ratios", {})[q] = {
            s: ratio(apc["dnsbld"], apc[s]) for s in names if s != "dnsbld"}
        parts = [f"dnsbld/{s} **{rt[s]:.2f}**" for s in ("rbldnsd", "floor") if s in rt]
        if parts:
            bullets.append(f"- {q}: answers/CPU-s " + ", ".join(parts) +
                           (f" (rbldnsd/floor {ratio(apc['rbldnsd'], apc['floor']):.2f})"
                            if "rbldnsd" in rt and "floor" in rt else ""))
    if bullets:
        p("")
        for b in bullets:
            p(b)


def report_baseline(res, a, p):
    """dnsbld against dnsbld-base per qtype: medians with min-max, the ratio of the
    medians, and the ratio within each round (adjacent runs) with its min-max."""
    sv = res["servers"]
    p("")
    p(f"dnsbld against dnsbld-base ({a.baseline / 'dnsbld'}), answers/CPU-s, "
      f"{a.repeat} round{'s' if a.repeat != 1 else ''} of the rotation (median, min-max; "
      "per round: dnsbld's run / dnsbld-base's run of that round):")
    p("")
    p("| qtype | dnsbld | dnsbld-base | dnsbld/dnsbld-base | per round (min-max) "
      "| ranges overlap |")
    p("|---|---|---|---|---|---|")
    base = res.setdefault("baseline", {})
    for q in QTYPES:
        m, b = sv["dnsbld"]["summary"][q], sv["dnsbld-base"]["summary"][q]
        rounds = [ratio(x["apc"], y["apc"])
                  for x, y in zip(sv["dnsbld"]["runs"][q], sv["dnsbld-base"]["runs"][q])]
        overlap = m["apc_min"] <= b["apc_max"] and b["apc_min"] <= m["apc_max"]
        base[q] = {"ratio": ratio(m["apc"], b["apc"]), "rounds": rounds,
                   "overlap": overlap}
        p(f"| {q} | {m['apc']:,.0f} ({m['apc_min']:,.0f}-{m['apc_max']:,.0f}) | "
          f"{b['apc']:,.0f} ({b['apc_min']:,.0f}-{b['apc_max']:,.0f}) | "
          f"**{base[q]['ratio']:.2f}** | {median(rounds):.2f} "
          f"({min(rounds):.2f}-{max(rounds):.2f}) | "
          f"{('yes' if overlap else 'no') if len(rounds) > 1 else '- (one round)'} |")


def set_goals(res, names):
    """The design's goals for one set that the servers run can show: (ok, text)."""
    sv, goals = res["servers"], []
    tag = res["set"] + ("" if res["entries"] == SETS[res["set"]][1]
                        else f" ({res['entries']:,} entries)")
    if res["set"] in GOAL_SETS:
        for q in QTYPES:
            rt = res["ratios"][q]
            if "floor" in rt:
                goals.append((rt["floor"] >= GOAL_FLOOR,
                              f"{tag} {q}: dnsbld/floor {rt['floor']:.2f} >= {GOAL_FLOOR}"))
            if "rbldnsd" in rt:
                goals.append((rt["rbldnsd"] >= GOAL_RBLDNSD,
                              f"{tag} {q}: dnsbld/rbldnsd {rt['rbldnsd']:.2f} >= "
                              f"{GOAL_RBLDNSD}"))
    if "rbldnsd" in names:
        ld = sum(sv["dnsbld"]["summary"][q]["lost_total"] for q in QTYPES)
        lr = sum(sv["rbldnsd"]["summary"][q]["lost_total"] for q in QTYPES)
        goals.append((ld <= lr, f"{tag}: dnsbld lost {ld:,} <= rbldnsd lost {lr:,} "
                                f"(all runs)"))
    st = sv["dnsbld"]["startup"]
    goals.append((st < GOAL_STARTUP,
                  f"{tag}: dnsbld start-up {st * 1000:.0f} ms < "
                  f"{GOAL_STARTUP * 1000:.0f} ms" +
                  (f" (rbldnsd {sv['rbldnsd']['startup'] * 1000:.0f} ms)"
                   if "rbldnsd" in names else "")))
    return goals


# --------------------------------------------------------------------------------------

def parse_servers(ap, a):
    """--baseline and --servers into a.baseline (a Path or None) and a.server_list."""
    a.baseline = pathlib.Path(a.baseline).resolve() if a.baseline else None
    if a.servers is None:
        a.server_list = tuple(s for s in SERVERS if s != "dnsbld-base" or a.baseline)
        return
    chosen = {s.strip() for s in a.servers.split(",") if s.strip()}
    for s in chosen - set(SERVERS):
        ap.error(f"unknown server {s!r} (known: {', '.join(SERVERS)})")
    if "dnsbld" not in chosen:
        ap.error("--servers must include dnsbld (everything is compared with it)")
    if "dnsbld-base" in chosen and not a.baseline:
        ap.error("--servers dnsbld-base needs --baseline DIR")
    if a.baseline and "dnsbld-base" not in chosen:
        ap.error("--baseline given but --servers leaves dnsbld-base out")
    a.server_list = tuple(s for s in SERVERS if s in chosen)


def parse_pin(ap, a):
    """--pin into a.pin: (server CPU, dnsperf CPU), or None for no pinning."""
    a.pin_arg = a.pin
    usable = os.sched_getaffinity(0)
    if a.pin is None:
        first = sorted(usable)[:2]      # 0 and 1 unless this process is confined
        a.pin = (first[1], first[0]) if len(first) == 2 else None
        return
    if a.pin.strip().lower() == "none":
        a.pin = None
        return
    try:
        cpus = tuple(int(x) for x in a.pin.split(","))
    except ValueError:
        cpus = ()
    if len(cpus) != 2 or cpus[0] == cpus[1]:
        ap.error("--pin takes SERVER_CPU,LOAD_CPU (two different CPU numbers) or none")
    for c in cpus:
        if c not in usable:
            ap.error(f"--pin: CPU {c} is not one this process may use "
                     f"({', '.join(map(str, sorted(usable)))})")
    a.pin = cpus


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="v4-1m,v4-10m,v6-1m",
                    help=f"comma-separated, of {', '.join(SETS)} (default all)")
    ap.add_argument("--seconds", type=int, default=None,
                    help="dnsperf run length (default 10; --quick 3)")
    ap.add_argument("--repeat", type=int, default=None,
                    help="runs per server and qtype, interleaved (default 3; --quick 1)")
    ap.add_argument("--queries", type=int, default=200_000,
                    help="lines in each dnsperf query file (default 200k)")
    ap.add_argument("--sample", type=int, default=2000,
                    help="names compared between dnsbld and rbldnsd (default 2000)")
    ap.add_argument("--entries", type=int, default=None,
                    help="entries in every set (default: as the set's name says)")
    ap.add_argument("--rate", type=int, default=50000,
                    help="offered q/s of the rate runs (dnsperf -Q; default 50000, below "
                         "every server's maximum here, so that all do the same work); "
                         "0 = as fast as dnsperf can")
    ap.add_argument("--clients", type=int, default=1, help="dnsperf -c (default 1)")
    ap.add_argument("--outstanding", type=int, default=100, help="dnsperf -q (default 100)")
    ap.add_argument("--lat-qps", type=int, default=20000,
                    help="dnsperf -Q of the latency runs (default 20000)")
    ap.add_argument("--lat-seconds", type=int, default=None,
                    help="length of each latency run (default 2; --quick 1)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 100k entries per set, 3 s runs, 1 s latency runs, "
                         "repeat 1 (each unless given explicitly)")
    ap.add_argument("--baseline", default=None, metavar="DIR",
                    help="DIR/dnsbld (another build) serves the same store as the server "
                         "dnsbld-base, in the rotation and compared with dnsbld")
    ap.add_argument("--pin", default=None, metavar="SERVER_CPU,LOAD_CPU",
                    help="pin every server thread to SERVER_CPU and dnsperf to LOAD_CPU "
                         "(default 1,0 with 2 CPUs or more; none: no pinning)")
    ap.add_argument("--servers", default=None,
                    help=f"comma-separated, of {', '.join(SERVERS)}; dnsbld always runs "
                         "(default all; dnsbld-base only with --baseline)")
    ap.add_argument("--workdir", default=None, help="parent of the work directory (default /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    defaults = {"seconds": 10, "repeat": 3, "lat_seconds": 2}
    if a.quick:
        a.entries = a.entries or 100_000
        defaults = {"seconds": 3, "repeat": 1, "lat_seconds": 1}
    for k, v in defaults.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    parse_servers(ap, a)
    parse_pin(ap, a)
    sets = [s.strip() for s in a.sets.split(",") if s.strip()]
    for s in sets:
        if s not in SETS:
            ap.error(f"unknown set {s!r} (known: {', '.join(SETS)})")
    if a.queries < 2 or a.sample < 1 or a.seconds < 1 or a.repeat < 1:
        ap.error("--queries, --sample, --seconds and --repeat must be positive")
    seed = a.seed if a.seed is not None else random.randrange(1, 2**63)

    need = [t.DNSBLD, t.LOADER, DNSPERF]
    need += [RBLDNSD] if "rbldnsd" in a.server_list else []
    for p in need:
        if not os.access(p, os.X_OK):
            log(f"missing {p} (make all; apt-get install dnsperf rbldnsd)")
            return 2
    if a.baseline and not os.access(a.baseline / "dnsbld", os.X_OK):
        log(f"missing {a.baseline / 'dnsbld'} (--baseline DIR holds another build's dnsbld)")
        return 2

    if a.workdir:
        pathlib.Path(a.workdir).mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="dnsbl-dnsbench-", dir=a.workdir))
    # Debian's rbldnsd reads its files as the rbldns user, after dropping root
    os.chmod(work, 0o755)
    mach = machine()
    results, problems = [], []
    t_all = time.monotonic()
    try:
        log(f"work directory {work}, seed {seed}")
        tools = {"gen": work / "gen_sets", "floor": work / "floor"}
        run(["cc", "-O2", "-std=gnu11", "-o", tools["gen"], HERE / "gen_sets.c"], timeout=120)
        run(["cc", "-O2", "-std=gnu11", "-o", tools["floor"], HERE / "floor.c"], timeout=120)
        for i, s in enumerate(sets):
            family, entries = SETS[s]
            t0 = time.monotonic()
            results.append(run_set(s, family, a.entries or entries, a, work, tools,
                                   (seed + i) % 2**63, problems))
            results[-1]["wall_s"] = time.monotonic() - t0
            log(f"{s}: done in {results[-1]['wall_s']:.0f}s")
    except Failed as e:
        problems.append(str(e))
    except subprocess.TimeoutExpired as e:
        problems.append(f"time limit: {e}")
    finally:
        if a.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print()
    goals = report(results, a, mach)
    mach["loadavg_at_end"] = " ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])
    print(f"\nTotal {time.monotonic() - t_all:.0f} s; seed {seed}; load average at the end "
          f"{mach['loadavg_at_end']}.")
    if a.json:
        doc = {"machine": mach, "seed": seed, "args": vars(a), "sets": results,
               "goals": goals, "problems": problems}
        pathlib.Path(a.json).write_text(json.dumps(doc, indent=1, default=str) + "\n")
    if problems:
        print("\nFAILED:")
        for p in problems:
            print(f"- {p}")
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
