"""Allowlist zones, `exempt`, and combined zones, end to end over UDP and TCP:

- `policy = allow` zones answer like any zone, with their per-entry codes;
- a blocklist with `exempt = ALLOWLIST` never answers listed for what the allowlist
  lists (ip and name zones; covering prefixes either way; allowlist exclusions), and
  a change to the allowlist (loader or API) is answered at once;
- config errors for bad combinations: non-zero exit, "file:line: reason" naming the
  problem, from dnsbld, dnsbl-loader and dnsbl-api alike;
- `type = combined` zones: every listing member's A (identical values once) and TXT,
  NXDOMAIN / NODATA, TTL and SOA of the combined zone, the SOA serial following the
  members, the loader and the API refusing writes, and /v1/lookup's listed_by.

The zones are this file's own: the answer checks are local helpers that take TTLs
and SOA minimums from CONF."""

import re
import subprocess
import urllib.parse

import dns.flags
import dns.name
import dns.rcode
import pytest

import apitest as a
import dnsbltest as t
import zonetest
from apitest import expect, make_api  # noqa: F401 (fixture)

SOA_MIN = 120


def _zone(name, **keys):
    z = {"type": "ip", "policy": "block", "ttl": 300,
         "soa": f"ns1.{name}. hostmaster.{name}. 3600 600 86400 {SOA_MIN}",
         "ns": f"ns1.{name}."}
    z.update(keys)
    return z


SBL, XBL, CSS, WL, ZEN = ("sbl.example", "xbl.example", "css.example", "wl.example",
                          "zen.example")
DBL, URI, DWL, DZEN = "dbl.example", "uri.example", "dwl.example", "dzen.example"

CONF = {
    SBL: _zone(SBL, a="127.0.0.2", txt="SBL $", exempt=WL),
    XBL: _zone(XBL, a="127.0.0.4", txt="XBL $"),
    CSS: _zone(CSS, a="127.0.0.2", txt="CSS $"),
    WL: _zone(WL, policy="allow", a="127.0.15.1"),
    ZEN: _zone(ZEN, type="combined", ttl=900, members=f"{SBL} {XBL} {CSS}"),
    DBL: _zone(DBL, type="name", a="127.0.1.2", txt="DBL $", exempt=DWL),
    URI: _zone(URI, type="name", a="127.0.1.4", txt="URI $"),
    DWL: _zone(DWL, type="name", policy="allow", a="127.0.15.2", txt="Allowed domain $"),
    DZEN: _zone(DZEN, type="combined", ttl=600, members=f"{DBL} {URI}"),
}
ORDER = [SBL, XBL, CSS, WL, ZEN, DBL, URI, DWL, DZEN]
EIGHT = [f"m{i}.example" for i in range(8)]          # eight members: the most allowed
CONF.update({n: _zone(n, a=f"127.0.0.{10 + i}") for i, n in enumerate(EIGHT)})
CONF["eight.example"] = _zone("eight.example", type="combined",
                              members=" ".join(reversed(EIGHT)))
ZEN_MEMBERS = [SBL, XBL, CSS]
DZEN_MEMBERS = [DBL, URI]

Z = zonetest.Zones(CONF, SOA_MIN)
need = zonetest.need
_section = zonetest.section
assert_nx, assert_nodata, assert_answer = Z.assert_nx, Z.assert_nodata, Z.assert_answer
_negative = Z.negative


def _zones_extra(names=ORDER):
    return Z.zones_extra(names)


def _server(make_server, names=ORDER):
    return Z.server(make_server, names)


def assert_not_listed(resp, zone):
    """NXDOMAIN, or NODATA where something below the name is listed."""
    need(resp.rcode() in (dns.rcode.NXDOMAIN, dns.rcode.NOERROR), t.describe(resp))
    _negative(resp, zone, resp.rcode())


def qname_of(key, zone):
    """The query name of an IPv4/IPv6 address or a domain in zone."""
    if ":" in key:
        return t.rev6(key, zone)
    if re.fullmatch(r"[0-9.]+", key) and key.count(".") == 3:
        return t.rev(key, zone)
    return f"{key}.{zone}"


def check(srv, transport, zone, key, a_vals, txts=None):
    """key answers A a_vals (a list) and TXT txts (a list; [] = NODATA); a_vals None:
    NXDOMAIN for both; "nodata": NODATA for both; "not": not listed (NXDOMAIN, or
    NODATA when something is listed below)."""
    qname = qname_of(key, zone)
    ra = srv.ask(qname, "A", transport)
    rt = srv.ask(qname, "TXT", transport)
    if a_vals is None:
        assert_nx(ra, zone)
        assert_nx(rt, zone)
    elif a_vals == "nodata":
        assert_nodata(ra, zone)
        assert_nodata(rt, zone)
    elif a_vals == "not":
        assert_not_listed(ra, zone)
        assert_not_listed(rt, zone)
    else:
        assert_answer(ra, zone, qname, "A", a_vals)
        if txts:
            assert_answer(rt, zone, qname, "TXT", txts)
        else:
            assert_nodata(rt, zone)


def run_table(srv, transport, zone, rows):
    errors = []
    for row in rows:
        try:
            check(srv, transport, zone, *row)
        except AssertionError as e:
            errors.append(f"{row[0]} in {zone} ({transport}): {e}")
    assert not errors, f"{len(errors)} of {len(rows)} answers wrong:\n" + "\n\n".join(errors)


def listed(srv, zone, key, transport="udp"):
    r = srv.ask(qname_of(key, zone), "A", transport)
    assert r.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN), t.describe(r)
    return r.rcode() == dns.rcode.NOERROR and bool(t.a_values(r))


def serial_newer(new, old):
    """RFC 1982: new is after old."""
    return new != old and ((new - old) % 2**32) < 2**31


def _path(zone, key):
    return f"/v1/zones/{zone}/entries/{urllib.parse.quote(key, safe='')}"


# --------------------------------------------------------------------------------------
# The data

WL_RBLDNSD = """\
192.0.2.1
198.51.100.9
2001:db8:5::/48
:127.0.15.3:
192.0.2.99
203.0.113.7
10.0.0.0/8 :127.0.15.4:Allowed range $
!10.1.1.1
"""
WL_CSV = t.csv_text(["ip", "code", "txt"], [
    ["198.51.100.0/24", "127.0.15.10", "Allowed $"],
    ["2001:db8:6::1", "11", ""],
])

SBL_DATA = """\
192.0.2.1
192.0.2.10
192.0.2.20
192.0.2.31
198.51.100.0/24 :127.0.0.3:SBL range $
203.0.113.0/24
10.1.1.0/24
10.9.0.0/16
2001:db8::/32
"""
XBL_DATA = """\
192.0.2.1
192.0.2.10
192.0.2.30
192.0.2.31 :4:
192.0.2.32 :4:
198.51.100.5
2001:db8::5
"""
CSS_DATA = """\
192.0.2.10
192.0.2.40 :127.0.0.4:CSS own $
"""

DBL_DATA = """\
bad.test
good.test
.tree.test
*.wild.test
example.com
"""
URI_DATA = """\
bad.test
good.test
x.wild.test
a.b.deep.test
"""
DWL_DATA = """\
good.test
ok.tree.test
.fine.wild.test
example.com :127.0.15.9:Own allow code for $
"""


def load_all(srv):
    srv.load(WL, WL_RBLDNSD, fmt="rbldnsd")
    srv.load(WL, WL_CSV, fmt="csv", source="csvfeed")
    srv.load(SBL, SBL_DATA, fmt="rbldnsd")
    srv.load(XBL, XBL_DATA, fmt="rbldnsd")
    srv.load(CSS, CSS_DATA, fmt="rbldnsd")
    srv.load(DBL, DBL_DATA)
    srv.load(URI, URI_DATA)
    srv.load(DWL, DWL_DATA, fmt="rbldnsd")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    missing = [str(p) for p in (t.DNSBLD, t.LOADER) if not p.exists()]
    if missing:
        pytest.fail(f"binaries not found: {missing} (run make all)", pytrace=False)
    zones, extra = _zones_extra()
    s = t.Dnsbl(tmp_path_factory.mktemp("allow_combined"), zones=zones, extra=extra)
    load_all(s)
    s.start()
    yield s
    was_running = s.running()
    rc = s.stop()
    assert was_running and rc == 0, f"dnsbld exit {rc}\n{s.stderr_text()}"


# --------------------------------------------------------------------------------------
# Allowlist zones answer their own codes

def test_allowlist_answers_its_codes(srv, transport):
    run_table(srv, transport, WL, [
        ("192.0.2.1", ["127.0.15.1"], []),            # the zone's a; no txt configured
        ("198.51.100.9", ["127.0.15.1"], []),
        ("2001:db8:5::77", ["127.0.15.1"], []),
        ("192.0.2.99", ["127.0.15.3"], []),           # ":127.0.15.3:" default line
        ("203.0.113.7", ["127.0.15.3"], []),
        ("10.200.0.1", ["127.0.15.4"], ["Allowed range 10.200.0.1"]),
        ("10.1.1.1", None),                           # excluded from the allowlist
        ("198.51.100.200", ["127.0.15.10"], ["Allowed 198.51.100.200"]),  # csv code
        ("2001:db8:6::1", ["127.0.0.11"], []),
        ("192.0.2.2", None),
        ("127.0.0.2", ["127.0.15.1"], []),            # RFC 5782 test point
        ("::ffff:127.0.0.2", ["127.0.15.1"], []),
        ("127.0.0.1", None),
    ])
    run_table(srv, transport, DWL, [
        ("good.test", ["127.0.15.2"], ["Allowed domain good.test"]),
        ("example.com", ["127.0.15.9"], ["Own allow code for example.com"]),
        ("a.fine.wild.test", ["127.0.15.2"], ["Allowed domain a.fine.wild.test"]),
        ("bad.test", None),
        ("test", ["127.0.15.2"], ["Allowed domain test"]),
    ])


# --------------------------------------------------------------------------------------
# exempt

def test_exempt_ip(srv, transport):
    run_table(srv, transport, SBL, [
        ("192.0.2.1", None),                  # a /32 in both
        ("192.0.2.10", ["127.0.0.2"], ["SBL 192.0.2.10"]),
        ("203.0.113.7", None),                # the blocklist's /24 covers, the allowlist's /32
        ("203.0.113.8", ["127.0.0.2"], ["SBL 203.0.113.8"]),
        ("203.0.113.6", ["127.0.0.2"], ["SBL 203.0.113.6"]),
        ("198.51.100.9", None),               # allowlist /32 and /24 over the blocklist /24
        ("198.51.100.77", None),
        ("10.1.1.2", None),                   # the allowlist's 10/8 covers the blocklist /24
        ("10.1.1.1", ["127.0.0.2"], ["SBL 10.1.1.1"]),   # ...except its exclusion
        ("10.9.0.1", None),
        ("2001:db8:5::1", None),              # IPv6: the allowlist /48 inside the /32
        ("2001:db8:5:ffff:ffff:ffff:ffff:ffff", None),
        ("2001:db8:6::1", None),
        ("2001:db8:6::2", ["127.0.0.2"], ["SBL 2001:db8:6::2"]),
        ("2001:db8:4::1", ["127.0.0.2"], ["SBL 2001:db8:4::1"]),
        ("::ffff:192.0.2.1", None),           # mapped names are exempted too
        ("::ffff:203.0.113.7", None),
        ("::ffff:192.0.2.10", ["127.0.0.2"], ["SBL 192.0.2.10"]),
    ])
    # the other zones do not use wl.example
    run_table(srv, transport, XBL, [("192.0.2.1", ["127.0.0.4"], ["XBL 192.0.2.1"])])


def test_exempt_names(srv, transport):
    run_table(srv, transport, DBL, [
        ("good.test", None),                  # exact in both
        ("bad.test", ["127.0.1.2"], ["DBL bad.test"]),
        ("example.com", None),
        ("ok.tree.test", "not"),              # the allowlist's exact name in a ".x" entry
        ("x.ok.tree.test", ["127.0.1.2"], ["DBL x.ok.tree.test"]),   # ...not its subdomains
        ("tree.test", ["127.0.1.2"], ["DBL tree.test"]),
        ("fine.wild.test", "not"),            # the allowlist's ".x" inside a "*.x"
        ("a.fine.wild.test", "not"),
        ("b.a.fine.wild.test", "not"),
        ("other.wild.test", ["127.0.1.2"], ["DBL other.wild.test"]),
    ])
    run_table(srv, transport, URI, [("good.test", ["127.0.1.4"], ["URI good.test"])])


def test_exempted_names_below_covering_entries_are_nxdomain(srv, transport):
    """A name that the blocklist lists only through "*.wild.test" and that the
    allowlist's ".fine.wild.test" exempts -- with everything below it exempted too --
    answers NXDOMAIN, like an exempted address (README: "an address also listed in the
    zone's exempt allowlist: NXDOMAIN"); NODATA would claim that something below it
    exists."""
    run_table(srv, transport, DBL, [("fine.wild.test", None), ("a.fine.wild.test", None),
                                    ("b.a.fine.wild.test", None)])
    run_table(srv, transport, DZEN, [("fine.wild.test", None), ("a.fine.wild.test", None)])


def test_exempt_changes_take_effect_at_once(make_server):
    """The loader adds to and delists from the allowlist while dnsbld runs: the
    blocklist's next answer follows (no restart, no signal)."""
    s = _server(make_server, [SBL, WL, DBL, DWL])
    s.load(SBL, "192.0.2.50\n198.18.0.0/15\n2001:db8:50::/48\n")
    s.load(DBL, "spam.test\n.spamtree.test\n")
    s.start()

    def state():
        return {k: (listed(s, z, k, "udp"), listed(s, z, k, "tcp")) for z, k in (
            (SBL, "192.0.2.50"), (SBL, "198.18.1.1"), (SBL, "198.18.1.2"),
            (SBL, "2001:db8:50::1"), (DBL, "spam.test"), (DBL, "a.spamtree.test"),
            (DBL, "b.spamtree.test"))}

    yes, no = (True, True), (False, False)
    assert set(state().values()) == {yes}
    serials = {z: t.soa_serial(s, z) for z in (SBL, DBL)}

    def advanced():
        """A change to the allowlist changes the blocklist's answers, so its SOA
        serial (and what stats says) must advance too: secondaries poll it."""
        for z in (SBL, DBL):
            new = t.soa_serial(s, z)
            assert serial_newer(new, serials[z]), (z, new, serials[z])
            assert t.stat(s, z, "serial") == new, z
            serials[z] = new

    s.load(WL, "192.0.2.50\n198.18.1.1\n2001:db8:50::/64\n")
    s.load(DWL, "spam.test\na.spamtree.test\n")
    advanced()
    assert state() == {"192.0.2.50": no, "198.18.1.1": no, "198.18.1.2": yes,
                       "2001:db8:50::1": no, "spam.test": no, "a.spamtree.test": no,
                       "b.spamtree.test": yes}
    t.loader_ok(s, "delist", WL, "192.0.2.50")
    t.loader_ok(s, "delist", DWL, "spam.test")
    advanced()
    st = state()
    assert st["192.0.2.50"] == yes and st["spam.test"] == yes and st["198.18.1.1"] == no, st
    # replacing the allowlist's content (one transaction)
    s.load(WL, "198.18.0.0/16\n", replace=True)
    st = state()
    assert (st["198.18.1.1"], st["198.18.1.2"], st["2001:db8:50::1"], st["192.0.2.50"]) == (
        no, no, yes, yes), st


def test_exempt_changes_through_the_api(make_api):
    zones, extra = _zones_extra([SBL, WL, DBL, DWL])
    s, api = make_api(standard=False, zones=zones, extra=extra)
    s.load(SBL, "192.0.2.60\n203.0.113.0/24\n")
    s.load(DBL, ".apitree.test\n")
    w = api.client("writer")
    for transport in t.TRANSPORTS:
        check(s, transport, SBL, "192.0.2.60", ["127.0.0.2"], ["SBL 192.0.2.60"])
    expect(w.put(_path(WL, "192.0.2.60"), {"code": "127.0.15.5"}), 201)
    expect(w.put(_path(DWL, "x.apitree.test"), {}), 201)
    for transport in t.TRANSPORTS:
        check(s, transport, SBL, "192.0.2.60", None)
        check(s, transport, WL, "192.0.2.60", ["127.0.15.5"], [])
        check(s, transport, DBL, "x.apitree.test", "not")
        check(s, transport, DBL, "y.apitree.test", ["127.0.1.2"], ["DBL y.apitree.test"])
    # the lookup says why
    rd = api.client("reader")
    res = {x["zone"]: x for x in expect(rd.get("/v1/lookup/192.0.2.60"), 200).body["results"]}
    assert res[SBL]["listed"] is False, res
    assert res[SBL]["exempted_by"]["zone"] == WL, res
    assert res[SBL]["exempted_by"]["entry"]["key"] == "192.0.2.60", res
    res = {x["zone"]: x for x in expect(rd.get("/v1/lookup/x.apitree.test"), 200).body["results"]}
    assert res[DBL]["listed"] is False and res[DBL]["exempted_by"]["zone"] == DWL, res
    assert res[DWL]["listed"] is True, res
    expect(w.delete(_path(WL, "192.0.2.60")), 204)
    expect(w.delete(_path(DWL, "x.apitree.test")), 204)
    for transport in t.TRANSPORTS:
        check(s, transport, SBL, "192.0.2.60", ["127.0.0.2"], ["SBL 192.0.2.60"])
        check(s, transport, DBL, "x.apitree.test", ["127.0.1.2"], ["DBL x.apitree.test"])


# --------------------------------------------------------------------------------------
# Config errors

SERVER = ["[server]", "db = db", "listen = 127.0.0.1:{port}", "threads = 1",
          "[api]", "listen = 127.0.0.1:{api_port}", "tokens = tokens"]


def _z(name, *keys):
    return ["", f"[zone {name}]", f"soa = ns1.{name}. hostmaster.{name}. 3600 600 86400 120",
            f"ns = ns1.{name}.", *keys]


BLOCK_IP = _z("bl.example", "type = ip")
ALLOW_IP = _z("wl.example", "type = ip", "policy = allow")
ALLOW_NAME = _z("dwl.example", "type = name", "policy = allow")
BLOCK_NAME = _z("dbl.example", "type = name")

# (id, config lines after SERVER, the zone whose section is wrong, the key at fault
#  (None: the section as a whole), words the message must have (any case; a tuple:
#  one of them))
BAD_CONFIGS = [
    ("exempt-other-type", _z("sbl.example", "type = ip", "exempt = dwl.example") + ALLOW_NAME,
     "sbl.example", "exempt", ["dwl.example", "type"]),
    ("exempt-name-zone-of-ip-allowlist",
     _z("dbl2.example", "type = name", "exempt = wl.example") + ALLOW_IP,
     "dbl2.example", "exempt", ["wl.example", "type"]),
    ("exempt-not-allow", _z("sbl.example", "type = ip", "exempt = bl.example") + BLOCK_IP,
     "sbl.example", "exempt", ["bl.example", "allow"]),
    ("exempt-unknown", _z("sbl.example", "type = ip", "exempt = nope.example"),
     "sbl.example", "exempt", ["nope.example"]),
    ("exempt-itself", _z("wl2.example", "type = ip", "policy = allow", "exempt = wl2.example"),
     "wl2.example", "exempt", ["wl2.example", ("itself", "self", "own")]),
    ("exempt-a-combined-zone",
     _z("sbl.example", "type = ip", "exempt = zen.example")
     + _z("zen.example", "type = combined", "policy = allow", "members = wl.example") + ALLOW_IP,
     "sbl.example", "exempt", ["zen.example"]),
    ("combined-without-members", _z("zen.example", "type = combined") + BLOCK_IP,
     "zen.example", "members", ["members"]),
    ("combined-empty-members", _z("zen.example", "type = combined", "members =") + BLOCK_IP,
     "zen.example", "members", ["members"]),
    ("unknown-member", _z("zen.example", "type = combined", "members = bl.example nope.example")
     + BLOCK_IP, "zen.example", "members", ["nope.example"]),
    ("mixed-member-types",
     _z("zen.example", "type = combined", "members = bl.example dbl.example")
     + BLOCK_IP + BLOCK_NAME, "zen.example", "members", ["ip", "name"]),
    ("member-twice", _z("zen.example", "type = combined", "members = bl.example bl.example")
     + BLOCK_IP, "zen.example", "members",
     ["bl.example", ("twice", "more than once", "duplicate", "repeated", "again")]),
    ("member-twice-other-case",
     _z("zen.example", "type = combined", "members = bl.example BL.Example.")
     + BLOCK_IP, "zen.example", "members",
     [("twice", "more than once", "duplicate", "repeated", "again")]),
    ("members-on-ip-zone", _z("sbl.example", "type = ip", "members = bl.example") + BLOCK_IP,
     "sbl.example", "members", ["members", "combined"]),
    ("members-on-name-zone", _z("dbl2.example", "type = name", "members = dbl.example")
     + BLOCK_NAME, "dbl2.example", "members", ["members", "combined"]),
    ("combined-with-exempt",
     _z("zen.example", "type = combined", "members = bl.example", "exempt = wl.example")
     + BLOCK_IP + ALLOW_IP, "zen.example", "exempt", ["exempt", "combined"]),
    ("combined-member-combined",
     _z("zen.example", "type = combined", "members = bl.example zen2.example")
     + _z("zen2.example", "type = combined", "members = bl.example") + BLOCK_IP,
     "zen.example", "members", ["zen2.example", "combined"]),
    ("combined-member-itself", _z("zen.example", "type = combined", "members = zen.example"),
     "zen.example", "members", ["zen.example"]),
    ("nine-members",
     _z("zen.example", "type = combined",
        "members = " + " ".join(f"m{i}.example" for i in range(9)))
     + sum((_z(f"m{i}.example", "type = ip") for i in range(9)), []),
     "zen.example", "members", ["8"]),
    ("bad-type", _z("zen.example", "type = union"), "zen.example", "type",
     ["union"]),
]


def _write_bad(tmp_path, lines):
    port, api_port = t.free_port(), t.free_port()
    text = "\n".join(SERVER + lines).replace("{port}", str(port)).replace(
        "{api_port}", str(api_port)) + "\n"
    cfg = tmp_path / "bad.conf"
    cfg.write_text(text)
    (tmp_path / "cwd").mkdir(exist_ok=True)
    return cfg, text.splitlines()


def _lines_of(text_lines, zone, key):
    """1-based line numbers a message may name: the zone's header line, and the line
    of `key` in its section (when key is given and present)."""
    head = text_lines.index(f"[zone {zone}]") + 1
    out = [head]
    for i in range(head, len(text_lines)):
        if text_lines[i].startswith("["):
            break
        if key and re.match(rf"{key}\s*=", text_lines[i]):
            out.append(i + 1)
    return out


def _run(cmd, cwd):
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           cwd=cwd, timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{cmd[0]} kept running with a bad config")
    return r


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_zone_combinations_refused(tmp_path, case):
    _, lines, zone, key, words = case
    cfg, text_lines = _write_bad(tmp_path, lines)
    ok_lines = _lines_of(text_lines, zone, key)
    progs = [("dnsbld", [str(t.DNSBLD), "-c", str(cfg), "-f"], None),
             ("dnsbl-loader", [str(t.LOADER), "-c", str(cfg), "stats", zone], 2),
             ("dnsbl-api", [str(a.API), "-c", str(cfg), "-f"], None)]
    problems = []
    for prog, cmd, code in progs:
        r = _run(cmd, tmp_path / "cwd")
        err = r.stderr + r.stdout
        if r.returncode == 0 or (code is not None and r.returncode != code):
            problems.append(f"{prog}: exit {r.returncode}, expected "
                            f"{code if code is not None else 'non-zero'}\n{err}")
            continue
        msgs = [m for m in re.findall(rf"{re.escape(cfg.name)}:(\d+): (.*)", err)]
        hits = [m for line, m in msgs if int(line) in ok_lines and all(
            any(x.lower() in m.lower() for x in (w if isinstance(w, tuple) else (w,)))
            for w in words)]
        if not hits:
            problems.append(f"{prog}: no '{cfg.name}:LINE: ...' message on line {ok_lines} "
                            f"with {words}:\n{err}")
    assert not problems, "\n\n".join(problems) + "\nconfig:\n" + "\n".join(text_lines)


def test_good_combinations_start(make_server):
    """The configuration this file uses (allow zones of both types, exempts, two
    combined zones, members in any order) starts, and 8 members are allowed."""
    s = _server(make_server, ORDER + EIGHT + ["eight.example"])
    for n in EIGHT:
        s.load(n, "192.0.2.8\n")
    s.start()
    for transport in t.TRANSPORTS:
        check(s, transport, "eight.example", "192.0.2.8",
              [f"127.0.0.{10 + i}" for i in range(8)], [])


# --------------------------------------------------------------------------------------
# Combined zones: DNS

def test_combined_ip_answers(srv, transport):
    run_table(srv, transport, ZEN, [
        # three members, two identical codes: each A value once; every member's TXT
        ("192.0.2.10", ["127.0.0.2", "127.0.0.4"],
         ["SBL 192.0.2.10", "XBL 192.0.2.10", "CSS 192.0.2.10"]),
        ("192.0.2.20", ["127.0.0.2"], ["SBL 192.0.2.20"]),
        ("192.0.2.30", ["127.0.0.4"], ["XBL 192.0.2.30"]),
        # xbl answers no TXT for it: only sbl's TXT
        ("192.0.2.31", ["127.0.0.2", "127.0.0.4"], ["SBL 192.0.2.31"]),
        ("192.0.2.32", ["127.0.0.4"], []),
        ("192.0.2.40", ["127.0.0.4"], ["CSS own 192.0.2.40"]),
        # sbl's listing is exempted by its allowlist: only xbl's
        ("192.0.2.1", ["127.0.0.4"], ["XBL 192.0.2.1"]),
        ("198.51.100.5", ["127.0.0.4"], ["XBL 198.51.100.5"]),   # sbl's /24 exempted
        ("203.0.113.8", ["127.0.0.2"], ["SBL 203.0.113.8"]),
        ("192.0.2.99", None),
        ("192.0.2.2", None),
        ("192.0.3.10", None),
        ("2.0.192", "nodata"),                # partial names: members have entries below
        ("0.192", "nodata"),
        ("9.10", "nodata"),
        ("3.2.0.192", None),
        ("99.99", None),
        ("2001:db8::5", ["127.0.0.2", "127.0.0.4"], ["SBL 2001:db8::5", "XBL 2001:db8::5"]),
        ("2001:db8::6", ["127.0.0.2"], ["SBL 2001:db8::6"]),
        ("2001:db8:5::5", None),              # exempted in sbl, no other member
        ("2001:db9::1", None),
        ("::ffff:192.0.2.10", ["127.0.0.2", "127.0.0.4"],
         ["SBL 192.0.2.10", "XBL 192.0.2.10", "CSS 192.0.2.10"]),
        ("::ffff:192.0.2.99", None),
        # RFC 5782 test points: every member's
        ("127.0.0.2", ["127.0.0.2", "127.0.0.4"],
         ["SBL 127.0.0.2", "XBL 127.0.0.2", "CSS 127.0.0.2"]),
        ("::ffff:127.0.0.2", ["127.0.0.2", "127.0.0.4"],
         ["SBL 127.0.0.2", "XBL 127.0.0.2", "CSS 127.0.0.2"]),
        ("127.0.0.1", None),
        ("::ffff:127.0.0.1", None),
    ])


def test_combined_partial_nibble_names(srv, transport):
    name = ".".join("20010db8"[::-1]) + "." + ZEN
    assert_nodata(srv.ask(name, "A", transport), ZEN)
    name = ".".join("20010db9"[::-1]) + "." + ZEN
    assert_nx(srv.ask(name, "A", transport), ZEN)


def test_combined_name_answers(srv, transport):
    run_table(srv, transport, DZEN, [
        ("bad.test", ["127.0.1.2", "127.0.1.4"], ["DBL bad.test", "URI bad.test"]),
        ("BAD.Test", ["127.0.1.2", "127.0.1.4"], ["DBL bad.test", "URI bad.test"]),
        ("good.test", ["127.0.1.4"], ["URI good.test"]),         # exempted in dbl only
        ("x.wild.test", ["127.0.1.2", "127.0.1.4"], ["DBL x.wild.test", "URI x.wild.test"]),
        ("y.wild.test", ["127.0.1.2"], ["DBL y.wild.test"]),
        ("fine.wild.test", "not"),            # exempted in dbl (see the test above)
        ("a.b.deep.test", ["127.0.1.4"], ["URI a.b.deep.test"]),
        ("b.deep.test", "nodata"),
        ("deep.test", "nodata"),
        ("wild.test", "nodata"),
        ("q.tree.test", ["127.0.1.2"], ["DBL q.tree.test"]),
        ("nothing.test", None),
        ("example.com", None),                                   # exempted in dbl
        ("test", ["127.0.1.2", "127.0.1.4"], ["DBL test", "URI test"]),
        ("invalid", None),
    ])


def test_combined_apex_and_other_types(srv, transport):
    r = srv.ask(ZEN, "SOA", transport)
    soas = t.rrsets(r, "answer", "SOA")
    assert r.rcode() == dns.rcode.NOERROR and len(soas) == 1, t.describe(r)
    rs = soas[0]
    assert rs.name == dns.name.from_text(ZEN) and rs.ttl == CONF[ZEN]["ttl"], t.describe(r)
    assert (rs[0].mname, rs[0].minimum) == (dns.name.from_text(f"ns1.{ZEN}."), SOA_MIN)
    r = srv.ask(ZEN, "NS", transport)
    assert [str(rd.target) for rs in t.rrsets(r, "answer", "NS") for rd in rs] == \
        [f"ns1.{ZEN}."], t.describe(r)
    assert_nodata(srv.ask(qname_of("192.0.2.10", ZEN), "MX", transport), ZEN)
    r = srv.ask(qname_of("192.0.2.10", ZEN), "ANY", transport)
    assert r.rcode() == dns.rcode.NOERROR and t.a_values(r) <= {"127.0.0.2", "127.0.0.4"} \
        and t.a_values(r), t.describe(r)
    assert not t.rrsets(r, "answer", "TXT"), t.describe(r)


def test_combined_serial_follows_members(make_server):
    s = _server(make_server)
    load_all(s)
    s.start()
    s0, d0 = t.soa_serial(s, ZEN), t.soa_serial(s, DZEN, "tcp")
    assert s0 != 0
    s.load(XBL, "192.0.2.77\n")
    s1 = t.soa_serial(s, ZEN, "tcp")
    assert serial_newer(s1, s0), (s0, s1)
    check(s, "udp", ZEN, "192.0.2.77", ["127.0.0.4"], ["XBL 192.0.2.77"])
    t.loader_ok(s, "delist", CSS, "192.0.2.10")
    s2 = t.soa_serial(s, ZEN)
    assert serial_newer(s2, s1), (s1, s2)
    check(s, "tcp", ZEN, "192.0.2.10", ["127.0.0.2", "127.0.0.4"],
          ["SBL 192.0.2.10", "XBL 192.0.2.10"])
    assert t.soa_serial(s, DZEN) == d0          # dzen's members did not change
    s.load(URI, "new.test\n")
    d1 = t.soa_serial(s, DZEN)
    assert serial_newer(d1, d0), (d0, d1)
    assert t.soa_serial(s, ZEN) == s2
    # the negative answers carry the same serial
    r = s.ask(qname_of("192.0.2.99", ZEN), "A", "udp")
    assert t.rrsets(r, "authority", "SOA")[0][0].serial == s2, t.describe(r)


def test_loader_refuses_combined_zones(make_server):
    s = _server(make_server)
    load_all(s)
    s.start()
    before = {z: t.soa_serial(s, z) for z in (SBL, XBL, CSS, ZEN)}
    for fmt, data in (("plain", "192.0.2.123\n"), ("rbldnsd", "192.0.2.123 :3:x\n"),
                      ("csv", "ip\n192.0.2.123\n")):
        r = s.load(ZEN, data, fmt=fmt, expect=2)
        assert "combined" in r.stderr and ZEN in r.stderr, r.stderr
    r = s.load(DZEN, "evil.test\n", expect=2)
    assert "combined" in r.stderr, r.stderr
    for args in (["delist", ZEN, "192.0.2.10"], ["delist", DZEN, "bad.test"]):
        r = s.loader(*args)
        assert r.returncode != 0 and "combined" in r.stderr, (args, r)
    assert {z: t.soa_serial(s, z) for z in before} == before
    for transport in t.TRANSPORTS:
        check(s, transport, ZEN, "192.0.2.123", None)
        check(s, transport, ZEN, "192.0.2.10", ["127.0.0.2", "127.0.0.4"],
              ["SBL 192.0.2.10", "XBL 192.0.2.10", "CSS 192.0.2.10"])
        check(s, transport, DZEN, "evil.test", None)


def test_dig_combined(srv):
    """`dig +short` shows every member's A record, one line each (Spamhaus ZEN style)."""
    for tcp in ([], ["+tcp"]):
        r = subprocess.run(["dig", "+short", "+time=2", "+tries=1", *tcp, "-p", str(srv.port),
                            "@127.0.0.1", "10.2.0.192.zen.example"],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 0 and sorted(r.stdout.split()) == ["127.0.0.2", "127.0.0.4"], r
        r = subprocess.run(["dig", "+short", "+time=2", "+tries=1", *tcp, "-p", str(srv.port),
                            "@127.0.0.1", "bad.test.dzen.example", "TXT"],
                           capture_output=True, text=True, timeout=10)
        assert sorted(r.stdout.splitlines()) == ['"DBL bad.test"', '"URI bad.test"'], r


# --------------------------------------------------------------------------------------
# Combined zones: the API

@pytest.fixture
def api_srv(make_api):
    zones, extra = _zones_extra()
    s, api = make_api(standard=False, zones=zones, extra=extra)
    load_all(s)
    return s, api


def test_api_zones_show_members(api_srv):
    s, api = api_srv
    zones = expect(api.client("reader").get("/v1/zones"), 200).body["zones"]
    assert [z["name"] for z in zones] == ORDER
    by = {z["name"]: z for z in zones}
    assert (by[ZEN]["type"], by[ZEN]["members"]) == ("combined", ZEN_MEMBERS), by[ZEN]
    assert (by[DZEN]["type"], by[DZEN]["members"]) == ("combined", DZEN_MEMBERS), by[DZEN]
    assert by[ZEN]["ttl"] == 900 and by[ZEN]["exempt"] is None, by[ZEN]
    for name in (SBL, WL, DBL, DWL):
        assert "members" not in by[name], by[name]
    assert (by[SBL]["exempt"], by[DBL]["exempt"]) == (WL, DWL)
    assert (by[WL]["policy"], by[DWL]["policy"], by[DWL]["type"]) == ("allow", "allow", "name")


def test_api_zone_serial_of_combined_zones_is_the_soa_serial(api_srv):
    """GET /v1/zones gives every zone's serial as dnsbld's SOA has it -- combined
    zones included (their SOA serial is derived from the members')."""
    s, api = api_srv
    zones = expect(api.client("reader").get("/v1/zones"), 200).body["zones"]
    got = {z["name"]: z["serial"] for z in zones}
    soa = {name: t.soa_serial(s, name) for name in ORDER}
    assert got == soa, f"API serials {got}\nSOA serials {soa}"


def test_api_refuses_writes_to_combined_zones(api_srv):
    s, api = api_srv
    w = api.client("writer")
    for zone, key in ((ZEN, "192.0.2.123"), (ZEN, "192.0.2.10"), (ZEN, "198.51.100.0/24"),
                      (DZEN, "evil.test"), (DZEN, "bad.test")):
        r = expect(w.put(_path(zone, key), {"reason": "x"}), 400, f"PUT {zone} {key}: ")
        assert "combined" in r.error(), r
        r = expect(w.delete(_path(zone, key)), 400, f"DELETE {zone} {key}: ")
        assert "combined" in r.error(), r
    r = expect(w.put(_path(ZEN, "192.0.2.124"), {"exclude": True}), 400)
    for transport in t.TRANSPORTS:
        check(s, transport, ZEN, "192.0.2.123", None)
        check(s, transport, ZEN, "192.0.2.10", ["127.0.0.2", "127.0.0.4"],
              ["SBL 192.0.2.10", "XBL 192.0.2.10", "CSS 192.0.2.10"])
        check(s, transport, DZEN, "evil.test", None)
    # a write to a member shows in the combined zone at once
    expect(w.put(_path(XBL, "192.0.2.123"), {"code": 9}), 201)
    expect(w.put(_path(URI, "evil.test"), {}), 201)
    for transport in t.TRANSPORTS:
        check(s, transport, ZEN, "192.0.2.123", ["127.0.0.9"], ["XBL 192.0.2.123"])
        check(s, transport, DZEN, "evil.test", ["127.0.1.4"], ["URI evil.test"])
    expect(w.delete(_path(XBL, "192.0.2.123")), 204)
    for transport in t.TRANSPORTS:
        check(s, transport, ZEN, "192.0.2.123", None)


def test_api_lookup_listed_by(api_srv):
    s, api = api_srv
    rd = api.client("reader")
    cases = [("192.0.2.10", ZEN, ZEN_MEMBERS), ("192.0.2.1", ZEN, [XBL]),
             ("192.0.2.20", ZEN, [SBL]), ("192.0.2.99", ZEN, []),
             ("2001:db8::5", ZEN, [SBL, XBL]), ("127.0.0.2", ZEN, ZEN_MEMBERS),
             ("bad.test", DZEN, DZEN_MEMBERS), ("good.test", DZEN, [URI]),
             ("y.wild.test", DZEN, [DBL]), ("nothing.test", DZEN, [])]
    for key, zone, by in cases:
        body = expect(rd.get(f"/v1/lookup/{urllib.parse.quote(key)}"), 200).body
        res = {x["zone"]: x for x in body["results"]}
        other = DZEN if zone == ZEN else ZEN
        assert other not in res, f"{key}: {other} in the results: {body}"
        assert res[zone] == {"zone": zone, "type": "combined", "listed": bool(by),
                             "listed_by": by}, f"{key}: {res[zone]}"
        # each member's own result agrees, and so does dnsbld
        members = ZEN_MEMBERS if zone == ZEN else DZEN_MEMBERS
        assert [m for m in members if res[m]["listed"]] == by, (key, body)
        for transport in t.TRANSPORTS:
            r = s.ask(qname_of(key, zone), "A", transport)
            codes = {res[m]["entry"]["code"] if res[m]["entry"] else CONF[m]["a"] for m in by}
            assert t.a_values(r) == codes, f"{key} ({transport}): API {res[zone]} " \
                                           f"codes {codes}" + t.describe(r)
