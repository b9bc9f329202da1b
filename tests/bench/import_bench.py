#!/usr/bin/python3
"""Import benchmark: a large rbldnsd ip4set feed into an empty zone while dnsbld serves.

  /usr/bin/python3 tests/bench/import_bench.py [--lines N] [--seed S] [--keep]

1. Generates N (default 10M) distinct random IPv4 /32 addresses (never 0/8, 127/8,
   224/3) as an rbldnsd ip4set file, a 100k-entry list for a second zone, and dnsperf
   query files (half listed, half not) with tests/bench/gen_feed.c, built here.
2. Writes a config with zones bl.bench (empty, the import target) and live.bench
   (preloaded before dnsbld starts), starts dnsbld (threads = 1, 127.0.0.1, a free port).
3. Runs dnsperf against live.bench while `dnsbl-loader import bl.bench FEED` runs, and
   reports the import's wall time, entries/s, the loader's peak RSS, the store's growth
   per entry, and what dnsperf saw during the import.
4. Checks 1000 feed addresses answer 127.0.0.2 from bl.bench and 1000 others NXDOMAIN,
   then runs dnsperf against bl.bench for a few seconds.
5. Prints a Markdown table. Exit status 1 on a wrong answer, a loader failure, dnsperf
   losing over 1% of its queries or getting anything but NOERROR/NXDOMAIN, or dnsbld
   not exiting cleanly; the import rate goal (1M entries/s) is reported, never enforced.

Everything runs on loopback; every subprocess has a time limit; the work directory
(under /tmp unless --workdir) is deleted at the end unless --keep.
"""

import argparse
import os
import pathlib
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import dnsbltest as t  # noqa: E402  (binaries, free ports, config, a running dnsbld)
from benchutil import Failed, logger, run, disk_usage, proc_cpu, head_lines  # noqa: E402
import dns.exception  # noqa: E402
import dns.rcode  # noqa: E402

log = logger("[bench]")

DNSPERF = "/usr/bin/dnsperf"
GEN_SRC = REPO / "tests" / "bench" / "gen_feed.c"
RATE_GOAL = 1.0e6          # entries per second (design.md, Performance budget)
LISTED_A = "127.0.0.2"
CHECK_SAMPLE = 1000        # addresses checked each way after the import
MAX_LOST = 0.01            # dnsperf: lost queries allowed, as a fraction of those sent


def zone(name):
    return {"type": "ip", "policy": "block", "ttl": 300, "a": LISTED_A,
            "soa": f"ns1.{name}. hostmaster.{name}. 3600 600 86400 120",
            "ns": f"ns1.{name}."}


ZONES = {"bl.bench": zone("bl.bench"), "live.bench": zone("live.bench")}


def write_queries(path, zone_name, listed, unlisted, rng):
    qs = [f"{t.rev(ip, zone_name)} A" for ip in listed + unlisted]
    rng.shuffle(qs)
    path.write_text("\n".join(qs) + "\n")


def mib(nbytes):
    return f"{nbytes / 2**20:.1f} MiB"


# --------------------------------------------------------------------------------------
# dnsperf

def start_dnsperf(port, qfile, seconds, out, qps=None):
    cmd = [DNSPERF, "-s", "127.0.0.1", "-p", str(port), "-d", str(qfile),
           "-l", str(int(seconds)), "-c", "2", "-q", "200"]
    if qps:
        cmd += ["-Q", str(qps)]
    f = open(out, "wb")
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
    finally:
        f.close()
    return p


def finish_dnsperf(p, out, interrupt, timeout=30):
    """Stops dnsperf (SIGINT prints its statistics) or waits for its -l to run out,
    then parses its report."""
    if interrupt and p.poll() is None:
        p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise Failed(f"dnsperf did not stop within {timeout}s\n{pathlib.Path(out).read_text()}")
    text = pathlib.Path(out).read_text(errors="replace")
    return parse_dnsperf(text, p.returncode)


def parse_dnsperf(text, rc):
    def num(label, conv=int):
        m = re.search(rf"^\s*{label}:\s*([0-9.]+)", text, re.M)
        return conv(m.group(1)) if m else None

    res = {"sent": num("Queries sent"), "completed": num("Queries completed"),
           "lost": num("Queries lost"), "interrupted": num("Queries interrupted") or 0,
           "qps": num("Queries per second", float), "runtime": num(r"Run time \(s\)", float),
           "latency": num(r"Average Latency \(s\)", float), "rcodes": {}, "rc": rc,
           "text": text}
    m = re.search(r"^\s*Response codes:\s*(.*)$", text, re.M)
    if m:
        for code, count in re.findall(r"([A-Z0-9]+) (\d+) \(", m.group(1)):
            res["rcodes"][code] = int(count)
    if res["sent"] is None or res["completed"] is None or res["lost"] is None:
        raise Failed(f"cannot parse dnsperf output (exit {rc}):\n{text}")
    return res


def dnsperf_problems(res, what):
    probs = []
    if res["rc"] != 0:
        probs.append(f"{what}: dnsperf exit {res['rc']}")
    if res["sent"] == 0 or res["completed"] == 0:
        probs.append(f"{what}: dnsperf completed no queries")
    elif res["lost"] > MAX_LOST * res["sent"]:
        probs.append(f"{what}: dnsperf lost {res['lost']} of {res['sent']} queries "
                     f"(over {MAX_LOST:.0%})")
    bad = {k: v for k, v in res["rcodes"].items() if k not in ("NOERROR", "NXDOMAIN")}
    if bad:
        probs.append(f"{what}: dnsperf got response codes {bad}")
    return probs


def rcodes_text(res):
    return ", ".join(f"{k} {v}" for k, v in sorted(res["rcodes"].items())) or "none"


# --------------------------------------------------------------------------------------
# The loader, timed, with its own resource usage

def timed_loader(args, cwd, timeout, out_path):
    """Runs the loader; returns (exit code, wall seconds, rusage, output text). Reaps
    it with wait4 so the rusage (peak RSS, CPU time) is the loader's alone."""
    f = open(out_path, "wb")
    t0 = time.monotonic()
    try:
        p = subprocess.Popen([str(t.LOADER), *map(str, args)], stdin=subprocess.DEVNULL,
                             stdout=f, stderr=subprocess.STDOUT, cwd=cwd)
    finally:
        f.close()
    done = {}

    def reap():
        _, status, ru = os.wait4(p.pid, 0)
        done["t"] = time.monotonic()
        done["status"] = status
        done["ru"] = ru

    th = threading.Thread(target=reap, daemon=True)
    th.start()
    th.join(timeout)
    if th.is_alive():
        p.kill()
        th.join(10)
        p.returncode = -9
        raise Failed(f"dnsbl-loader {' '.join(map(str, args))}: still running after "
                     f"{timeout}s, killed")
    p.returncode = os.waitstatus_to_exitcode(done["status"])
    text = pathlib.Path(out_path).read_text(errors="replace")
    return p.returncode, done["t"] - t0, done["ru"], text


# --------------------------------------------------------------------------------------

def check_answers(srv, zone_name, listed, unlisted):
    """Asks for each address; returns a list of wrong answers (text)."""
    wrong = []

    def ask(ip):
        qname = t.rev(ip, zone_name)
        for attempt in range(3):
            try:
                return srv.ask(qname, "A", timeout=2.0)
            except dns.exception.Timeout:
                if attempt == 2:
                    raise
        return None

    for ip in listed:
        try:
            r = ask(ip)
        except dns.exception.DNSException as e:
            wrong.append(f"{ip} in {zone_name}: {e!r}")
            continue
        if r.rcode() != dns.rcode.NOERROR or t.a_values(r) != {LISTED_A}:
            wrong.append(f"{ip} listed in {zone_name}: got {dns.rcode.to_text(r.rcode())} "
                         f"{sorted(t.a_values(r))}")
    for ip in unlisted:
        try:
            r = ask(ip)
        except dns.exception.DNSException as e:
            wrong.append(f"{ip} in {zone_name}: {e!r}")
            continue
        if r.rcode() != dns.rcode.NXDOMAIN:
            wrong.append(f"{ip} not listed in {zone_name}: got "
                         f"{dns.rcode.to_text(r.rcode())} {sorted(t.a_values(r))}")
    return wrong


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=10_000_000, help="feed size (default 10M)")
    ap.add_argument("--live", type=int, default=100_000,
                    help="entries preloaded into live.bench (default 100k)")
    ap.add_argument("--queries", type=int, default=100_000,
                    help="lines in each dnsperf query file (default 100k)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    ap.add_argument("--qps", type=int, default=20000,
                    help="dnsperf -Q during the import: a busy list's steady load, which "
                         "leaves the loader a core on a 2-core machine (default 20000; "
                         "0: as fast as dnsperf can)")
    ap.add_argument("--post-seconds", type=int, default=5,
                    help="dnsperf against bl.bench after the import (0: skip; default 5)")
    ap.add_argument("--timeout", type=float, default=None,
                    help="import time limit in seconds (default 60 + lines/50k)")
    ap.add_argument("--workdir", default=None, help="parent of the work directory (default /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    if a.lines < CHECK_SAMPLE or a.live < 100:
        ap.error(f"--lines must be at least {CHECK_SAMPLE} and --live at least 100")
    seed = a.seed if a.seed is not None else random.randrange(1, 2**63)
    import_timeout = a.timeout or 60 + a.lines / 50_000

    for p in (t.DNSBLD, t.LOADER, DNSPERF):
        if not os.access(p, os.X_OK):
            log(f"missing {p} (make all; apt-get install dnsperf)")
            return 2

    if a.workdir:
        pathlib.Path(a.workdir).mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="dnsbl-bench-", dir=a.workdir))
    srv = None
    perf = None
    problems = []
    notes = []
    results = {}
    try:
        # ---- 1. data
        rng = random.Random(seed)
        log(f"work directory {work}, seed {seed}")
        gen = work / "gen_feed"
        run(["cc", "-O2", "-std=gnu11", "-o", gen, GEN_SRC], timeout=120)
        half = a.queries // 2
        n_neg = max(half, CHECK_SAMPLE)
        feed, not_feed = work / "feed.txt", work / "not-feed.txt"
        live, not_live = work / "live.txt", work / "not-live.txt"
        t0 = time.monotonic()
        run([gen, seed, a.lines, feed, n_neg, not_feed], timeout=300)
        gen_s = time.monotonic() - t0
        run([gen, seed ^ 0x5bd1e995, a.live, live, n_neg, not_live], timeout=120)
        log(f"generated {a.lines} lines ({mib(feed.stat().st_size)}) in {gen_s:.1f}s")
        # The generator's order is random: the first lines are a random sample.
        feed_head = head_lines(feed, max(half, CHECK_SAMPLE))
        neg = head_lines(not_feed, n_neg)
        live_head = head_lines(live, min(a.live, max(half, 100)))
        live_neg = head_lines(not_live, n_neg)
        bl_q, live_q = work / "bl-queries.txt", work / "live-queries.txt"
        write_queries(bl_q, "bl.bench", feed_head[:half], neg[:half], rng)
        write_queries(live_q, "live.bench", live_head[:half], live_neg[:half], rng)

        # ---- 2. config, preload, server
        srv = t.Dnsbl(work / "srv", zones=ZONES, server_opts={"threads": 1})
        progress = ["--no-progress"]
        r = srv.loader("import", "live.bench", live, "--format", "rbldnsd", *progress,
                       timeout=120)
        if r.returncode == 2 and "no-progress" in r.stderr + r.stdout:
            progress = []
            notes.append("this dnsbl-loader rejects --no-progress; ran without it")
            log(notes[-1])
            r = srv.loader("import", "live.bench", live, "--format", "rbldnsd", timeout=120)
        if r.returncode != 0:
            raise Failed(f"preloading live.bench: exit {r.returncode}\n{r.stderr}")
        srv.start()
        wrong = check_answers(srv, "live.bench", live_head[:20], live_neg[:20])
        if wrong:
            raise Failed("live.bench before the import:\n  " + "\n  ".join(wrong[:10]))
        before_alloc, _ = disk_usage(srv.db)
        log(f"dnsbld on 127.0.0.1:{srv.port}, live.bench preloaded with {a.live} entries, "
            f"store {mib(before_alloc)}")

        # ---- 3. import under dnsperf load
        perf_out = work / "dnsperf-import.txt"
        perf = start_dnsperf(srv.port, live_q, import_timeout + 15, perf_out, a.qps)
        time.sleep(0.5)
        if perf.poll() is not None:
            raise Failed(f"dnsperf exited at once:\n{perf_out.read_text()}")
        cpu0 = proc_cpu(srv.proc.pid)
        log(f"importing {feed.name} into bl.bench (time limit {import_timeout:.0f}s)")
        rc, wall, ru, ltext = timed_loader(
            ["-c", srv.config, "import", "bl.bench", feed, "--format", "rbldnsd", *progress],
            srv.cwd, import_timeout, work / "loader.txt")
        time.sleep(1.0)
        srv_cpu_import = proc_cpu(srv.proc.pid) - cpu0
        perf_import = finish_dnsperf(perf, perf_out, interrupt=True)
        perf = None
        print(ltext.rstrip())
        if rc != 0:
            raise Failed(f"dnsbl-loader import: exit {rc}\n{ltext}")
        m = (re.search(r"(\d+)\s+added\b", ltext)
             or re.search(r"\badded\s*[:=]?\s*(\d+)", ltext))
        added = int(m.group(1)) if m else None
        if added is None:
            notes.append("cannot find 'N added' in the loader's summary; assumed every line")
        elif added != a.lines:
            problems.append(f"loader added {added} entries, expected {a.lines}")
        after_alloc, after_apparent = disk_usage(srv.db)
        entries = added if added is not None else a.lines
        results.update(
            lines=a.lines, gen_s=gen_s, wall=wall, rate=entries / wall,
            cpu=ru.ru_utime + ru.ru_stime, maxrss=ru.ru_maxrss * 1024,
            store=after_alloc, store_apparent=after_apparent,
            per_entry=(after_alloc - before_alloc) / entries, srv_cpu_import=srv_cpu_import,
            perf_import=perf_import)
        problems += dnsperf_problems(perf_import, "during the import")

        # ---- 4. answers after the import
        sample = rng.sample(feed_head, CHECK_SAMPLE)
        wrong = check_answers(srv, "bl.bench", sample, neg[:CHECK_SAMPLE])
        wrong += check_answers(srv, "live.bench", live_head[:100], live_neg[:100])
        results["wrong"] = len(wrong)
        if wrong:
            problems.append(f"{len(wrong)} wrong answers after the import, e.g.:\n  "
                            + "\n  ".join(wrong[:10]))

        # ---- dnsperf against the imported zone
        if a.post_seconds > 0:
            out = work / "dnsperf-after.txt"
            cpu0 = proc_cpu(srv.proc.pid)
            perf = start_dnsperf(srv.port, bl_q, a.post_seconds, out)
            try:
                perf.wait(a.post_seconds + 30)
            except subprocess.TimeoutExpired:
                pass
            post = finish_dnsperf(perf, out, interrupt=True)
            perf = None
            results["perf_post"] = post
            results["srv_cpu_post"] = proc_cpu(srv.proc.pid) - cpu0
            problems += dnsperf_problems(post, "after the import")
    except Failed as e:
        problems.append(str(e))
    except subprocess.TimeoutExpired as e:
        problems.append(f"time limit: {e}")
    finally:
        if perf is not None and perf.poll() is None:
            perf.terminate()
            try:
                perf.wait(5)
            except subprocess.TimeoutExpired:
                perf.kill()
                perf.wait()
        if srv is not None:
            was_running = srv.running()
            code = srv.stop()
            if was_running and code != 0:
                problems.append(f"dnsbld exit code after SIGTERM: {code}\n{srv.stderr_text()}")
            elif not was_running and srv.returncode not in (None, 0):
                problems.append(f"dnsbld died: exit {srv.returncode}\n{srv.stderr_text()}")
        if a.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    if results:
        report(results, a)
    for n in notes:
        print(f"note: {n}")
    if problems:
        print("\nFAILED:")
        for p in problems:
            print(f"- {p}")
        return 1
    print("\nOK")
    return 0


def report(r, a):
    pi = r["perf_import"]
    rows = [
        ("feed lines", f"{r['lines']:,}"),
        ("feed generation", f"{r['gen_s']:.1f} s"),
        ("import wall time", f"{r['wall']:.2f} s"),
        ("import rate", f"{r['rate'] / 1e6:.2f} M entries/s"),
        ("loader CPU time", f"{r['cpu']:.2f} s"),
        ("loader max RSS", mib(r["maxrss"])),
        ("store size (du, both zones)", f"{mib(r['store'])} (apparent {mib(r['store_apparent'])})"),
        ("store growth per entry", f"{r['per_entry']:.1f} bytes"),
        ("dnsperf during import (live.bench)",
         f"{pi['completed']:,} completed, {pi['lost']:,} lost, {pi['interrupted']:,} "
         f"interrupted, {pi['qps']:,.0f} q/s over {pi['runtime']:.1f} s"),
        ("response codes during import", rcodes_text(pi)),
        ("dnsbld CPU during import", f"{r['srv_cpu_import']:.2f} s"),
    ]
    if "wrong" in r:
        rows.append(("answer check (bl.bench 2x1000, live.bench 2x100)",
                     "all correct" if r["wrong"] == 0 else f"{r['wrong']} wrong"))
    if "perf_post" in r:
        pp = r["perf_post"]
        cpu = r["srv_cpu_post"]
        per_cpu = f", {pp['completed'] / cpu:,.0f} per dnsbld CPU-s" if cpu > 0 else ""
        rows.append((f"dnsperf after import (bl.bench, {a.post_seconds} s)",
                     f"{pp['qps']:,.0f} q/s{per_cpu}, {pp['lost']:,} lost; {rcodes_text(pp)}"))
    print()
    print("| measure | value |")
    print("|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    print()
    print(f"import rate: {r['rate'] / 1e6:.2f} M/s (goal {RATE_GOAL / 1e6:.1f})")
    print(f"store: {r['per_entry']:.1f} bytes per entry (goal at most 64 at 10M entries)")


if __name__ == "__main__":
    sys.exit(main())
