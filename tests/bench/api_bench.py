#!/usr/bin/python3
"""API benchmark: how soon a change made through dnsbl-api is answered by dnsbld.

  /usr/bin/python3 tests/bench/api_bench.py [--entries N] [--ops N] [--seed S] [--keep]

Measures the design's budget "API delist to NXDOMAIN on the wire: under 10 ms".

1. Writes a config with the zone bl.bench (type ip, block, ttl 300, a 127.0.0.2) and an
   [api] section (127.0.0.1, a free port, tokens = tokens), and preloads N (default
   100k) distinct random IPv4 /32 addresses (never 0/8, 127/8, 224/3) with
   `dnsbl-loader import bl.bench FILE --format plain`.
2. Creates a write token (`dnsbl-api -c CONF token add bench write`; the secret is the
   last word it prints), starts dnsbld -f (127.0.0.1, a free port) and dnsbl-api -f,
   and checks a few preloaded addresses answer 127.0.0.2 and a few others NXDOMAIN.
3. Runs --ops (default 300) operations over one keep-alive HTTP connection, alternating
   PUT /v1/zones/bl.bench/entries/ADDR of a new address (then polls DNS until its A
   query answers 127.0.0.2) and DELETE of a preloaded address (then polls until
   NXDOMAIN). Each op records the HTTP round trip (request sent -> response read), the
   time from the response to the first DNS answer showing the change (UDP queries sent
   back to back from a fresh socket, so each op may reach another dnsbld worker; no
   answer within 1 s is a failure) and how many queries that took (1: the first query
   after the response already saw the change).
4. Prints a Markdown table (per operation kind and overall): ops, median/p90/p99/max
   HTTP time, median/p99/max response -> DNS-visible, median request sent ->
   DNS-visible, the share of ops visible on the first query, failures; then the zone's
   entry count (GET /v1/zones, which must be N again) and the store size.

Exit status 1 when a change never becomes visible, a response is not 2xx, a sanity check
or the entry count is wrong, or dnsbld or dnsbl-api does not exit 0 on SIGTERM. The
10 ms budget is reported (request sent -> DNS-visible of the DELETEs), never enforced.

Everything runs on loopback; every subprocess has a time limit; the work directory
(under /tmp unless --workdir) is deleted at the end unless --keep.
"""

import argparse
import http.client
import ipaddress
import itertools
import json
import os
import pathlib
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import dnsbltest as t  # noqa: E402  (binaries, free ports, config, a running dnsbld)
import apitest  # noqa: E402  (a running dnsbl-api)
from benchutil import Failed, disk_usage, logger  # noqa: E402

log = logger("[bench]")

ZONE = "bl.bench"
LISTED_A = "127.0.0.2"
BUDGET_MS = 10.0           # design.md, Performance budget: API delist to NXDOMAIN
VISIBLE_CAP = 1.0          # seconds of DNS polling after the response before giving up
HTTP_TIMEOUT = 5.0         # per HTTP request
SANITY = 20                # addresses checked each way before the ops
NOERROR, NXDOMAIN = 0, 3

ZONES = {ZONE: {"type": "ip", "policy": "block", "ttl": 300, "a": LISTED_A,
                "soa": f"ns1.{ZONE}. hostmaster.{ZONE}. 3600 600 86400 120",
                "ns": f"ns1.{ZONE}."}}


def mib(nbytes):
    return f"{nbytes / 2**20:.1f} MiB"


def random_addresses(rng, n):
    """n distinct random IPv4 addresses (text), never in 0/8, 127/8 or 224/3."""
    seen = set()
    out = []
    while len(out) < n:
        v = rng.getrandbits(32)
        first = v >> 24
        if first == 0 or first == 127 or first >= 224 or v in seen:
            continue
        seen.add(v)
        out.append(str(ipaddress.IPv4Address(v)))
    return out


# --------------------------------------------------------------------------------------
# DNS: raw UDP queries, polled back to back

_qids = itertools.count(random.randrange(65536))


def skip_name(wire, off):
    while True:
        n = wire[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def parse_reply(wire):
    """(id, rcode, [A addresses in the answer section]) of a reply."""
    qid, flags, qd, an, _, _ = t.header(wire)
    off = 12
    for _ in range(qd):
        off = skip_name(wire, off) + 4
    addrs = []
    for _ in range(an):
        off = skip_name(wire, off)
        rtype, _, _, rdlen = struct.unpack("!HHIH", wire[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            addrs.append(socket.inet_ntoa(wire[off:off + 4]))
        off += rdlen
    return qid, flags & 0x000F, addrs


def describe_reply(state):
    if state is None:
        return "no reply"
    rcode, addrs = state
    names = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}
    return f"{names.get(rcode, f'rcode {rcode}')} {addrs}"


class Poller:
    """Asks one name's A record over UDP from its own socket until the answer shows
    the wanted state."""

    def __init__(self, host, port, ip):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect((host, port))
        self.qbody = t.question(t.rev(ip, ZONE), 1)

    def close(self):
        self.sock.close()

    def ask_once(self, timeout=t.TIMEOUT):
        state, _, _ = self.poll(None, time.perf_counter(), timeout)
        return state

    def poll(self, want_listed, t0, cap):
        """Polls until the answer matches want_listed (True: NOERROR with exactly the
        A 127.0.0.2; False: NXDOMAIN; None: any answer) or cap seconds after t0.
        Returns (last (rcode, addrs) or None, time it was read or None, queries)."""
        deadline = t0 + cap
        queries = 0
        last = None
        while True:
            if time.perf_counter() >= deadline:
                return last, None, queries
            qid = next(_qids) & 0xFFFF
            self.sock.send(t.raw_query(qid, self.qbody))
            queries += 1
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return last, None, queries
                self.sock.settimeout(min(left, 0.25))
                try:
                    wire = self.sock.recv(4096)
                except socket.timeout:
                    break                      # ask again
                seen = time.perf_counter()
                try:
                    rid, rcode, addrs = parse_reply(wire)
                except (IndexError, struct.error):
                    last = (-1, [f"malformed reply {wire.hex()}"])
                    break
                if rid != qid:
                    continue                   # a late reply to an earlier query
                last = (rcode, addrs)
                if (want_listed is None
                        or (want_listed and rcode == NOERROR and addrs == [LISTED_A])
                        or (want_listed is False and rcode == NXDOMAIN)):
                    return last, seen, queries
                break


# --------------------------------------------------------------------------------------
# dnsbl-api

class Api(apitest.DnsblApi):
    """tests/e2e's dnsbl-api runner (start-up, tokens, SIGTERM) with one keep-alive
    connection for timed requests."""

    def __init__(self, srv, port):
        super().__init__(srv, port)
        self.conn = None
        self.connects = 0

    def stop(self):
        """Closes the connection; SIGTERM; a problem text, or None for exit 0."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        return super().stop()

    def request(self, method, path, body=None, headers=None):
        """One request over the keep-alive connection. Returns (status, reason,
        headers, body bytes, t_sent, t_read, reconnected)."""
        reconnected = False
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=HTTP_TIMEOUT)
        if self.conn.sock is None:
            self.conn.connect()
            self.connects += 1
            reconnected = self.connects > 1
        t_sent = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        data = r.read()
        t_read = time.perf_counter()
        return r.status, r.reason, r.getheaders(), data, t_sent, t_read, reconnected


def exchange_text(method, path, req_headers, body, status, reason, headers, data):
    hdrs = {k: ("Bearer ..." if k == "Authorization" else v) for k, v in req_headers.items()}
    req = f"{method} {path} {hdrs}" + (f" body {body!r}" if body is not None else "")
    resp = f"{status} {reason} {dict(headers)} body {data[:500]!r}"
    return f"{req}\n    -> {resp}"


# --------------------------------------------------------------------------------------
# Statistics and the table

def pct(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def ms(v):
    return "–" if v is None else f"{v * 1000:.2f}"


def table_row(name, ops):
    done = [o for o in ops if o.get("visible") is not None]
    fails = sum(1 for o in ops if o.get("failed"))
    http = [o["http"] for o in ops if "http" in o]
    vis = [o["visible"] for o in done]
    total = [o["total"] for o in done]
    first = sum(1 for o in done if o["queries"] == 1)
    cells = [name, str(len(ops))]
    cells += [ms(f(http)) if http else "–" for f in
              (median, lambda v: pct(v, 90), lambda v: pct(v, 99), max)]
    cells += [ms(f(vis)) if vis else "–" for f in (median, lambda v: pct(v, 99), max)]
    cells.append(ms(median(total)) if total else "–")
    cells.append(f"{100.0 * first / len(ops):.1f} %" if ops else "–")
    cells.append(str(fails))
    return "| " + " | ".join(cells) + " |"


def report(ops, r):
    print()
    print("| op | ops | HTTP median ms | HTTP p90 ms | HTTP p99 ms | HTTP max ms "
          "| resp→DNS median ms | resp→DNS p99 ms | resp→DNS max ms "
          "| sent→DNS median ms | visible on 1st query | failures |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    print(table_row("PUT (list)", [o for o in ops if o["kind"] == "PUT"]))
    print(table_row("DELETE (delist)", [o for o in ops if o["kind"] == "DELETE"]))
    print(table_row("all", ops))
    print()
    if "entries" in r:
        print(f"zone {ZONE}: {r['entries']:,} entries after the ops (GET /v1/zones; "
              f"expected {r['expected_entries']:,}), serial {r.get('serial')}")
    if "store" in r:
        print(f"store: {mib(r['store'])} allocated, {mib(r['store_apparent'])} apparent "
              f"(LMDB directory, {r['preloaded']:,} preloaded entries)")
    print(f"HTTP connections opened: {r.get('connects', 0)} (1 means keep-alive held)")
    dels = [o["total"] for o in ops if o["kind"] == "DELETE" and o.get("visible") is not None]
    if dels:
        over = sum(1 for v in dels if v * 1000 >= BUDGET_MS)
        print(f"budget: DELETE sent → NXDOMAIN on the wire: median {ms(median(dels))} ms, "
              f"p99 {ms(pct(dels, 99))} ms, max {ms(max(dels))} ms; {over} of {len(dels)} "
              f"at or over {BUDGET_MS:.0f} ms (goal: under {BUDGET_MS:.0f} ms)")


# --------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=100_000,
                    help="random /32 entries preloaded into bl.bench (default 100k)")
    ap.add_argument("--ops", type=int, default=300,
                    help="API operations, alternating PUT and DELETE (default 300)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    ap.add_argument("--workdir", default=None, help="parent of the work directory (default /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    n_del = a.ops // 2
    n_put = a.ops - n_del
    if a.ops < 2 or a.entries < max(n_del, SANITY):
        ap.error(f"--ops must be at least 2 and --entries at least max(ops/2, {SANITY})")
    seed = a.seed if a.seed is not None else random.randrange(1, 2**63)

    for p in (t.DNSBLD, t.LOADER, apitest.API):
        if not os.access(p, os.X_OK):
            log(f"missing {p} (make all)")
            return 2

    if a.workdir:
        pathlib.Path(a.workdir).mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="dnsbl-apibench-", dir=a.workdir))
    srv = api = None
    problems = []
    anomalies = []
    ops = []
    results = {}
    try:
        # ---- 1. data, config, preload
        rng = random.Random(seed)
        log(f"work directory {work}, seed {seed}")
        addrs = random_addresses(rng, a.entries + n_put + SANITY)
        preload = addrs[:a.entries]
        new = addrs[a.entries:a.entries + n_put]
        never = addrs[a.entries + n_put:]
        api_port = t.free_port()
        extra = f"\n[api]\nlisten = 127.0.0.1:{api_port}\ntokens = tokens\n"
        srv = t.Dnsbl(work / "srv", zones=ZONES, extra=extra)
        tokens = srv.dir / "tokens"
        tokens.touch(mode=0o600)
        feed = srv.data_file("\n".join(preload) + "\n", "preload.txt")
        t0 = time.monotonic()
        r = srv.loader("import", ZONE, feed, "--format", "plain",
                       timeout=60 + a.entries / 20_000)
        if r.returncode != 0:
            raise Failed(f"dnsbl-loader import {ZONE} {feed} --format plain: exit "
                         f"{r.returncode}\n{r.stderr}{r.stdout}")
        log(f"preloaded {a.entries:,} entries in {time.monotonic() - t0:.1f}s")
        results["preloaded"] = a.entries

        # ---- 2. token, servers, sanity
        api = Api(srv, api_port)
        secret = api.token_add("bench", "write")
        auth = {"Authorization": f"Bearer {secret}"}
        srv.start()
        api.start()
        log(f"dnsbld on 127.0.0.1:{srv.port}, dnsbl-api on 127.0.0.1:{api_port}")
        wrong = []
        for ip, want in [(ip, True) for ip in rng.sample(preload, SANITY)] + \
                        [(ip, False) for ip in never]:
            p = Poller(srv.host, srv.port, ip)
            try:
                st = p.ask_once()
            finally:
                p.close()
            ok = st is not None and ((want and st == (NOERROR, [LISTED_A]))
                                     or (not want and st[0] == NXDOMAIN))
            if not ok:
                wrong.append(f"{ip} ({'preloaded' if want else 'never listed'}): "
                             f"{describe_reply(st)}")
        if wrong:
            raise Failed("wrong answers before the ops:\n  " + "\n  ".join(wrong))

        # ---- 3. the ops
        dels = rng.sample(preload, n_del)
        plan = []
        for i in range(a.ops):
            plan.append(("PUT", new[i // 2]) if i % 2 == 0 else ("DELETE", dels[i // 2]))
        log(f"{a.ops} ops ({n_put} PUT, {n_del} DELETE) over one keep-alive connection")
        for kind, ip in plan:
            path = f"/v1/zones/{ZONE}/entries/{ip}"
            body = b"{}" if kind == "PUT" else None
            hdrs = dict(auth)
            if body is not None:
                hdrs["Content-Type"] = "application/json"
            op = {"kind": kind, "ip": ip}
            ops.append(op)
            poller = Poller(srv.host, srv.port, ip)
            try:
                try:
                    status, reason, rh, data, t_sent, t_read, recon = api.request(
                        kind, path, body, hdrs)
                except (OSError, http.client.HTTPException) as e:
                    op["failed"] = True
                    problems.append(f"{kind} {path}: {e!r}")
                    if api.conn is not None:
                        api.conn.close()
                    continue
                op["http"] = t_read - t_sent
                if recon:
                    anomalies.append(f"the API closed the keep-alive connection before "
                                     f"{kind} {path} (reconnected)")
                xt = exchange_text(kind, path, hdrs, body, status, reason, rh, data)
                if not 200 <= status < 300:
                    op["failed"] = True
                    problems.append(f"non-2xx response:\n    {xt}")
                    continue
                op["ok"] = True
                want = 201 if kind == "PUT" else 204
                if status != want:
                    anomalies.append(f"expected {want}:\n    {xt}")
                if kind == "PUT":
                    try:
                        obj = json.loads(data)
                        if obj.get("key") != ip or obj.get("state") != "listed" \
                                or obj.get("outcome") != "created":
                            anomalies.append(f"unexpected entry object:\n    {xt}")
                    except (ValueError, AttributeError):
                        anomalies.append(f"PUT body is not a JSON object:\n    {xt}")
                elif data:
                    anomalies.append(f"DELETE 204 with a body:\n    {xt}")
                last, seen, queries = poller.poll(kind == "PUT", t_read, VISIBLE_CAP)
                op["queries"] = queries
                if seen is None:
                    op["failed"] = True
                    problems.append(f"{kind} {ip}: not visible in DNS {VISIBLE_CAP:.0f}s after "
                                    f"the response ({queries} queries; last answer "
                                    f"{describe_reply(last)})\n    {xt}")
                    continue
                op["visible"] = seen - t_read
                op["total"] = seen - t_sent
            finally:
                poller.close()
        results["connects"] = api.connects

        # ---- 4. the zone afterwards
        try:
            status, reason, rh, data, _, _, _ = api.request("GET", "/v1/zones", None, auth)
            if status != 200:
                raise Failed("GET /v1/zones:\n    "
                             + exchange_text("GET", "/v1/zones", auth, None, status, reason,
                                             rh, data))
            zones = {z["name"]: z for z in json.loads(data)["zones"]}
            z = zones[ZONE]
            # every 2xx response changed the store, whether dnsbld showed it or not
            ok_puts = sum(1 for o in ops if o["kind"] == "PUT" and o.get("ok"))
            ok_dels = sum(1 for o in ops if o["kind"] == "DELETE" and o.get("ok"))
            results.update(entries=z["entries"], serial=z.get("serial"),
                           expected_entries=a.entries + ok_puts - ok_dels)
            if z["entries"] != results["expected_entries"]:
                problems.append(f"GET /v1/zones: {ZONE} has {z['entries']} entries, expected "
                                f"{results['expected_entries']}:\n    {data[:500]!r}")
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as e:
            problems.append(f"GET /v1/zones: {e!r}")
        results["store"], results["store_apparent"] = disk_usage(srv.db)
    except (Failed, AssertionError) as e:    # dnsbltest raises AssertionError
        problems.append(str(e))
    except subprocess.TimeoutExpired as e:
        problems.append(f"time limit: {e}")
    finally:
        if api is not None:
            problem = api.stop()
            if problem:
                problems.append(problem)
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

    if ops:
        report(ops, results)
    if anomalies:
        print(f"\nnotes ({len(anomalies)}; not failures):")
        for n in anomalies[:20]:
            print(f"- {n}")
    if problems:
        print("\nFAILED:")
        for p in problems[:30]:
            print(f"- {p}")
        if len(problems) > 30:
            print(f"- ... and {len(problems) - 30} more")
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
