"""dnsbl-api and dnsbl-loader writing the same zone at once: while imports of tens of
thousands of lines run one after another, three API clients PUT, update and DELETE a
few hundred keys. Afterwards every API write is there (GET and DNS), every imported
line is there, and the history has exactly one record per API write. No lost
updates."""

import threading
import time

import apitest as a
import dnsbltest as t
from apitest import BL, entry_path, make_api  # noqa: F401 (fixture)

WRITERS = 3
PUTS = 80              # new keys per writer
LINES = 25000          # lines per feed file
FILES = 3
MIN_IMPORTS = 4
MAX_IMPORTS = 60


def _feed_keys(k):
    return [f"10.{k}.{i // 250}.{i % 250 + 1}" for i in range(LINES)]


def test_api_and_loader_write_at_once(make_api):
    tokens = [("reader", "read")] + [(f"w{n}", "write") for n in range(WRITERS)]
    srv, api = make_api(standard=False, zones={BL: t.ZONES[BL]}, tokens=tokens)
    rd = api.client("reader", keepalive=True)

    files = [srv.data_file("".join(k + "\n" for k in _feed_keys(f)), f"feed{f}.txt")
             for f in range(FILES)]
    feed_keys = set()
    for f in range(FILES):
        feed_keys.update(_feed_keys(f))
    # keys the writers will delist, imported before they start
    pre = {n: [f"172.20.{n}.{i}" for i in range(1, 21)] for n in range(WRITERS)}
    srv.load(BL, "".join(k + "\n" for ks in pre.values() for k in ks), source="pre")

    failures = []
    expected = {}          # key -> (code or None when delisted, writer name)
    writes = {}            # key -> list of (event, actor)
    lock = threading.Lock()
    api_done = threading.Event()
    imports = []

    def writer(n):
        name = f"w{n}"
        c = api.client(name, keepalive=True)
        mine = {}
        log = {}

        def do(method, key, body, status, event):
            try:
                r = c.request(method, entry_path(BL, key), body=body)
            except Exception as e:          # noqa: BLE001
                failures.append(f"{name} {method} {key}: {e!r}")
                return
            if r.status != status:
                failures.append(f"{name} {method} {key} {body}: expected {status}, got {r!r}")
                return
            log.setdefault(key, []).append((event, f"operator:{name}"))

        try:
            for i in range(1, PUTS + 1):
                key = f"172.16.{n}.{i}"
                code = f"127.0.0.{2 + i % 40}"
                do("PUT", key, {"code": code, "reason": f"{name} {i}"}, 201, "list")
                mine[key] = code
                if i % 5 == 0:                       # an update
                    code = f"127.0.0.{100 + i % 50}"
                    do("PUT", key, {"code": code}, 200, "update")
                    mine[key] = code
                if i % 4 == 0:                       # delist it again
                    do("DELETE", key, {"reason": f"{name} delist {i}"}, 204, "delist")
                    mine[key] = None
                if i % 4 == 1 and pre[n]:            # delist an imported key
                    key = pre[n].pop()
                    do("DELETE", key, None, 204, "delist")
                    mine[key] = None
            while pre[n]:
                key = pre[n].pop()
                do("DELETE", key, None, 204, "delist")
                mine[key] = None
        finally:
            c.close()
            with lock:
                for key, code in mine.items():
                    expected[key] = (code, name)
                for key, events in log.items():
                    writes.setdefault(key, []).extend(events)

    def loader():
        k = 0
        while k < MAX_IMPORTS and (k < MIN_IMPORTS or not api_done.is_set()):
            path = files[k % FILES]
            start = time.monotonic()
            r = srv.loader(*srv.import_args(BL, path, source=f"feed{k % FILES}"))
            imports.append((k, r.returncode, time.monotonic() - start))
            if r.returncode != 0:
                failures.append(f"import #{k} of {path}: exit {r.returncode}\n{r.stderr}")
            rejected = t.summary_count(r.stderr + r.stdout, "rejected")
            if rejected:
                failures.append(f"import #{k}: {rejected} rejected\n{r.stderr}")
            k += 1

    lt = threading.Thread(target=loader)
    lt.start()
    wts = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for w in wts:
        w.start()
    for w in wts:
        w.join(120)
    api_done.set()
    lt.join(300)
    assert not lt.is_alive() and not any(w.is_alive() for w in wts), "threads hang"
    assert not failures, "\n".join(failures[:40])
    assert len(imports) >= MIN_IMPORTS, imports
    api.assert_alive()
    srv.assert_alive()

    # every entry: the loader's lines and the API's writes
    entries = {e["key"]: e for e in a.all_entries(rd, BL)}
    missing = feed_keys - set(entries)
    assert not missing, f"{len(missing)} imported lines missing, e.g. {sorted(missing)[:5]}"
    listed_api = {k: v for k, v in expected.items() if v[0] is not None}
    assert len(entries) == len(feed_keys) + len(listed_api), (len(entries), len(feed_keys),
                                                              len(listed_api))
    assert len(entries) == a.loader_stats_int(srv, BL)["entries"]
    lost = []
    for key, (code, name) in sorted(expected.items()):
        e = entries.get(key)
        if code is None:
            if e is not None:
                lost.append(f"{key}: delisted by {name}, but there: {e}")
            elif a.listed_dns(srv, key, BL):
                lost.append(f"{key}: delisted by {name}, but dnsbld answers it")
            continue
        if e is None:
            lost.append(f"{key}: PUT by {name} with code {code}, no entry")
            continue
        if (e["code"], e["source"], e["manual"], e["state"]) != (code, f"operator:{name}", True,
                                                                 "listed"):
            lost.append(f"{key}: expected code {code} by operator:{name}, got {e}")
        st = a.dns_state(srv, key, BL)
        if st[:2] != (True, code):
            lost.append(f"{key}: dnsbld answers {st}, expected {code}")
    assert not lost, f"{len(lost)} lost API writes:\n" + "\n".join(lost[:40])
    for i, key in enumerate(sorted(feed_keys)):
        if i % 211 == 0:
            assert a.listed_dns(srv, key, BL), f"imported {key} not answered"

    # one history record per API write, in order, with the writer's name
    n_writes = 0
    for key, events in sorted(writes.items()):
        h = a.history_all(rd, f"zone={BL}&key={a.q(key)}")
        ops = [(x["event"], x["actor"]) for x in reversed(h) if x["actor"].startswith("operator:")]
        if ops != events:
            lost.append(f"{key}: history {ops}, API writes {events}")
        n_writes += len(events)
    assert not lost, "history does not match the API writes:\n" + "\n".join(lost[:40])
    assert n_writes >= WRITERS * (PUTS + PUTS // 5 + PUTS // 4 + 20)
    rd.close()
