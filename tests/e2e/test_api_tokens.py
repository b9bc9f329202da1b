"""dnsbl-api tokens made and removed with the CLI while the server runs (no restart),
the CLI's checks, and domain (type = name) zone keys."""

import time

import apitest as a
import dnsbltest as t
from apitest import BL, entry_path, expect, make_api  # noqa: F401 (fixture)

RELOAD = 3.0    # seconds within which a changed tokens file must be in effect


def _status_becomes(fn, status, timeout=RELOAD):
    last = None
    deadline = time.monotonic() + timeout
    while True:
        last = fn()
        if last.status == status or time.monotonic() >= deadline:
            return last
        time.sleep(0.05)


def test_tokens_added_and_removed_while_running(make_api):
    srv, api = make_api(standard=False)
    ad = api.client("admin")
    late = api.token_add("late", "read")
    c = api.client("late")
    r = _status_becomes(lambda: c.get("/v1/zones"), 200)
    assert r.status == 200, f"a token added while running does not work: {r!r}"
    # a second token in the same second as the first
    api.token_add("late2", "write")
    c2 = api.client("late2")
    r = _status_becomes(lambda: c2.get("/v1/zones"), 200)
    assert r.status == 200, f"the second token added while running does not work: {r!r}"
    r = expect(c2.put(entry_path(BL, "192.0.2.7"), {}), 201)
    assert r.body["source"] == "operator:late2", r
    expect(c.put(entry_path(BL, "192.0.2.8"), {}), 403)
    names = {x["name"]: x["role"] for x in expect(ad.get("/v1/tokens"), 200).body["tokens"]}
    assert names == {"reader": "read", "writer": "write", "admin": "admin", "late": "read",
                     "late2": "write"}, names
    assert sorted(api.token_list()) == sorted(names.items())
    # removal revokes, the others keep working
    api.token_remove("late")
    r = _status_becomes(lambda: c.get("/v1/zones"), 401)
    assert r.status == 401, f"a removed token still works: {r!r}"
    assert r.headers.get("WWW-Authenticate") == 'Bearer realm="dnsbl-api"', r
    expect(c2.get("/v1/zones"), 200)
    # the same name again gets a new secret; the old one stays revoked
    api.token_add("late", "admin")
    c3 = api.client("late")
    r = _status_becomes(lambda: c3.get("/v1/tokens"), 200)
    assert r.status == 200, r
    expect(c.get("/v1/zones", token=late), 401)
    assert late != api.secrets["late"]
    expect(api.client("reader").get(entry_path(BL, "192.0.2.9")), 404)


def test_removed_writer_is_revoked(make_api):
    srv, api = make_api(standard=False)
    secret = api.secrets["writer"]
    c = api.client("writer")
    expect(c.put(entry_path(BL, "192.0.2.9"), {}), 201)
    api.token_remove("writer")
    r = _status_becomes(lambda: c.put(entry_path(BL, "192.0.2.10"), {}, token=secret), 401)
    assert r.status == 401, f"a removed write token still writes: {r!r}"
    expect(api.client("reader").get(entry_path(BL, "192.0.2.10")), 404)
    assert not a.listed_dns(srv, "192.0.2.10", BL)


def test_token_cli_checks(make_server):
    port = t.free_port()
    srv = make_server(extra=a.api_config(port))
    api = a.DnsblApi(srv, port)
    for name in ("alice", "A.b_c-d+e@f", "x" * 64):
        api.token_add(name, "read")
    text = api.tokens_path.read_text()
    for args in (("token", "add", "alice", "write"),          # exists
                 ("token", "add", "bob", "root"),             # no such role
                 ("token", "add", "bad name", "read"),
                 ("token", "add", "x" * 65, "read"),
                 ("token", "add", "", "read"),
                 ("token", "add", "a/b", "read"),
                 ("token", "add", "caf\u00e9", "read"),
                 ("token", "add", "bob"),
                 ("token", "remove", "nobody"),
                 ("token", "frobnicate")):
        r = api.cli(*args)
        assert r.returncode != 0, f"dnsbl-api {' '.join(args)}: exit 0\n{r.stdout}"
        assert api.tokens_path.read_text() == text, f"{args} changed the tokens file"
    assert sorted(api.token_list()) == sorted(
        [("alice", "read"), ("A.b_c-d+e@f", "read"), ("x" * 64, "read")])
    secrets = set(api.secrets.values())
    assert len(secrets) == 3 and all(len(s) >= 32 for s in secrets), secrets


def test_domain_zone_keys(make_api):
    """A type = name zone takes domain keys (example.com, *.x, .x); IP-only zones
    refuse them; a domain lookup reports the name zones only."""
    dbl = {"type": "name", "policy": "block", "ttl": 300,
           "soa": "ns1.dbl.example. hostmaster.dbl.example. 3600 600 86400 120",
           "ns": "ns1.dbl.example."}
    srv, api = make_api(standard=False, zones={BL: t.ZONES[BL]},
                        extra=a.section("dbl.example", dbl))
    rd, wr = api.client("reader"), api.client("writer")
    zones = expect(rd.get("/v1/zones"), 200).body["zones"]
    assert [(z["name"], z["type"]) for z in zones] == [(BL, "ip"), ("dbl.example", "name")]
    for key in ("example.com", "*.spam.example.net", ".Tree.Example.org"):
        expect(wr.put(entry_path("dbl.example", key), {}), 201)
        got = expect(rd.get(entry_path("dbl.example", key)), 200).body
        assert got["key"] == key.lower(), got
    for key in ("192.0.2.0/24", "a..b", "*.*.x", "bad!name"):
        expect(wr.put(entry_path("dbl.example", key), {}), 400).error()
    r = expect(rd.get("/v1/lookup/www.tree.example.org"), 200)
    assert [(x["zone"], x["listed"]) for x in r.body["results"]] == [("dbl.example", True)], r
    assert r.body["results"][0]["entry"]["key"] == ".tree.example.org", r
    r = expect(rd.get("/v1/lookup/192.0.2.1"), 200)
    assert [x["zone"] for x in r.body["results"]] == [BL], r
    expect(wr.put(entry_path(BL, "example.com"), {}), 400).error()
    expect(wr.delete(entry_path("dbl.example", "example.com")), 204)
    expect(rd.get(entry_path("dbl.example", "example.com")), 404).error()