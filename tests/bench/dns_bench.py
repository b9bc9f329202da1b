#!/usr/bin/python3
"""Query-rate benchmark: dnsbld against rbldnsd and a trivial floor responder.

  /usr/bin/python3 tests/bench/dns_bench.py [--sets v4-1m,v4-10m,v6-1m] [--quick]
                                             [--seconds S] [--repeat N] [--json FILE]

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
from benchutil import Failed, cpu_model, disk_usage, logger, proc_cpu, run  # noqa: E402
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
SERVERS = ("dnsbld", "rbldnsd", "floor")
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


def compare_answers(names, port_a, port_b):
    """Differences between the two servers over names x (A, TXT): a list of text lines.
    Also counts the listed/unlisted answers seen (a sanity check of the data)."""
    diffs = []
    seen = {"NOERROR": 0, "NXDOMAIN": 0}
    for name in names:
        for qtype in QTYPES:
            a = ask(port_a, name, qtype)
            b = ask(port_b, name, qtype)
            seen[a[0]] = seen.get(a[0], 0) + 1
            if a != b:
                diffs.append(f"{name} {qtype}: dnsbld {a[0]} {sorted(a[1])} / rbldnsd "
                             f"{b[0]} {sorted(b[1])}")
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
    with open(out, "wb") as f:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f,
                             stderr=subprocess.STDOUT)
        try:
            p.wait(seconds + 30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise Failed(f"dnsperf did not finish within {seconds + 30}s")
    text = pathlib.Path(out).read_text(errors="replace")
    return parse_dnsperf(text, p.returncode), text


def rate_run(srv, qfile, a, out):
    """One dnsperf run (at --rate q/s; full speed with --rate 0): its report plus the
    server's CPU seconds, dnsperf's,
    and what the rest of the machine used meanwhile (a noise gauge on a shared VM:
    other processes, and time stolen by the hypervisor)."""
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

    servers = {s: Proc(s, None) for s in SERVERS}
    try:
        dn = servers["dnsbld"]
        dn.port = srv_d.port
        dn.spawn_dnsbld(srv_d)
        startup = {"dnsbld": wait_first_answer(dn, listed[0], True, 60)}

        rb = servers["rbldnsd"]
        rb.port = t.free_port()
        kind = "ip4set" if family == 4 else "ip6trie"
        rb.spawn([RBLDNSD, "-n", "-a", "-c", "0", "-t", f"{TTL}", "-b", f"127.0.0.1/{rb.port}",
                  "-w", d, f"{ZONE}:{kind}:{meta.name},{data.name}"], d / "rbldnsd.log")
        startup["rbldnsd"] = wait_first_answer(rb, listed[0], True, 300)

        fl = servers["floor"]
        fl.port = t.free_port()
        fl.spawn([tools["floor"], "127.0.0.1", fl.port], d / "floor.log")
        startup["floor"] = wait_first_answer(fl, listed[0], False, 30)
        for s in SERVERS:
            res["servers"][s] = {"startup": startup[s], "rss_load": proc_rss(servers[s].pid),
                                 "runs": {q: [] for q in QTYPES},
                                 "lat": {q: [] for q in QTYPES}}
        log(f"{name}: start-up to first answer: " + ", ".join(
            f"{s} {startup[s] * 1000:.0f} ms" for s in SERVERS))

        # ---- identical answers on a sample
        with open(qa) as f:
            sample = [next(f).split()[0] for _ in range(min(a.sample, a.queries))]
        t0 = time.monotonic()
        diffs, seen = compare_answers(sample, dn.port, rb.port)
        res["compare"] = {"names": len(sample), "differences": len(diffs), "dnsbld": seen}
        if diffs:
            raise Failed(f"{name}: {len(diffs)} of {2 * len(sample)} answers differ between "
                         "dnsbld and rbldnsd, e.g.:\n  " + "\n  ".join(diffs[:10]))
        log(f"{name}: {len(sample)} names x A/TXT answer alike on dnsbld and rbldnsd "
            f"({seen.get('NOERROR', 0)} NOERROR, {seen.get('NXDOMAIN', 0)} NXDOMAIN; "
            f"{time.monotonic() - t0:.1f}s)")

        # ---- rate runs, interleaved
        files = {"A": qa, "TXT": qt}
        for rep in range(a.repeat):
            for s in SERVERS:
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
                    log(f"{name} #{rep + 1} {s:7} {q:3}: {rr['qps']:9,.0f} q/s, "
                        f"{rr['lost']:,} lost, CPU {rr['cpu']:.2f}s, "
                        f"{rr['apc']:9,.0f} answers/CPU-s; p50 {lr['p50'] * 1e6:.0f} us, "
                        f"p99 {lr['p99'] * 1e6:.0f} us; others {rr['other_cpu']:.1f} "
                        f"CPU-s, steal {rr['steal']:.1f}s")
        for s in SERVERS:
            res["servers"][s]["rss_after"] = proc_rss(servers[s].pid)
    finally:
        for s in SERVERS:
            srv = servers[s]
            if srv.proc is None:
                continue
            was_running = srv.alive()
            code = srv.stop()
            if s == "dnsbld" and was_running and code != 0:
                problems.append(f"{name}: dnsbld exit code after SIGTERM: {code}\n"
                                f"{srv_d.stderr_text()[-2000:]}")
    summarize(res)
    return res


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


def report(results, a, mach):
    lines = []
    p = lines.append
    p(f"Machine: Linux {mach['kernel']}, {mach['cpu']}, nproc {mach['nproc']} "
      f"(load average at start {mach['loadavg_at_start']}). dnsperf -c {a.clients} "
      f"-q {a.outstanding} " + (f"-Q {a.rate}" if a.rate else "at full speed") +
      f", {a.seconds} s runs x {a.repeat} (median; answers/CPU-s "
      f"min-max); latency: -Q {a.lat_qps} -v for {a.lat_seconds} s; dnsbld threads = 1; "
      f"dnsbld {t.DNSBLD}.")
    goals = []
    for res in results:
        sv = res["servers"]
        if not all(s in sv and sv[s]["summary"] for s in SERVERS):
            continue
        lens = ", ".join(f"/{k} {v:,}" for k, v in sorted(res["lens"].items()))
        imp = res["import"]
        p("")
        p(f"### {res['set']}: {res['entries']:,} IPv{res['family']} entries ({lens})")
        p("")
        p(f"dnsbl-loader import: {imp['wall']:.2f} s, {imp['rate'] / 1e6:.2f}M entries/s, "
          f"store {mib(imp['store'])}. Answers compared: {res['compare']['names']:,} names "
          f"x A/TXT, identical.")
        p("")
        # CPU s: the server's utime + stime during a run (and that as a share of a core)
        p("| server | qtype | q/s | lost | CPU s (busy) | answers/CPU-s (min-max) | p50 | p99 "
          "| RSS loaded / after | start-up |")
        p("|---|---|---|---|---|---|---|---|---|---|")
        for s in SERVERS:
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
            for s in SERVERS) + ".")
        allruns = [r for s in SERVERS for q in QTYPES for r in sv[s]["runs"][q]]
        oth = [r["other_cpu"] for r in allruns]
        stl = [r["steal"] for r in allruns]
        p(f"Rest of the machine during a {a.seconds} s run (median / max): dnsperf "
          f"{median([r['dnsperf_cpu'] for r in allruns]):.1f} / "
          f"{max(r['dnsperf_cpu'] for r in allruns):.1f} CPU-s, other processes "
          f"{median(oth):.1f} / {max(oth):.1f} CPU-s, stolen by the hypervisor "
          f"{median(stl):.1f} / {max(stl):.1f} s."
          + (" **Noisy: other work took CPU during the runs; compare with care.**"
             if median(oth) + median(stl) > 0.1 * a.seconds else ""))
        p("")
        for q in QTYPES:
            d, r, f = (sv[s]["summary"][q]["apc"] for s in SERVERS)
            res.setdefault("ratios", {})[q] = {"rbldnsd": d / r, "floor": d / f}
            p(f"- {q}: answers/CPU-s dnsbld/rbldnsd **{d / r:.2f}**, dnsbld/floor "
              f"**{d / f:.2f}** (rbldnsd/floor {r / f:.2f})")
        tag = res["set"] + ("" if res["entries"] == SETS[res["set"]][1]
                            else f" ({res['entries']:,} entries)")
        if res["set"] in GOAL_SETS:
            for q in QTYPES:
                rt = res["ratios"][q]
                goals.append((rt["floor"] >= GOAL_FLOOR,
                              f"{tag} {q}: dnsbld/floor {rt['floor']:.2f} >= {GOAL_FLOOR}"))
                goals.append((rt["rbldnsd"] >= GOAL_RBLDNSD,
                              f"{tag} {q}: dnsbld/rbldnsd {rt['rbldnsd']:.2f} >= "
                              f"{GOAL_RBLDNSD}"))
        ld = sum(sv["dnsbld"]["summary"][q]["lost_total"] for q in QTYPES)
        lr = sum(sv["rbldnsd"]["summary"][q]["lost_total"] for q in QTYPES)
        goals.append((ld <= lr, f"{tag}: dnsbld lost {ld:,} <= rbldnsd lost {lr:,} "
                                f"(all runs)"))
        st = sv["dnsbld"]["startup"]
        goals.append((st < GOAL_STARTUP,
                      f"{tag}: dnsbld start-up {st * 1000:.0f} ms < "
                      f"{GOAL_STARTUP * 1000:.0f} ms (rbldnsd "
                      f"{sv['rbldnsd']['startup'] * 1000:.0f} ms)"))
    if goals:
        p("")
        p("Goals (design.md, Performance budget; reported, never enforced):")
        p("")
        for ok, text in goals:
            p(f"- {'PASS' if ok else 'MISS'}: {text}")
    print("\n".join(lines), flush=True)
    return [{"pass": ok, "goal": text} for ok, text in goals]


# --------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="v4-1m,v4-10m,v6-1m",
                    help=f"comma-separated, of {', '.join(SETS)} (default all)")
    ap.add_argument("--seconds", type=int, default=10, help="dnsperf run length (default 10)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per server and qtype, interleaved (default 3)")
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
    ap.add_argument("--lat-seconds", type=int, default=2,
                    help="length of each latency run (default 2)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 100k entries per set, 3 s runs, 1 s latency runs, "
                         "repeat 1")
    ap.add_argument("--workdir", default=None, help="parent of the work directory (default /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    if a.quick:
        a.entries = a.entries or 100_000
        a.seconds, a.repeat, a.lat_seconds = 3, 1, 1
    sets = [s.strip() for s in a.sets.split(",") if s.strip()]
    for s in sets:
        if s not in SETS:
            ap.error(f"unknown set {s!r} (known: {', '.join(SETS)})")
    if a.queries < 2 or a.sample < 1 or a.seconds < 1 or a.repeat < 1:
        ap.error("--queries, --sample, --seconds and --repeat must be positive")
    seed = a.seed if a.seed is not None else random.randrange(1, 2**63)

    for p in (t.DNSBLD, t.LOADER, DNSPERF, RBLDNSD):
        if not os.access(p, os.X_OK):
            log(f"missing {p} (make all; apt-get install dnsperf rbldnsd)")
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
