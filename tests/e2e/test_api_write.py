"""dnsbl-api writes, each against a fresh server with the standard data: PUT (201
created / 200 updated / 201 relisted, Location, code forms, TXT templates and null,
reason kept, expires/ttl, exclusions), DELETE (204, tombstones, 404, 409 covered_by,
exclusions), IPv6 and CIDR keys, paging over many keys, the history of API writes,
feeds against operator entries and tombstones, and the DNS effect: the first query
dnsbld gets after the response already answers the change (UDP and TCP)."""

import time
import urllib.parse

import apitest as a
import dnsbltest as t
from apitest import BL, PBL, entry_path, expect, make_api  # noqa: F401 (fixture)

DAY = 86400
BL_TXT = t.ZONES[BL]["txt"]
BL_A = t.ZONES[BL]["a"]
# C's time() may lag Python's time.time() by a clock tick across a second boundary
SLACK = 1


def _zone(c, name):
    r = expect(c.get("/v1/zones"), 200)
    return {z["name"]: z for z in r.body["zones"]}[name]


def _serial(c, zone=BL):
    return _zone(c, zone)["serial"]


def _put(c, key, body=None, status=None, outcome=None, encode=True, zone=BL):
    r = c.put(entry_path(zone, key, encode), body)
    if status is not None:
        expect(r, status, f"PUT {zone} {key} {body}: ")
    if r.status in (200, 201):
        assert isinstance(r.body, dict), r
        a.check_entry(r.body)
        assert r.body.get("outcome") in ("created", "relisted", "updated"), r
        assert (r.status == 201) == (r.body["outcome"] in ("created", "relisted")), r
        if outcome is not None:
            assert r.body["outcome"] == outcome, r
    return r


def _get(c, key, zone=BL, status=200, encode=True):
    r = expect(c.get(entry_path(zone, key, encode)), status, f"GET {zone} {key}: ")
    if status == 200:
        a.check_entry(r.body)
    return r


def _location_path(r):
    loc = r.headers.get("Location")
    assert loc, f"no Location header: {r!r}"
    return urllib.parse.urlsplit(loc).path


def _strip(e):
    return {k: v for k, v in e.items() if k != "outcome"}


def _wait_next_second():
    now = time.time()
    time.sleep(1.05 - (now - int(now)))
    return int(time.time())


# --------------------------------------------------------------------------------------
# The DNS effect of each write

def _first_query(srv, addr, transport, rdtype="A", zone=BL):
    return srv.ask(a.qname(addr, zone), rdtype, transport)


def test_first_query_after_each_write_answers_it(make_api, transport):
    srv, api = make_api()
    wr = api.client("writer", keepalive=True)
    failures = []

    def check(step, addr, expect_a, expect_txt, first="A", zone=BL):
        """The very first query after the response (A or TXT first), then the other."""
        name = a.qname(addr, zone)
        order = ("A", "TXT") if first == "A" else ("TXT", "A")
        for rdtype in order:
            r = _first_query(srv, addr, transport, rdtype, zone)
            try:
                if expect_a is None:
                    t.assert_nxdomain(r, zone)
                elif rdtype == "A":
                    t.assert_listed_a(r, zone, name, expect_a)
                elif expect_txt is None:
                    t.assert_nodata(r, zone)
                else:
                    t.assert_listed_txt(r, zone, name, expect_txt)
            except AssertionError as e:
                failures.append(f"{step}: {rdtype} {name} over {transport}: {e}")

    expect(wr.put(entry_path(BL, "192.0.2.77"), {"code": "127.0.0.4", "txt": "Hand $"}), 201)
    check("PUT 192.0.2.77 (new)", "192.0.2.77", "127.0.0.4", "Hand 192.0.2.77")
    expect(wr.put(entry_path(BL, "192.0.2.78"), {}), 201)
    check("PUT 192.0.2.78 (new, defaults)", "192.0.2.78", BL_A,
          a.expand(BL_TXT, "192.0.2.78"), first="TXT")
    expect(wr.put(entry_path(BL, "192.0.2.77"), {"code": 9}), 200)
    check("PUT 192.0.2.77 (update)", "192.0.2.77", "127.0.0.9", a.expand(BL_TXT, "192.0.2.77"))
    expect(wr.put(entry_path(BL, "192.0.2.78"), {"txt": None}), 200)
    check("PUT 192.0.2.78 txt null", "192.0.2.78", BL_A, None, first="TXT")
    expect(wr.delete(entry_path(BL, "192.0.2.77")), 204)
    check("DELETE 192.0.2.77", "192.0.2.77", None, None)
    expect(wr.delete(entry_path(BL, "192.0.2.2"), {"reason": "fp"}), 204)
    check("DELETE 192.0.2.2 (feed entry)", "192.0.2.2", None, None, first="TXT")
    expect(wr.put(entry_path(BL, "203.0.113.9"), {"exclude": True}), 201)
    check("PUT 203.0.113.9 exclude", "203.0.113.9", None, None)
    check("203.0.113.10 beside it", "203.0.113.10", "127.0.0.7",
          "Default text for 203.0.113.10 from the file")
    expect(wr.delete(entry_path(BL, "203.0.113.9")), 204)
    check("DELETE the exclusion 203.0.113.9", "203.0.113.9", "127.0.0.7",
          "Default text for 203.0.113.9 from the file")
    expect(wr.put(entry_path(BL, "198.51.100.7"), {}), 200)
    check("PUT 198.51.100.7 (exclusion -> listing)", "198.51.100.7", BL_A,
          a.expand(BL_TXT, "198.51.100.7"))
    expect(wr.put(entry_path(BL, "192.0.2.128/25", encode=False), {"code": "5"}), 201)
    check("PUT 192.0.2.128/25", "192.0.2.129", "127.0.0.5", a.expand(BL_TXT, "192.0.2.129"))
    expect(wr.delete(entry_path(BL, "198.51.100.0/24")), 204)
    check("DELETE 198.51.100.0/24", "198.51.100.8", None, None)
    expect(wr.put(entry_path(BL, "2001:db8::77"), {"code": 6, "txt": "v6 $ here"}), 201)
    check("PUT 2001:db8::77", "2001:db8::77", "127.0.0.6", "v6 2001:db8::77 here")
    expect(wr.put(entry_path(BL, "2001:db8:7::/48"), {}), 201)
    check("PUT 2001:db8:7::/48", "2001:db8:7::1", BL_A, a.expand(BL_TXT, "2001:db8:7::1"),
          first="TXT")
    expect(wr.delete(entry_path(BL, "2001:db8::77")), 204)
    check("DELETE 2001:db8::77", "2001:db8::77", None, None)
    expect(wr.put(entry_path(PBL, "192.0.2.77"), {"code": 11}), 201)
    check("PUT pbl 192.0.2.77", "192.0.2.77", "127.0.0.11",
          a.expand(t.ZONES[PBL]["txt"], "192.0.2.77"), zone=PBL)
    assert not failures, "\n".join(failures)


# --------------------------------------------------------------------------------------
# PUT

def test_put_creates_then_updates(make_api):
    srv, api = make_api()
    wr, rd = api.client("writer"), api.client("reader")
    key = "192.0.2.77"
    serial0 = _serial(rd)
    before = int(time.time())
    r = _put(wr, key, {}, 201, "created")
    after = int(time.time())
    e = r.body
    assert (e["key"], e["state"], e["code"], e["txt"], e["reason"], e["source"], e["manual"],
            e["hits"], e["expires"]) == (key, "listed", BL_A, BL_TXT, None, "operator:writer",
                                         True, 1, None), e
    assert before - SLACK <= t.parse_time(e["first_seen"]) == t.parse_time(e["last_seen"]) \
        <= after + SLACK, e
    loc = _location_path(r)
    assert loc in (entry_path(BL, key), entry_path(BL, key, False)), loc
    got = expect(rd.get(loc), 200).body
    assert _strip(got) == _strip(e), (got, e)
    serial1 = _serial(rd)
    assert serial1 > serial0 and serial1 == t.soa_serial(srv, BL)
    # update: 200, a hit more, reason set
    r = _put(wr, key, {"reason": "abuse desk"}, 200, "updated")
    assert (r.body["hits"], r.body["reason"], r.body["first_seen"]) == (2, "abuse desk",
                                                                       e["first_seen"]), r
    # reason absent: kept; an empty body (no body at all) is {}
    r = _put(wr, key, {"code": 3}, 200, "updated")
    assert (r.body["hits"], r.body["reason"], r.body["code"]) == (3, "abuse desk", "127.0.0.3"), r
    r = expect(wr.put(entry_path(BL, key), raw=b""), 200)
    assert (r.body["outcome"], r.body["hits"], r.body["reason"], r.body["code"]) == (
        "updated", 4, "abuse desk", BL_A), r
    assert t.parse_time(r.body["last_seen"]) >= t.parse_time(r.body["first_seen"])
    assert _serial(rd) > serial1
    # a new key with no body at all
    r = expect(wr.put(entry_path(BL, "192.0.2.79"), raw=b""), 201)
    assert (r.body["outcome"], r.body["code"], r.body["txt"]) == ("created", BL_A, BL_TXT), r
    # another token: its name is the source
    r = _put(api.client("admin"), key, {"reason": "by admin"}, 200, "updated")
    assert r.body["source"] == "operator:admin" and r.body["manual"] is True, r
    got = _get(rd, key).body
    assert _strip(got) == _strip(r.body)
    assert a.listed_dns(srv, key, BL)


def test_put_on_feed_entries_and_feeds_after(make_api):
    srv, api = make_api()
    wr, rd = api.client("writer"), api.client("reader")
    e0 = _get(rd, "192.0.2.2").body
    assert (e0["code"], e0["txt"], e0["manual"]) == ("127.0.0.3", "Open relay at $", False)
    r = _put(wr, "192.0.2.2", {}, 200, "updated")
    # absent code and txt: the zone's defaults
    assert (r.body["code"], r.body["txt"], r.body["manual"], r.body["source"], r.body["hits"]) \
        == (BL_A, BL_TXT, True, "operator:writer", 2), r
    assert r.body["first_seen"] == e0["first_seen"], r
    assert a.dns_state(srv, "192.0.2.2", BL) == (True, BL_A, a.expand(BL_TXT, "192.0.2.2"))
    # feeds only add hits to a manual entry
    srv.load(BL, "192.0.2.2 :127.0.0.9:feed text $\n", fmt="rbldnsd", source="trap")
    e = _get(rd, "192.0.2.2").body
    assert (e["code"], e["txt"], e["manual"], e["source"], e["hits"], e["reason"]) == (
        BL_A, BL_TXT, True, "operator:writer", 3, None), e
    assert a.dns_state(srv, "192.0.2.2", BL) == (True, BL_A, a.expand(BL_TXT, "192.0.2.2"))
    # a feed exclusion becomes a listing
    r = _put(wr, "198.51.100.7", {"reason": "reported by abuse desk", "ttl": "7d"}, 200, "updated")
    assert (r.body["state"], r.body["code"], r.body["txt"], r.body["reason"]) == (
        "listed", BL_A, BL_TXT, "reported by abuse desk"), r
    assert a.listed_dns(srv, "198.51.100.7", BL)
    # a CIDR feed entry
    r = _put(wr, "198.51.100.0/24", {"code": "127.0.0.4"}, 200, "updated", encode=False)
    assert (r.body["key"], r.body["code"], r.body["txt"]) == ("198.51.100.0/24", "127.0.0.4",
                                                             BL_TXT), r
    assert a.dns_state(srv, "198.51.100.8", BL) == (True, "127.0.0.4",
                                                     a.expand(BL_TXT, "198.51.100.8"))
    assert a.dns_state(srv, "198.51.100.9", BL)[1] == "127.0.0.9"     # its own /32


def test_code_forms(make_api):
    srv, api = make_api()
    wr, rd = api.client("writer"), api.client("reader")
    cases = [("192.0.2.81", "127.0.0.3", "127.0.0.3"), ("192.0.2.82", "3", "127.0.0.3"),
             ("192.0.2.83", 3, "127.0.0.3"), ("192.0.2.84", 255, "127.0.0.255"),
             ("192.0.2.85", "127.0.0.255", "127.0.0.255"), ("192.0.2.86", 1, "127.0.0.1"),
             ("192.0.2.87", "127.1.2.3", "127.1.2.3"), ("192.0.2.88", "127.0.0.2", "127.0.0.2")]
    for key, code, want in cases:
        r = _put(wr, key, {"code": code}, 201, "created")
        assert r.body["code"] == want, (code, r)
        assert _get(rd, key).body["code"] == want
        assert a.dns_state(srv, key, BL)[:2] == (True, want), (key, code)


def test_txt_templates_null_and_reasons(make_api):
    srv, api = make_api()
    wr, rd = api.client("writer"), api.client("reader")
    r = _put(wr, "192.0.2.91", {"txt": "Listed by hand: $ ($$1)"}, 201)
    assert r.body["txt"] == "Listed by hand: $ ($$1)", r
    assert a.dns_state(srv, "192.0.2.91", BL) == (True, BL_A,
                                                   "Listed by hand: 192.0.2.91 ($1)")
    r = _put(wr, "192.0.2.92", {"txt": None, "code": 4}, 201)
    assert r.body["txt"] is None, r
    name = t.rev("192.0.2.92", BL)
    for transport in t.TRANSPORTS:
        t.assert_nodata(srv.ask(name, "TXT", transport), BL)
        t.assert_listed_a(srv.ask(name, "A", transport), BL, name, "127.0.0.4")
    # txt absent again: the zone's
    r = _put(wr, "192.0.2.92", {}, 200)
    assert r.body["txt"] == BL_TXT, r
    assert a.dns_state(srv, "192.0.2.92", BL)[2] == a.expand(BL_TXT, "192.0.2.92")
    # a txt with "$" in a CIDR: the queried address
    _put(wr, "192.0.2.96/30", {"txt": "net $"}, 201)
    assert a.dns_state(srv, "192.0.2.98", BL)[2] == "net 192.0.2.98"
    # reasons: 255 bytes and UTF-8 are fine, and kept when absent
    for key, reason in (("192.0.2.93", "r" * 255), ("192.0.2.94", "\u00e9" * 127 + "x"),
                        ("192.0.2.95", "snow \u2603 man")):
        r = _put(wr, key, {"reason": reason}, 201)
        assert r.body["reason"] == reason, r
        r = _put(wr, key, {"code": 5}, 200)
        assert r.body["reason"] == reason, r
        assert _get(rd, key).body["reason"] == reason
    r = expect(rd.get(f"/v1/history?zone={BL}&key=192.0.2.94"), 200)
    assert [h["reason"] for h in r.body["history"]][-1] == "\u00e9" * 127 + "x", r


def test_expires_and_ttl(make_api):
    srv, api = make_api()
    wr, rd = api.client("writer"), api.client("reader")
    now = int(time.time())
    when = now + DAY
    for key, body in (("192.0.2.101", {"expires": when}),
                      ("192.0.2.102", {"expires": str(when)}),
                      ("192.0.2.103", {"expires": t.rfc3339(when)}),
                      ("192.0.2.104", {"expires": t.rfc3339(when, 120)}),
                      ("192.0.2.105", {"expires": t.rfc3339(when, -300)})):
        r = _put(wr, key, body, 201)
        assert r.body["expires"] == t.rfc3339(when), (body, r)
        assert _get(rd, key).body["expires"] == t.rfc3339(when)
        assert a.listed_dns(srv, key, BL)
    for key, ttl, secs in (("192.0.2.106", "7d", 7 * DAY), ("192.0.2.107", 3600, 3600),
                           ("192.0.2.108", "12h", 12 * 3600), ("192.0.2.109", "30m", 1800)):
        before = int(time.time())
        r = _put(wr, key, {"ttl": ttl}, 201)
        after = int(time.time())
        assert before + secs - SLACK <= t.parse_time(r.body["expires"]) <= after + secs + SLACK, \
            (ttl, r)
    # without expires/ttl the listing never expires, also when it had an expiry
    r = _put(wr, "192.0.2.101", {"reason": "permanent now"}, 200)
    assert r.body["expires"] is None, r
    r = _put(wr, "192.0.2.106", {}, 200)
    assert r.body["expires"] is None, r
    # an entry past its expiry: not answered, state expired, not deletable; `expire`
    # deletes it with a history record
    r = _put(wr, "192.0.2.110", {"ttl": 1}, 201)
    exp = t.parse_time(r.body["expires"])
    while time.time() < exp + 0.05:
        time.sleep(0.05)
    assert t.wait_for(lambda: not a.listed_dns(srv, "192.0.2.110", BL), 1.5), \
        f"192.0.2.110 still answered after its expiry {r.body['expires']}"
    e = _get(rd, "192.0.2.110").body
    assert e["state"] == "expired", e
    res = {x["zone"]: x for x in expect(rd.get("/v1/lookup/192.0.2.110"), 200).body["results"]}
    assert res[BL]["listed"] is False, res[BL]
    assert "192.0.2.110" in [x["key"] for x in a.all_entries(rd, BL)]
    expect(wr.delete(entry_path(BL, "192.0.2.110")), 404).error()
    t.loader_ok(srv, "expire", BL)
    _get(rd, "192.0.2.110", status=404)
    h = a.history_all(rd, f"zone={BL}&key=192.0.2.110")
    assert [(x["event"], x["actor"]) for x in h] == [("expire", "expire"),
                                                      ("list", "operator:writer")], h


def test_exclusions(make_api):
    srv, api = make_api()
    wr, rd = api.client("writer"), api.client("reader")
    key = "203.0.113.9"
    r = _put(wr, key, {"exclude": True, "reason": "customer"}, 201, "created")
    assert (r.body["state"], r.body["code"], r.body["txt"], r.body["reason"], r.body["manual"]) \
        == ("excluded", None, None, "customer", True), r
    assert not a.listed_dns(srv, key, BL)
    assert a.listed_dns(srv, "203.0.113.10", BL)
    res = {x["zone"]: x for x in expect(rd.get(f"/v1/lookup/{key}"), 200).body["results"]}
    assert res[BL]["listed"] is False and res[BL]["entry"]["key"] == key, res[BL]
    assert res[BL]["entry"]["state"] == "excluded", res[BL]
    # becomes a listing unless exclude is true
    r = _put(wr, key, {"exclude": False}, 200, "updated")
    assert (r.body["state"], r.body["code"], r.body["reason"]) == ("listed", BL_A, "customer"), r
    assert a.dns_state(srv, key, BL) == (True, BL_A, a.expand(BL_TXT, key))
    r = _put(wr, key, {"exclude": True}, 200, "updated")
    assert r.body["state"] == "excluded", r
    assert not a.listed_dns(srv, key, BL)
    r = _put(wr, key, {}, 200, "updated")
    assert r.body["state"] == "listed", r
    r = _put(wr, key, {"exclude": True}, 200, "updated")
    # deleting an exclusion: the covering entry answers again
    expect(wr.delete(entry_path(BL, key), {"reason": "no longer"}), 204)
    assert a.dns_state(srv, key, BL) == (True, "127.0.0.7", f"Default text for {key} from the file")
    r = _get(rd, key, status=404)
    assert r.body.get("delisted", {}).get("reason") == "no longer", r
    # an exclusion without anything covering it
    r = _put(wr, "192.0.2.233", {"exclude": True}, 201)
    assert r.body["state"] == "excluded"
    assert not a.listed_dns(srv, "192.0.2.233", BL)
    # an exclusion of a /32 inside a listed /24 of another zone
    r = _put(wr, "10.1.2.3", {"exclude": True}, 201, zone=PBL)
    assert not a.listed_dns(srv, "10.1.2.3", PBL) and a.listed_dns(srv, "10.1.2.4", PBL)
    # the feed's exclusion: excluded still, now manual
    r = _put(wr, "198.51.100.7", {"exclude": True, "reason": "x"}, 200, "updated")
    assert (r.body["state"], r.body["manual"], r.body["reason"]) == ("excluded", True, "x"), r
    assert not a.listed_dns(srv, "198.51.100.7", BL)


# --------------------------------------------------------------------------------------
# DELETE

def test_delete_tombstones_404_409(make_api):
    srv, api = make_api()
    wr, rd = api.client("writer"), api.client("reader")
    z0 = _zone(rd, BL)
    before = int(time.time())
    r = expect(wr.delete(entry_path(BL, "192.0.2.2"), {"reason": "removal request #123"}), 204)
    after = int(time.time())
    assert r.raw == b"", r
    z1 = _zone(rd, BL)
    assert (z1["entries"], z1["tombstones"]) == (z0["entries"] - 1, z0["tombstones"] + 1), z1
    assert z1["serial"] > z0["serial"] and z1["serial"] == t.soa_serial(srv, BL)
    stats = a.loader_stats_int(srv, BL)
    assert (stats["entries"], stats["tombstones"]) == (z1["entries"], z1["tombstones"])
    assert not a.listed_dns(srv, "192.0.2.2", BL)
    # again: nothing to delete
    expect(wr.delete(entry_path(BL, "192.0.2.2")), 404).error()
    assert _serial(rd) == z1["serial"]
    r = _get(rd, "192.0.2.2", status=404)
    d = r.body.get("delisted")
    assert d and (d["actor"], d["reason"]) == ("operator:writer", "removal request #123"), r
    assert before - SLACK <= a.check_time(d["time"]) <= after + SLACK, d
    h = a.history_all(rd, f"zone={BL}&key=192.0.2.2")
    assert [(x["event"], x["actor"], x["reason"], x["code"]) for x in h][0] == (
        "delist", "operator:writer", "removal request #123", "127.0.0.3"), h
    # no body: no reason
    expect(wr.delete(entry_path(BL, "192.0.2.3")), 204)
    d = _get(rd, "192.0.2.3", status=404).body["delisted"]
    assert (d["actor"], d["reason"]) == ("operator:writer", None), d
    # covered by a listed prefix, no entry of its own: 409 naming the longest match
    serial = _serial(rd)
    for key, cover in (("198.51.100.8", "198.51.100.0/24"), ("10.20.30.42", "10.20.30.0/24"),
                       ("10.20.99.1", "10.20.0.0/16"), ("198.51.100.128/25", "198.51.100.0/24")):
        r = expect(wr.delete(entry_path(BL, key)), 409, f"DELETE {key}: ")
        r.error()
        assert r.body.get("covered_by") == cover, r
    assert _serial(rd) == serial
    assert a.listed_dns(srv, "198.51.100.8", BL)
    # never listed: 404
    for key in ("192.0.2.99", "192.0.2.0/24", "2001:db8::99"):
        r = expect(wr.delete(entry_path(BL, key)), 404, f"DELETE {key}: ")
        assert "covered_by" not in r.body, r
    # prefixes, raw slash and %2F
    expect(wr.delete(entry_path(BL, "10.20.30.0/24", encode=False), {"reason": "range"}), 204)
    assert a.dns_state(srv, "10.20.30.5", BL) == (True, "127.0.0.11", "Wide 10.20.30.5")
    r = expect(wr.delete(entry_path(BL, "10.20.30.42")), 409)
    assert r.body["covered_by"] == "10.20.0.0/16", r
    assert a.dns_state(srv, "10.20.30.41", BL)[1] == "127.0.0.13"
    expect(wr.delete(entry_path(BL, "198.51.100.0/24")), 204)
    assert not a.listed_dns(srv, "198.51.100.8", BL)
    assert a.listed_dns(srv, "198.51.100.9", BL)
    # the feed's exclusions
    expect(wr.delete(entry_path(BL, "198.51.100.7")), 204)
    assert not a.listed_dns(srv, "198.51.100.7", BL)       # nothing covers it any more
    expect(wr.delete(entry_path(PBL, "172.16.0.1")), 204)
    assert a.dns_state(srv, "172.16.0.1", PBL)[:2] == (True, "127.0.0.10")
    z = _zone(rd, BL)
    stats = a.loader_stats_int(srv, BL)
    assert (z["entries"], z["tombstones"], z["serial"]) == (
        stats["entries"], stats["tombstones"], stats["serial"]), (z, stats)
    assert z["tombstones"] == z0["tombstones"] + 5, z
    # the loader agrees on the history
    recs = t.history_records(srv, BL, "10.20.30.0/24")
    assert recs[0][1:5] == ("delist", "10.20.30.0/24", "operator:writer", "range"), recs


def test_tombstone_suppresses_feed_and_put_relists(make_api):
    srv, api = make_api(relist_after="1d")
    wr, rd = api.client("writer"), api.client("reader")
    expect(wr.delete(entry_path(BL, "192.0.2.1"), {"reason": "fp"}), 204)
    assert _zone(rd, BL)["tombstones"] == 1
    r = srv.load(BL, "192.0.2.1\n192.0.2.250\n", source="trap")        # exit 0
    assert t.summary_count(r.stderr + r.stdout, "suppressed") == 1, r.stderr + r.stdout
    now = int(time.time())
    r = srv.load(BL, t.csv_text(["ip", "timestamp"], [("192.0.2.1", now - 3600)]), fmt="csv",
                 source="trap")
    assert t.summary_count(r.stderr + r.stdout, "suppressed") == 1, r.stderr + r.stdout
    assert not a.listed_dns(srv, "192.0.2.1", BL)
    assert a.listed_dns(srv, "192.0.2.250", BL)
    r = _get(rd, "192.0.2.1", status=404)
    assert r.body["delisted"]["reason"] == "fp", r
    # an operator relists: 201 relisted, the tombstone is gone
    r = _put(wr, "192.0.2.1", {"reason": "relisted by hand"}, 201, "relisted")
    assert _location_path(r).endswith("/192.0.2.1"), r.headers.get("Location")
    assert (r.body["state"], r.body["manual"], r.body["source"], r.body["reason"]) == (
        "listed", True, "operator:writer", "relisted by hand"), r
    assert a.listed_dns(srv, "192.0.2.1", BL)
    assert _zone(rd, BL)["tombstones"] == 0
    assert a.loader_stats_int(srv, BL)["tombstones"] == 0
    h = a.history_all(rd, f"zone={BL}&key=192.0.2.1")
    assert [(x["event"], x["actor"]) for x in h] == [
        ("relist", "operator:writer"), ("delist", "operator:writer"),
        ("list", "source:default")], h
    res = {x["zone"]: x for x in expect(rd.get("/v1/lookup/192.0.2.1"), 200).body["results"]}
    assert res[BL]["listed"] and res[BL].get("delisted") is None, res[BL]
    # feeds hit it again, not suppressed; they only add hits
    hits = r.body["hits"]
    r = srv.load(BL, "192.0.2.1 :127.0.0.9:feed\n", fmt="rbldnsd", source="trap")
    assert not t.summary_count(r.stderr + r.stdout, "suppressed"), r.stderr
    e = _get(rd, "192.0.2.1").body
    assert (e["hits"], e["code"], e["source"], e["reason"]) == (
        hits + 1, BL_A, "operator:writer", "relisted by hand"), e


# --------------------------------------------------------------------------------------
# Keys

def test_ipv6_and_cidr_keys(make_api):
    srv, api = make_api()
    wr, rd = api.client("writer"), api.client("reader")
    r = expect(wr.put("/v1/zones/bl.example/entries/2001:db8::1", {"code": 3}), 201)
    assert r.body["key"] == "2001:db8::1", r
    r = _put(wr, "2001:0db8:0000:0000:0000:0000:0000:0002", {}, 201)
    assert r.body["key"] == "2001:db8::2", r
    r = _put(wr, "2001:db8::1/128", {"code": 4}, 200, "updated")
    assert (r.body["key"], r.body["code"]) == ("2001:db8::1", "127.0.0.4"), r
    r = _put(wr, "2001:db8:1::/48", {"txt": "six $"}, 201)
    assert r.body["key"] == "2001:db8:1::/48", r
    assert _location_path(r) in (entry_path(BL, "2001:db8:1::/48"),
                                 entry_path(BL, "2001:db8:1::/48", False),
                                 "/v1/zones/bl.example/entries/2001:db8:1::%2F48"), r
    assert _strip(expect(rd.get(_location_path(r)), 200).body) == _strip(r.body)
    r = _put(wr, "2001:db8:2::/48", {}, 201, encode=False)
    assert r.body["key"] == "2001:db8:2::/48", r
    for form, enc in (("2001:db8:1::/48", True), ("2001:db8:1::/48", False),
                      ("2001:db8:1:0:0::/48", True)):
        assert _get(rd, form, encode=enc).body["key"] == "2001:db8:1::/48"
    assert a.dns_state(srv, "2001:db8:1::5", BL) == (True, BL_A, "six 2001:db8:1::5")
    assert a.dns_state(srv, "2001:db8::1", BL)[:2] == (True, "127.0.0.4")
    # IPv4-mapped: the IPv4 address
    r = _put(wr, "::ffff:192.0.2.90", {}, 201)
    assert r.body["key"] == "192.0.2.90", r
    assert _location_path(r).endswith("/192.0.2.90"), r.headers.get("Location")
    assert a.listed_dns(srv, "192.0.2.90", BL)
    r = _put(wr, "192.0.2.128/25", {}, 201, encode=False)
    assert r.body["key"] == "192.0.2.128/25", r
    assert a.listed_dns(srv, "192.0.2.129", BL) and not a.listed_dns(srv, "192.0.2.127", BL)
    r = _put(wr, "192.0.2.90/32", {"code": 8}, 200, "updated")
    assert r.body["key"] == "192.0.2.90", r
    # covered IPv6 keys: 409 with the longest match
    _put(wr, "2001:db8::/32", {"code": 12}, 201)
    for key, cover in (("2001:db8:3::1", "2001:db8::/32"), ("2001:db8:1::5", "2001:db8:1::/48")):
        r = expect(wr.delete(entry_path(BL, key)), 409)
        assert r.body["covered_by"] == cover, r
    expect(wr.delete(entry_path(BL, "2001:db8:1::/48", encode=False)), 204)
    assert a.dns_state(srv, "2001:db8:1::5", BL)[:2] == (True, "127.0.0.12")
    expect(wr.delete(entry_path(BL, "2001:db8::/32")), 204)
    assert not a.listed_dns(srv, "2001:db8:1::5", BL)
    assert a.listed_dns(srv, "2001:db8::1", BL)
    expect(wr.delete(entry_path(BL, "2001:db8::1")), 204)
    assert not a.listed_dns(srv, "2001:db8::1", BL)
    r = _get(rd, "2001:db8::1", status=404)
    assert r.body["delisted"]["actor"] == "operator:writer", r
    keys = [e["key"] for e in a.all_entries(rd, BL)]
    assert keys.index("192.0.2.90") < keys.index("2001:db8::2") and "2001:db8::1" not in keys


def test_paging_many_keys(make_api):
    srv, api = make_api(standard=False)
    wr, rd = api.client("writer", keepalive=True), api.client("reader", keepalive=True)
    keys = ([f"192.0.2.{i}" for i in range(160, 175)] + [f"10.{i}.0.0/16" for i in range(1, 6)]
            + [f"198.18.{i}.0/24" for i in range(5)] + ["100.64.0.0/10"]
            + [f"2001:db8::{i:x}" for i in range(1, 12)]
            + [f"2001:db8:0:{i:x}::/64" for i in range(1, 6)]
            + [f"2001:db8:{i:x}::/48" for i in range(16, 20)] + ["2001:db8::/32"])
    for i, key in enumerate(keys):
        _put(wr, key, {"code": 2 + i % 10}, 201, encode=bool(i % 2))
    want = sorted(keys, key=a.key_order)
    full = a.all_entries(rd, BL, limit=1000)
    assert [e["key"] for e in full] == want
    for limit in (1, 6, 13, len(keys) - 1):
        assert a.all_entries(rd, BL, limit=limit) == full, limit
    assert len(full) == _zone(rd, BL)["entries"] == a.loader_stats_int(srv, BL)["entries"]
    r = expect(rd.get(f"/v1/zones/{BL}/entries?limit=5"), 200)
    assert [e["key"] for e in r.body["entries"]] == want[:5]
    assert r.body["next_cursor"] == want[4], r
    # delete a page boundary key: the cursor still works
    expect(wr.delete(entry_path(BL, want[4])), 204)
    r = expect(rd.get(f"/v1/zones/{BL}/entries?limit=5&cursor={a.q(want[4])}"), 200)
    assert [e["key"] for e in r.body["entries"]] == want[5:10], r
    rd.close()
    wr.close()


# --------------------------------------------------------------------------------------
# History of API writes

def test_history_of_api_writes(make_api):
    srv, api = make_api()
    wr, ad, rd = api.client("writer"), api.client("admin"), api.client("reader")
    start = _wait_next_second()
    _put(wr, "192.0.2.77", {"code": 3, "reason": "one"}, 201)
    _put(wr, "192.0.2.77", {"reason": "two"}, 200)
    _put(ad, "192.0.2.78", {}, 201)
    expect(wr.delete(entry_path(BL, "192.0.2.2"), {"reason": "three"}), 204)
    expect(ad.delete(entry_path(BL, "192.0.2.78")), 204)
    _put(wr, "10.9.9.9", {"exclude": True}, 201, zone=PBL)
    _put(wr, "2001:db8::9", {}, 201)
    end = int(time.time())
    want = [(BL, "list", "2001:db8::9", "operator:writer", None, None),
            (PBL, "list", "10.9.9.9", "operator:writer", None, None),
            (BL, "delist", "192.0.2.78", "operator:admin", None, None),
            (BL, "delist", "192.0.2.2", "operator:writer", "127.0.0.3", "three"),
            (BL, "list", "192.0.2.78", "operator:admin", None, None),
            (BL, "update", "192.0.2.77", "operator:writer", None, "two"),
            (BL, "list", "192.0.2.77", "operator:writer", "127.0.0.3", "one")]
    got = a.history_all(rd, f"since={start}")
    for h in got:
        a.check_history_record(h)
        assert start <= t.parse_time(h["time"]) <= end, h
    summary = [(h["zone"], h["event"], h["key"], h["actor"], h["code"], h["reason"])
               for h in got]
    assert summary == want, summary
    # filters and paging
    assert a.history_all(rd, f"since={start}", limit=2) == got
    assert a.history_all(rd, f"since={t.rfc3339(start)}".replace(":", "%3A")) == got
    assert a.history_all(rd, f"zone={PBL}&since={start}") == [got[1]]
    assert a.history_all(rd, f"zone={BL}&key=192.0.2.77", limit=1) == [
        h for h in got if h["key"] == "192.0.2.77"]
    assert a.history_all(rd, f"since={end + 1}") == []
    r = expect(rd.get(f"/v1/history?since={start}&limit=3"), 200)
    assert r.body["history"] == got[:3] and r.body["next_cursor"] is not None, r
    r = expect(rd.get(f"/v1/history?since={start}&limit=3&cursor={r.body['next_cursor']}"), 200)
    assert r.body["history"] == got[3:6], r
    # the loader prints the same actors
    recs = t.history_records(srv, BL, "192.0.2.77")
    assert [(x[1], x[3], x[4]) for x in recs[:2]] == [("update", "operator:writer", "two"),
                                                      ("list", "operator:writer", "one")], recs


# --------------------------------------------------------------------------------------
# Pending entries

def test_pending_entries(make_api):
    zones = {BL: t.ZONES[BL]}
    srv, api = make_api(standard=False, zones=zones,
                        extra="list_threshold = 2\nlist_window = 1h\n")
    wr, rd = api.client("writer"), api.client("reader")
    srv.load(BL, "192.0.2.9\n192.0.2.10\n", source="trap")
    e = _get(rd, "192.0.2.9").body
    assert (e["state"], e["hits"], e["source"]) == ("pending", 1, "trap"), e
    assert not a.listed_dns(srv, "192.0.2.9", BL)
    res = expect(rd.get("/v1/lookup/192.0.2.9"), 200).body["results"]
    assert res[0]["zone"] == BL and res[0]["listed"] is False, res
    assert [x["key"] for x in a.all_entries(rd, BL)] == ["192.0.2.9", "192.0.2.10"]
    assert _zone(rd, BL)["entries"] == 2
    # not listed: DELETE is 404
    expect(wr.delete(entry_path(BL, "192.0.2.9")), 404).error()
    # an operator lists it at once
    r = _put(wr, "192.0.2.9", {})
    pending_put = r  # checked at the end
    assert r.status in (200, 201), r
    assert (r.body["state"], r.body["manual"], r.body["hits"]) == ("listed", True, 2), r
    assert r.body["first_seen"] == e["first_seen"], r
    assert a.listed_dns(srv, "192.0.2.9", BL)
    # a new key is listed at once whatever the threshold
    r = _put(wr, "192.0.2.11", {}, 201, "created")
    assert r.body["state"] == "listed", r
    assert a.listed_dns(srv, "192.0.2.11", BL)
    # the second hit lists the other one
    srv.load(BL, "192.0.2.10\n", source="trap")
    assert _get(rd, "192.0.2.10").body["state"] == "listed"
    # a pending entry listed only now: 201 (api/README.md), with Location
    assert (pending_put.status, pending_put.body["outcome"]) == (201, "created"), pending_put
    assert _location_path(pending_put).endswith("/192.0.2.9"), pending_put
    h = a.history_all(rd, f"zone={BL}&key=192.0.2.9")
    assert [(x["event"], x["actor"]) for x in h][0] == ("list", "operator:writer"), h
    # listed now: a PUT updates it
    _put(wr, "192.0.2.9", {"reason": "again"}, 200, "updated")
