"""dnsbl-api, read side, against one module-scoped server whose data the tests do not
change: /healthz, /v1/zones (against `dnsbl-loader stats` and the SOA serial), entries
(IPv4, IPv6, CIDR keys, %2F and raw slash), lookups (CIDR matches, exclusions, the
exempt allowlist, RFC 5782 test points, history, tombstones) checked against what
dnsbld answers, paging, history filters, /v1/openapi.yaml, /v1/tokens, tokens and
roles (401/403), 404/405 and parameter errors."""

import hashlib
import ipaddress
import time

import pytest
import yaml

import apitest as a
import dnsbltest as t
from apitest import BL, PBL, TL, WL, entry_path, expect

DELISTED_KEY = "192.0.2.1"
DELIST_REASON = "removal request #1"
MANY_KEY = "192.0.2.150"          # 12 API writes: more history than a lookup shows
MANY_WRITES = 12
V6_HOST = "2001:db8::5"
V6_NET = "2001:db8:100::/48"


def _prepare(srv, api):
    """Operator writes on top of the standard data, one second after the imports (so
    the history has two distinct times)."""
    now = time.time()
    time.sleep(1.05 - (now - int(now)))
    w = api.client("writer")
    expect(w.delete(entry_path(BL, DELISTED_KEY), {"reason": DELIST_REASON}), 204)
    for i in range(MANY_WRITES):
        expect(w.put(entry_path(BL, MANY_KEY), {"reason": f"write {i}"}),
               201 if i == 0 else 200)
    expect(w.put(entry_path(BL, V6_HOST), {"code": 8, "txt": "v6 $"}), 201)
    expect(w.put(entry_path(BL, V6_NET), {}), 201)


@pytest.fixture(scope="module")
def ro(tmp_path_factory):
    yield from a.module_server(tmp_path_factory, "api_ro", _prepare)


def _tokens(ro):
    srv, api = ro
    return srv, api, api.client("reader"), api.client("writer"), api.client("admin")


# --------------------------------------------------------------------------------------
# /healthz, /v1/zones

def test_healthz_needs_no_token(ro):
    srv, api = ro
    r = expect(api.client().get("/healthz", token=None), 200)
    assert r.body == {"status": "ok"}, r
    assert r.headers.get("Content-Type", "").startswith("application/json"), r


def test_zones_match_config_stats_and_dns(ro):
    srv, api, rd, _, _ = _tokens(ro)
    r = expect(rd.get("/v1/zones"), 200)
    assert r.headers.get("Content-Type", "").startswith("application/json"), r
    assert set(r.body) == {"zones"}, r
    zones = r.body["zones"]
    assert [z["name"] for z in zones] == list(a.CONFIG_ORDER), r
    for z in zones:
        assert a.ZONE_FIELDS <= set(z), f"zone object without {a.ZONE_FIELDS - set(z)}: {z}"
        conf = a.ZONE_CONF[z["name"]]
        assert z["type"] == "ip", z
        assert z["policy"] == conf["policy"], z
        assert z["exempt"] == conf.get("exempt"), z
        assert z["ttl"] == conf["ttl"], z
        assert z["code"] == conf["a"], z
        assert z["txt"] == conf.get("txt"), z
        stats = a.loader_stats_int(srv, z["name"])
        assert (z["entries"], z["tombstones"], z["serial"]) == (
            stats["entries"], stats["tombstones"], stats["serial"]), (z, stats)
        assert z["serial"] == t.soa_serial(srv, z["name"]), z
        assert z["entries"] == len(a.all_entries(rd, z["name"])), z
    byname = {z["name"]: z for z in zones}
    assert byname[TL]["serial"] == 0 and byname[TL]["entries"] == 0, byname[TL]
    assert byname[BL]["tombstones"] == 1, byname[BL]


# --------------------------------------------------------------------------------------
# Entries

def _get_entry(c, zone, key, encode=True):
    r = expect(c.get(entry_path(zone, key, encode)), 200, f"GET {zone} {key}: ")
    return a.check_entry(r.body)


def test_entry_objects_from_the_feeds(ro):
    srv, api, rd, _, _ = _tokens(ro)
    bl_txt = t.ZONES[BL]["txt"]
    cases = [
        # key, state, code, txt, source
        ("192.0.2.2", "listed", "127.0.0.3", "Open relay at $", "default"),
        ("192.0.2.3", "listed", "127.0.0.4", "Default text for $ from the file", "default"),
        ("192.0.2.4", "listed", "127.0.0.5", None, "default"),
        ("192.0.2.5", "listed", "127.0.0.7", "Trap hit, ask $$ about $", "default"),
        ("192.0.2.130", "listed", "127.0.0.6", bl_txt, "nodefault"),
        ("192.0.2.131", "listed", "127.0.0.2", "Own text only for $", "nodefault"),
        ("192.0.2.132", "listed", "127.0.0.2", bl_txt, "nodefault"),
        ("198.51.100.0/24", "listed", "127.0.0.3", "Snowshoe range", "default"),
        ("198.51.100.7", "excluded", None, None, "default"),
        ("203.0.113.0/24", "listed", "127.0.0.7", "Default text for $ from the file", "default"),
        ("198.18.0.0/28", "listed", "127.0.0.7", "Default text for $ from the file", "default"),
        ("10.20.30.41", "listed", "127.0.0.13", "Host $", "default"),
        ("192.0.2.200", "listed", "127.0.0.2", t.LONG_TXT, "default"),
    ]
    for key, state, code, txt, source in cases:
        e = _get_entry(rd, BL, key)
        got = (e["key"], e["state"], e["code"], e["txt"], e["source"], e["manual"],
               e["reason"], e["hits"], e["expires"])
        assert got == (key, state, code, txt, source, False, None, 1, None), e
    e = _get_entry(rd, PBL, "172.16.0.1")
    assert (e["state"], e["code"]) == ("excluded", None), e
    e = _get_entry(rd, PBL, "10.0.0.0/8")
    assert (e["state"], e["code"], e["txt"]) == ("listed", "127.0.0.10", t.ZONES[PBL]["txt"]), e
    e = _get_entry(rd, WL, "203.0.113.128/25")
    assert (e["state"], e["code"], e["txt"]) == ("listed", "127.0.0.5", None), e


def test_entry_key_forms(ro):
    srv, api, rd, _, _ = _tokens(ro)
    same = [
        ("198.51.100.0/24", ["198.51.100.0/24"], True),    # %2F
        ("198.51.100.0/24", ["198.51.100.0/24"], False),   # raw slash
        ("192.0.2.2", ["192.0.2.2/32", "::ffff:192.0.2.2", "192.0.2.2"], True),
        ("192.0.2.2", ["192.0.2.2/32", "::ffff:192.0.2.2"], False),
        (V6_HOST, [V6_HOST, "2001:0db8:0000:0000:0000:0000:0000:0005", V6_HOST + "/128"], True),
        (V6_HOST, [V6_HOST, V6_HOST + "/128"], False),
        (V6_NET, [V6_NET, "2001:db8:100:0::/48"], True),
        (V6_NET, [V6_NET], False),
    ]
    first = {}
    for key, forms, encode in same:
        for form in forms:
            e = _get_entry(rd, BL, form, encode)
            assert e["key"] == key, f"GET {form!r} (encoded={encode}): key {e['key']!r}"
            first.setdefault(key, e)
            assert e == first[key], (form, e, first[key])
    e = first[V6_HOST]
    assert (e["state"], e["code"], e["txt"], e["source"], e["manual"]) == (
        "listed", "127.0.0.8", "v6 $", "operator:writer", True), e
    e = first[V6_NET]
    assert (e["code"], e["txt"]) == (t.ZONES[BL]["a"], t.ZONES[BL]["txt"]), e


def test_entry_not_found(ro):
    srv, api, rd, _, _ = _tokens(ro)
    for zone, key in ((BL, "192.0.2.99"), (BL, "198.51.100.8"), (BL, "192.0.2.0/24"),
                      (BL, "2001:db8::6"), (TL, "192.0.2.2"), (PBL, "192.0.2.2")):
        r = expect(rd.get(entry_path(zone, key)), 404, f"GET {zone} {key}: ")
        r.error()
        assert "delisted" not in r.body, r
    r = expect(rd.get(entry_path("nope.example", "192.0.2.2")), 404)
    r.error()


def test_delisted_entry_404_carries_the_tombstone(ro):
    srv, api, rd, _, _ = _tokens(ro)
    r = expect(rd.get(entry_path(BL, DELISTED_KEY)), 404)
    r.error()
    d = r.body.get("delisted")
    assert isinstance(d, dict) and set(d) >= {"time", "actor", "reason"}, r
    assert (d["actor"], d["reason"]) == ("operator:writer", DELIST_REASON), r
    when = a.check_time(d["time"], "delisted time")
    recs = t.history_records(srv, BL, DELISTED_KEY)
    assert recs[0][1] == "delist" and recs[0][0] == when, (recs, d)


def test_entries_agree_with_dns(ro):
    """Every host entry's code and TXT are what dnsbld answers (unless exempted)."""
    srv, api, rd, _, _ = _tokens(ro)
    checked = 0
    for zone in (BL, PBL, WL):
        for e in a.all_entries(rd, zone):
            a.check_entry(e)
            net = a.ip_key(e["key"])
            if net.num_addresses != 1:
                continue
            addr = str(net.network_address)
            if zone == BL and addr == "192.0.2.5":     # exempted by wl.example
                continue
            listed, code, txt = a.dns_state(srv, addr, zone)
            if e["state"] == "listed":
                assert (listed, code, txt) == (True, e["code"], a.expand(e["txt"], addr)), (
                    zone, e, (listed, code, txt))
            else:
                assert not listed, (zone, e)
            checked += 1
    assert checked >= 15


# --------------------------------------------------------------------------------------
# Lookups

def _lookup(c, addr, status=200):
    r = expect(c.get(f"/v1/lookup/{addr}"), status, f"lookup {addr}: ")
    if status != 200:
        r.error()
        return r
    assert set(r.body) >= {"query", "results"}, r
    res = r.body["results"]
    assert [x["zone"] for x in res] == list(a.CONFIG_ORDER), r
    for x in res:
        assert {"zone", "policy", "listed", "entry", "answer_txt", "history"} <= set(x), x
        assert x["policy"] == a.ZONE_CONF[x["zone"]]["policy"], x
        assert isinstance(x["listed"], bool), x
        if x["entry"] is not None:
            a.check_entry(x["entry"])
        assert isinstance(x["history"], list) and len(x["history"]) <= 10, x
        for h in x["history"]:
            a.check_history_record(h)
            assert h["zone"] == x["zone"], h
        seqs = [h["seq"] for h in x["history"]]
        assert seqs == sorted(seqs, reverse=True), x
    return r.body, {x["zone"]: x for x in res}


LOOKUP_ADDRS = [
    "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6",
    "192.0.2.130", "192.0.2.131", "192.0.2.132", "192.0.2.150", "192.0.2.200",
    "198.51.100.0", "198.51.100.7", "198.51.100.8", "198.51.100.9", "198.51.100.255",
    "203.0.113.1", "203.0.113.127", "203.0.113.128", "203.0.113.200",
    "198.18.0.0", "198.18.0.15", "198.18.0.16",
    "10.0.0.1", "10.20.0.5", "10.20.30.5", "10.20.30.40", "10.20.30.41", "10.21.0.1",
    "172.16.0.1", "172.16.0.2", "172.31.255.255", "172.32.0.1", "100.64.0.1",
    "127.0.0.2", "127.0.0.1", "127.0.0.3",
    V6_HOST, "2001:db8::6", "2001:db8:100::1", "2001:db8:100:ffff::1", "2001:db8:101::1",
]


def test_lookup_agrees_with_dns(ro):
    """`listed` is exactly what dnsbld answers, answer_txt its TXT, entry the match."""
    srv, api, rd, _, _ = _tokens(ro)
    for addr in LOOKUP_ADDRS:
        body, res = _lookup(rd, addr)
        assert body["query"] == addr, body
        for zone in a.CONFIG_ORDER:
            x = res[zone]
            listed, code, txt = a.dns_state(srv, addr, zone)
            assert x["listed"] == listed, f"lookup {addr} {zone}: {x}; dnsbld listed={listed}"
            assert x["answer_txt"] == txt, f"lookup {addr} {zone}: {x}; dnsbld TXT {txt!r}"
            e = x["entry"]
            if e is not None:
                assert ipaddress.ip_address(addr) in a.ip_key(e["key"]), (addr, x)
                if listed:
                    assert e["code"] == code, (addr, x, code)
                    assert a.expand(e["txt"], addr) == txt, (addr, x, txt)
            elif listed:
                assert x.get("test_point") is True, f"listed without an entry: {x}"


def test_lookup_cidr_match_and_txt_expansion(ro):
    srv, api, rd, _, _ = _tokens(ro)
    _, res = _lookup(rd, "198.51.100.8")
    x = res[BL]
    assert x["listed"] and x["entry"]["key"] == "198.51.100.0/24", x
    assert x["answer_txt"] == "Snowshoe range", x
    assert [h["key"] for h in x["history"]] == ["198.51.100.0/24"], x
    assert x["history"][0]["event"] == "list" and x["history"][0]["actor"] == "source:default"
    for zone in (PBL, WL, TL):
        assert (res[zone]["listed"], res[zone]["entry"], res[zone]["answer_txt"],
                res[zone]["history"]) == (False, None, None, []), res[zone]
    _, res = _lookup(rd, "10.20.0.5")
    assert res[BL]["listed"] and res[BL]["entry"]["key"] == "10.20.0.0/16", res[BL]
    assert res[BL]["answer_txt"] == "Wide 10.20.0.5", res[BL]
    assert res[PBL]["listed"] and res[PBL]["entry"]["key"] == "10.0.0.0/8", res[PBL]
    assert res[PBL]["answer_txt"] == "10.20.0.5 is in a dynamic range, see https://pbl.example/"
    _, res = _lookup(rd, "10.20.30.41")
    assert res[BL]["entry"]["key"] == "10.20.30.41", res[BL]
    assert res[BL]["answer_txt"] == "Host 10.20.30.41", res[BL]
    _, res = _lookup(rd, "10.20.30.5")
    assert res[BL]["entry"]["key"] == "10.20.30.0/24", res[BL]
    assert res[BL]["answer_txt"] == "Narrow 10.20.30.5", res[BL]
    _, res = _lookup(rd, "192.0.2.5")
    assert res[WL]["listed"] and res[WL]["answer_txt"] is None, res[WL]
    _, res = _lookup(rd, "2001:db8:100::1")
    assert res[BL]["listed"] and res[BL]["entry"]["key"] == V6_NET, res[BL]
    assert res[BL]["answer_txt"] == "Listed, see https://bl.example/lookup?ip=2001:db8:100::1"
    _, res = _lookup(rd, V6_HOST)
    assert res[BL]["answer_txt"] == f"v6 {V6_HOST}", res[BL]


def test_lookup_excluded(ro):
    srv, api, rd, _, _ = _tokens(ro)
    for addr, other in (("198.51.100.7", False), ("10.20.30.40", True)):
        _, res = _lookup(rd, addr)
        x = res[BL]
        assert x["listed"] is False and x["answer_txt"] is None, x
        assert x["entry"] is not None, f"lookup {addr}: an exclusion is the entry: {x}"
        assert (x["entry"]["key"], x["entry"]["state"]) == (addr, "excluded"), x
        assert res[PBL]["listed"] is other, res[PBL]
    _, res = _lookup(rd, "172.16.0.1")
    assert res[PBL]["listed"] is False and res[PBL]["entry"]["key"] == "172.16.0.1", res[PBL]
    assert res[PBL]["entry"]["state"] == "excluded", res[PBL]


def test_lookup_exempted_by_allowlist(ro):
    srv, api, rd, _, _ = _tokens(ro)
    for addr, bl_key, wl_key in (("192.0.2.5", "192.0.2.5", "192.0.2.5"),
                                 ("203.0.113.200", "203.0.113.0/24", "203.0.113.128/25"),
                                 ("203.0.113.128", "203.0.113.0/24", "203.0.113.128/25")):
        _, res = _lookup(rd, addr)
        x = res[BL]
        assert x["listed"] is False and x["answer_txt"] is None, x
        assert x["entry"] is not None and x["entry"]["key"] == bl_key, x
        assert x["entry"]["state"] == "listed", x
        ex = x.get("exempted_by")
        assert isinstance(ex, dict) and ex.get("zone") == WL, f"lookup {addr}: {x}"
        assert a.check_entry(ex["entry"])["key"] == wl_key, x
        assert res[WL]["listed"] is True and res[WL]["entry"]["key"] == wl_key, res[WL]
        assert not a.listed_dns(srv, addr, BL) and a.listed_dns(srv, addr, WL)
    for addr in ("203.0.113.127", "192.0.2.2"):
        _, res = _lookup(rd, addr)
        assert res[BL]["listed"] is True, res[BL]
        assert res[BL].get("exempted_by") is None, res[BL]


def test_lookup_test_points(ro):
    srv, api, rd, _, _ = _tokens(ro)
    for addr, listed in (("127.0.0.2", True), ("127.0.0.1", False)):
        _, res = _lookup(rd, addr)
        for zone in a.CONFIG_ORDER:
            x = res[zone]
            assert x.get("test_point") is True, f"lookup {addr} {zone}: {x}"
            assert x["listed"] is listed and x["entry"] is None, x
            assert x["listed"] == a.listed_dns(srv, addr, zone)
    _, res = _lookup(rd, "127.0.0.3")
    for x in res.values():
        assert not x.get("test_point") and x["listed"] is False, x


def test_lookup_history_and_delisting(ro):
    srv, api, rd, _, _ = _tokens(ro)
    _, res = _lookup(rd, DELISTED_KEY)
    x = res[BL]
    assert (x["listed"], x["entry"], x["answer_txt"]) == (False, None, None), x
    events = [(h["event"], h["key"], h["actor"]) for h in x["history"]]
    assert events == [("delist", DELISTED_KEY, "operator:writer"),
                      ("list", DELISTED_KEY, "source:default")], x
    assert x["history"][0]["reason"] == DELIST_REASON, x
    d = x.get("delisted")
    assert isinstance(d, dict), f"no delisted in {x}"
    assert (d["actor"], d["reason"]) == ("operator:writer", DELIST_REASON), d
    assert a.check_time(d["time"]) == a.check_time(x["history"][0]["time"]), x
    for zone in (PBL, WL, TL):
        assert "delisted" not in res[zone] or res[zone]["delisted"] is None, res[zone]
    # never written: no history, no tombstone
    _, res = _lookup(rd, "192.0.2.99")
    assert res[BL]["history"] == [] and res[BL].get("delisted") is None, res[BL]
    # more than 10 records: the newest 10, the same as /v1/history gives
    _, res = _lookup(rd, MANY_KEY)
    x = res[BL]
    assert x["listed"] and x["entry"]["key"] == MANY_KEY, x
    assert x["entry"]["reason"] == f"write {MANY_WRITES - 1}", x
    assert x["entry"]["hits"] == MANY_WRITES, x
    r = expect(rd.get(f"/v1/history?zone={BL}&key={MANY_KEY}&limit=10"), 200)
    assert x["history"] == r.body["history"], (x["history"], r.body)
    assert len(x["history"]) == 10, x
    assert [h["reason"] for h in x["history"]] == [f"write {i}" for i in range(11, 1, -1)]


def test_lookup_bad_addresses(ro):
    srv, api, rd, _, _ = _tokens(ro)
    for addr in ("198.51.100.0%2F24", "198.51.100.0/24", "2001:db8::%2F32",
                 "garbage", "256.1.1.1", "1.2.3", "1.2.3.4.5", "192.0.2.1%20",
                 "2001:db8::g", "example.com", "-1"):
        _lookup(rd, addr, 400)


# --------------------------------------------------------------------------------------
# Paging

def test_entries_paging(ro):
    srv, api, rd, _, _ = _tokens(ro)
    for zone in (BL, PBL):
        full = a.all_entries(rd, zone, limit=1000)
        keys = [e["key"] for e in full]
        assert len(keys) == a.loader_stats_int(srv, zone)["entries"]
        for limit in (1, 3, 7):
            assert a.all_entries(rd, zone, limit=limit) == full, f"{zone} limit {limit}"
        r = expect(rd.get(f"/v1/zones/{zone}/entries"), 200)     # default limit 100
        assert r.body["entries"] == full and r.body["next_cursor"] is None, r
    full = a.all_entries(rd, BL)
    keys = [e["key"] for e in full]
    assert V6_HOST in keys and V6_NET in keys and "198.51.100.7" in keys, keys
    versions = [a.ip_key(k).version for k in keys]
    assert versions == sorted(versions), keys
    # a cursor that is not a key of the zone: the page starts after it in key order
    r = expect(rd.get(f"/v1/zones/{BL}/entries?cursor={DELISTED_KEY}&limit=1000"), 200)
    assert [e["key"] for e in r.body["entries"]] == [
        k for k in keys if a.key_order(k) > a.key_order(DELISTED_KEY)], r
    r = expect(rd.get(f"/v1/zones/{BL}/entries?cursor={a.q('10.20.0.0/16')}&limit=2"), 200)
    assert [e["key"] for e in r.body["entries"]] == keys[1:3], r
    assert r.body["next_cursor"] == keys[2], r
    # an empty zone
    r = expect(rd.get(f"/v1/zones/{TL}/entries"), 200)
    assert r.body == {"zone": TL, "entries": [], "next_cursor": None}, r


def test_entries_paging_errors(ro):
    srv, api, rd, _, _ = _tokens(ro)
    for query in ("limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=1.5", "limit=",
                  "cursor=garbage", "cursor=256.1.1.1", "foo=1", "limit=10&bar=2"):
        r = expect(rd.get(f"/v1/zones/{BL}/entries?{query}"), 400, f"?{query}: ")
        r.error()
    expect(rd.get(f"/v1/zones/{BL}/entries?limit=1000"), 200)
    expect(rd.get(f"/v1/zones/{BL}/entries?limit=1"), 200)
    expect(rd.get("/v1/zones/nope.example/entries"), 404).error()


# --------------------------------------------------------------------------------------
# History

def test_history_shape_paging_and_stats(ro):
    srv, api, rd, _, _ = _tokens(ro)
    r = expect(rd.get("/v1/history"), 200)
    assert set(r.body) == {"history", "next_cursor"}, r
    everything = a.history_all(rd)
    assert r.body["history"] == everything[:100], "default limit is not 100 newest first"
    for h in everything:
        a.check_history_record(h)
    assert a.history_all(rd, limit=7) == everything
    assert len(everything) == sum(a.loader_stats_int(srv, z)["history"] for z in a.CONFIG_ORDER)
    r = expect(rd.get("/v1/history?limit=3"), 200)
    assert r.body["history"] == everything[:3] and r.body["next_cursor"] is not None, r
    r2 = expect(rd.get(f"/v1/history?limit=3&cursor={a.q(r.body['next_cursor'])}"), 200)
    assert r2.body["history"] == everything[3:6], r2
    for zone in a.CONFIG_ORDER:
        mine = a.history_all(rd, f"zone={zone}", limit=5)
        assert mine == [h for h in everything if h["zone"] == zone], zone
    assert a.history_all(rd, f"zone={TL}") == []


def test_history_key_filter_and_actor(ro):
    srv, api, rd, _, _ = _tokens(ro)
    recs = a.history_all(rd, f"zone={BL}&key={MANY_KEY}", limit=5)
    assert [h["event"] for h in recs] == ["update"] * (MANY_WRITES - 1) + ["list"], recs
    assert {h["actor"] for h in recs} == {"operator:writer"}, recs
    assert {h["key"] for h in recs} == {MANY_KEY}, recs
    assert [h["reason"] for h in recs] == [f"write {i}" for i in range(MANY_WRITES - 1, -1, -1)]
    for form in (MANY_KEY + "/32", "::ffff:" + MANY_KEY):
        assert a.history_all(rd, f"zone={BL}&key={a.q(form)}") == recs, form
    # the loader prints the same records
    loader = t.history_records(srv, BL, MANY_KEY, limit=100)
    assert [(r[0], r[1], r[3]) for r in loader] == [
        (t.parse_time(h["time"]), h["event"], h["actor"]) for h in recs], (loader, recs)
    cidr = a.history_all(rd, f"zone={BL}&key={a.q('198.51.100.0/24')}")
    assert [(h["key"], h["event"], h["actor"]) for h in cidr] == [
        ("198.51.100.0/24", "list", "source:default")], cidr
    v6 = a.history_all(rd, f"zone={BL}&key={a.q(V6_NET)}")
    assert [(h["key"], h["event"], h["actor"]) for h in v6] == [
        (V6_NET, "list", "operator:writer")], v6
    d = a.history_all(rd, f"zone={BL}&key={DELISTED_KEY}")
    assert [(h["event"], h["actor"], h["reason"]) for h in d] == [
        ("delist", "operator:writer", DELIST_REASON), ("list", "source:default", None)], d
    # the entry had the file's default A (not the zone's): recorded as it was
    assert [h["code"] for h in d] == ["127.0.0.7", "127.0.0.7"], d
    assert {h["code"] for h in recs} == {None}, f"zone default code not null: {recs}"


def test_history_since(ro):
    srv, api, rd, _, _ = _tokens(ro)
    everything = a.history_all(rd)
    times = sorted({t.parse_time(h["time"]) for h in everything})
    ops = [h for h in everything if h["actor"] == "operator:writer"]
    assert len(ops) == 1 + MANY_WRITES + 2, ops
    api_time = min(t.parse_time(h["time"]) for h in ops)
    # the operator writes came at least a second after the imports
    assert [h for h in everything if t.parse_time(h["time"]) >= api_time] == ops, everything
    assert times[0] < api_time, times
    for since in (str(api_time), a.q(t.rfc3339(api_time)), a.q(t.rfc3339(api_time, 120))):
        assert a.history_all(rd, f"since={since}", limit=4) == ops, since
    assert a.history_all(rd, f"since={times[0]}") == everything
    assert a.history_all(rd, "since=0") == everything
    assert a.history_all(rd, f"since={times[-1] + 1}") == []
    assert a.history_all(rd, f"zone={BL}&key={MANY_KEY}&since={api_time}", limit=3) == [
        h for h in ops if h["key"] == MANY_KEY]


def test_history_parameter_errors(ro):
    srv, api, rd, _, _ = _tokens(ro)
    for query in (f"key={MANY_KEY}", "limit=0", "limit=1001", "limit=x", "since=yesterday",
                  "since=2026-13-45T00:00:00Z", "bogus=1", f"zone={BL}&key=garbage",
                  f"zone={BL}&key=198.51.100.1%2F24", "cursor=abc"):
        r = expect(rd.get(f"/v1/history?{query}"), 400, f"?{query}: ")
        r.error()
    expect(rd.get("/v1/history?zone=nope.example"), 404).error()


# --------------------------------------------------------------------------------------
# OpenAPI, tokens

def test_openapi_yaml(ro):
    srv, api, rd, _, _ = _tokens(ro)
    r = expect(rd.get("/v1/openapi.yaml"), 200)
    assert r.headers.get("Content-Type", "").startswith("application/yaml"), r
    path = t.REPO / "api" / "openapi.yaml"
    assert path.exists(), f"{path} missing"
    assert r.raw == path.read_bytes(), "GET /v1/openapi.yaml differs from api/openapi.yaml"
    doc = yaml.safe_load(r.raw)
    assert str(doc.get("openapi", "")).startswith("3."), doc.get("openapi")
    paths = doc.get("paths") or {}
    methods = {"/v1/zones/{zone}/entries/{key}": {"get", "put", "delete"}}
    for route in a.ROUTES:
        assert route in paths, f"{route} not in openapi.yaml paths {sorted(paths)}"
        want = methods.get(route, {"get"})
        assert want <= set(paths[route]), (route, sorted(paths[route]))
    expect(api.client().get("/v1/openapi.yaml", token=None), 401)


def test_tokens_admin_only(ro):
    srv, api, rd, wr, ad = _tokens(ro)
    r = expect(ad.get("/v1/tokens"), 200)
    assert set(r.body) == {"tokens"}, r
    toks = r.body["tokens"]
    assert all(set(x) == {"name", "role"} for x in toks), f"more than names and roles: {toks}"
    assert sorted((x["name"], x["role"]) for x in toks) == sorted(api.roles.items()), toks
    assert sorted((x["name"], x["role"]) for x in toks) == sorted(api.token_list())
    for c in (rd, wr):
        expect(c.get("/v1/tokens"), 403).error()
    # the tokens file holds NAME ROLE SHA256(secret), never the secret
    text = api.tokens_path.read_text()
    for name, secret in api.secrets.items():
        assert secret not in text
        line = [ln.split() for ln in text.splitlines()
                if ln.strip() and not ln.startswith("#") and ln.split()[0] == name]
        assert line == [[name, api.roles[name], hashlib.sha256(secret.encode()).hexdigest()]], text


# --------------------------------------------------------------------------------------
# 401, 403

ALL_GETS = ["/v1/zones", f"/v1/lookup/192.0.2.2", f"/v1/zones/{BL}/entries",
            entry_path(BL, "192.0.2.2"), "/v1/history", "/v1/tokens", "/v1/openapi.yaml"]


def _assert_401(r):
    assert r.status == 401, f"expected 401, got {r!r}"
    assert r.headers.get("WWW-Authenticate") == 'Bearer realm="dnsbl-api"', r
    r.error()


def test_401_without_or_with_a_wrong_token(ro):
    srv, api, rd, wr, ad = _tokens(ro)
    secret = api.secrets["admin"]
    bad_auth = [None, f"Bearer {'0' * 64}", f"Bearer {secret[:-1]}", f"Bearer {secret}0",
                f"Bearer {secret[:-1]}{'0' if secret[-1] != '0' else '1'}",
                "Bearer", "Bearer ", f"Basic {secret}", f"Token {secret}", secret,
                f"Bearer {secret} {secret}", f"Bearer{secret}",
                "Basic YWRtaW46YWRtaW4=", "Bearer " + "a" * 4000]
    c = api.client()
    for auth in bad_auth:
        hdrs = {"Authorization": auth} if auth is not None else {}
        for path in ALL_GETS:
            _assert_401(c.get(path, token=None, headers=hdrs))
        _assert_401(c.put(entry_path(BL, "192.0.2.60"), {}, token=None, headers=hdrs))
        _assert_401(c.delete(entry_path(BL, "192.0.2.2"), token=None, headers=hdrs))
    expect(rd.get(entry_path(BL, "192.0.2.60")), 404)
    expect(rd.get(entry_path(BL, "192.0.2.2")), 200)
    assert a.listed_dns(srv, "192.0.2.2", BL) and not a.listed_dns(srv, "192.0.2.60", BL)


def test_403_for_roles(ro):
    srv, api, rd, wr, ad = _tokens(ro)
    serial = a.loader_stats_int(srv, BL)["serial"]
    for body in (None, {}, {"code": 3, "reason": "x"}):
        expect(rd.put(entry_path(BL, "192.0.2.61"), body), 403).error()
        expect(rd.put(entry_path(BL, "192.0.2.2"), body), 403).error()
        expect(rd.delete(entry_path(BL, "192.0.2.2"), body), 403).error()
    expect(rd.delete(entry_path(BL, "198.51.100.0/24", encode=False)), 403).error()
    assert a.loader_stats_int(srv, BL)["serial"] == serial
    expect(rd.get(entry_path(BL, "192.0.2.61")), 404)
    assert a.listed_dns(srv, "192.0.2.2", BL) and not a.listed_dns(srv, "192.0.2.61", BL)
    for c in (rd, wr):
        expect(c.get("/v1/tokens"), 403).error()
    for c in (rd, wr, ad):
        for path in ALL_GETS:
            if path != "/v1/tokens":
                expect(c.get(path), 200)


# --------------------------------------------------------------------------------------
# 404, 405, unknown parameters

def test_404_unknown_paths_and_zones(ro):
    srv, api, rd, wr, ad = _tokens(ro)
    for path in ("/", "/v1", "/v1/", "/v1/nope", "/v2/zones", "/v1/zones/bl.example",
                 "/v1/zones/bl.example/nope", "/v1/zones/nope.example/entries",
                 "/v1/zones/nope.example/entries/192.0.2.2", "/healthz/x", "/v1/zonesx",
                 "/v1/tokens/admin", "/v1/history/1"):
        expect(ad.get(path), 404, f"GET {path}: ").error()
    expect(wr.put(entry_path("nope.example", "192.0.2.2"), {}), 404).error()
    expect(wr.delete(entry_path("nope.example", "192.0.2.2")), 404).error()
    expect(wr.delete(entry_path(BL, "192.0.2.99")), 404).error()


def _allow(r):
    return {m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()}


def test_405_with_allow(ro):
    srv, api, rd, wr, ad = _tokens(ro)
    entry = entry_path(BL, "192.0.2.2")
    cases = [("POST", entry, {"GET", "PUT", "DELETE"}),
             ("PATCH", entry, {"GET", "PUT", "DELETE"}),
             ("POST", f"/v1/zones/{BL}/entries", {"GET"}),
             ("PUT", f"/v1/zones/{BL}/entries", {"GET"}),
             ("DELETE", f"/v1/zones/{BL}/entries", {"GET"}),
             ("DELETE", "/v1/zones", {"GET"}),
             ("POST", "/v1/zones", {"GET"}),
             ("PUT", "/v1/lookup/192.0.2.2", {"GET"}),
             ("POST", "/v1/history", {"GET"}),
             ("DELETE", "/v1/tokens", {"GET"}),
             ("POST", "/v1/tokens", {"GET"}),
             ("PUT", "/v1/openapi.yaml", {"GET"}),
             ("POST", "/healthz", {"GET"})]
    for method, path, allowed in cases:
        r = ad.request(method, path, body={})
        assert r.status == 405, f"{method} {path}: expected 405, got {r!r}"
        allow = _allow(r)
        assert allowed <= allow and method not in allow, f"{method} {path}: Allow {allow}"
        r.error()
    assert a.listed_dns(srv, "192.0.2.2", BL)
    expect(rd.get(entry), 200)


def test_unknown_query_parameters(ro):
    srv, api, rd, wr, ad = _tokens(ro)
    for path in ("/v1/zones?x=1", "/v1/lookup/192.0.2.2?x=1", entry_path(BL, "192.0.2.2") + "?x=1",
                 f"/v1/zones/{BL}/entries?x=1", "/v1/history?x=1", "/v1/tokens?x=1",
                 "/v1/openapi.yaml?x=1"):
        expect(ad.get(path), 400, f"GET {path}: ").error()
    expect(wr.put(entry_path(BL, "192.0.2.62") + "?force=1", {}), 400).error()
    expect(wr.delete(entry_path(BL, "192.0.2.2") + "?force=1"), 400).error()
    expect(rd.get(entry_path(BL, "192.0.2.62")), 404)
    assert a.listed_dns(srv, "192.0.2.2", BL)


def test_bad_keys_are_400(ro):
    srv, api, rd, wr, ad = _tokens(ro)
    serial = a.loader_stats_int(srv, BL)["serial"]
    keys = ["garbage", "256.1.1.1", "198.51.100.1/24", "192.0.2.0/33", "192.0.2.0/-1",
            "192.0.2.0/", "1.2.3", "1.2.3.4.5", "192.0.2.1 ", "2001:db8::/129",
            "2001:db8::1/32", "2001:db8::g", "example.com", "192.0.2.0/24x", "::ffff:1.2.3"]
    for key in keys:
        for encode in (True, False):
            what = f"{key!r} (encoded={encode}): "
            path = entry_path(BL, key, encode) if encode else \
                f"/v1/zones/{BL}/entries/{key.replace(' ', '%20')}"
            expect(rd.get(path), 400, "GET " + what).error()
            expect(wr.put(path, {}), 400, "PUT " + what).error()
            expect(wr.delete(path), 400, "DELETE " + what).error()
    assert a.loader_stats_int(srv, BL)["serial"] == serial
