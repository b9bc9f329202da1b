"""Domain zones (`type = name`, RHSBL / URI lists), end to end over UDP and TCP: entry
kinds ("example.com", "*.example.com", ".example.com"), "!" exclusions, case, the
RFC 5782 TEST and INVALID names, empty non-terminals, "$" expansion and per-entry TXT,
imports in every format (plain, rbldnsd dnset with defaults, csv and jsonl with a
"name" or "ip" column), bad lines as file:line, export/re-import round trips, delist
and history from the CLI, expiry, dig, and dnsbl-api writes answered by dnsbld on the
next query.

The zones are this file's own (not dnsbltest.ZONES): the answer checks are local
helpers that take the zone's TTL and SOA minimum from CONF."""

import subprocess
import time
import urllib.parse

import dns.flags
import dns.name
import dns.rcode
import pytest

import dnsbltest as t
import zonetest
from apitest import expect, make_api  # noqa: F401 (fixture)

SOA_MIN = 120
TXT = "Domain $ is listed, see https://dbl.example/?d=$"


def _zone(name, **keys):
    z = {"type": "name", "policy": "block", "ttl": 300, "a": "127.0.1.2", "txt": TXT,
         "soa": f"ns1.{name}. hostmaster.{name}. 3600 600 86400 {SOA_MIN}",
         "ns": f"ns1.{name}."}
    z.update(keys)
    return z


DBL, DNSET, CSVN, JSONN, EMPTY = ("dbl.example", "dnset.example", "csvn.example",
                                  "jsonn.example", "emptyn.example")
SRC, RT = "srcn.example", "rtn.example"
CONF = {n: _zone(n) for n in (DBL, DNSET, CSVN, JSONN, SRC, RT)}
CONF[EMPTY] = _zone(EMPTY, a="127.0.1.99", txt="Empty zone test point $")
IPZ = "ipz.example"
CONF[IPZ] = _zone(IPZ, type="ip", a="127.0.0.2")


def dflt(name):
    return TXT.replace("$", name)


# --------------------------------------------------------------------------------------
# Local helpers: servers with CONF zones, answer checks

Z = zonetest.Zones(CONF, SOA_MIN)
need = zonetest.need
_section = zonetest.section
_zones_extra = Z.zones_extra
_server = Z.server
assert_nx, assert_nodata = Z.assert_nx, Z.assert_nodata
assert_a, assert_txt = Z.assert_a, Z.assert_txt


LISTED = "listed"
NODATA = "nodata"
NX = "nxdomain"


def check(srv, transport, zone, name, want, a_val=None, txt=None, **kw):
    """name (below zone) answers: want NX / NODATA for A and TXT, or LISTED with A
    a_val (default: the zone's) and TXT txt (default: the zone's template for the
    name in lower case; "" for NODATA to TXT queries)."""
    qname = f"{name}.{zone}"
    ra = srv.ask(qname, "A", transport, **kw)
    rt = srv.ask(qname, "TXT", transport, **kw)
    if want == NX:
        assert_nx(ra, zone)
        assert_nx(rt, zone)
    elif want == NODATA:
        assert_nodata(ra, zone)
        assert_nodata(rt, zone)
    else:
        assert_a(ra, zone, qname, a_val or CONF[zone]["a"])
        txt = CONF[zone]["txt"].replace("$", name.lower()) if txt is None else txt
        if txt == "":
            assert_nodata(rt, zone)
        else:
            assert_txt(rt, zone, qname, txt)


def run_table(srv, transport, zone, rows):
    """rows: (name, want[, A[, TXT]]); fails with every mismatch at once."""
    errors = []
    for row in rows:
        try:
            check(srv, transport, zone, *row)
        except AssertionError as e:
            errors.append(f"{row[0]}.{zone} ({transport}): {e}")
    assert not errors, f"{len(errors)} of {len(rows)} answers wrong:\n" + "\n\n".join(errors)


_assert_reported = zonetest.assert_reported
_export_body = zonetest.export_body


def _is_listed(srv, qname, transport="udp"):
    r = srv.ask(qname, "A", transport)
    return r.rcode() == dns.rcode.NOERROR and bool(t.a_values(r))


# --------------------------------------------------------------------------------------
# The data

DBL_DATA = """\
# a domain list (plain)
example.com
*.wild.test
.tree.test
!ok.tree.test
a.b.c.example
UPPER.Example.ORG
trailing.dot.test.
_dmarc.mail.test
x-y_z.test
   spaced.test   # a comment after the entry
exact.both.test
*.exact.both.test
123.numeric.test
!lonely.excl.test
"""

DBL_ROWS = [
    ("example.com", LISTED),
    ("EXAMPLE.COM", LISTED),            # case: TXT "$" in lower case
    ("Example.Com", LISTED),
    ("www.example.com", NX),            # an exact entry lists no subdomain
    ("x.www.example.com", NX),
    ("com", NODATA),                    # empty non-terminal above example.com
    ("wild.test", NODATA),              # "*.x": x itself is an empty non-terminal
    ("a.wild.test", LISTED),
    ("b.a.wild.test", LISTED),
    ("A.WILD.Test", LISTED),
    ("tree.test", LISTED),              # ".x": x and everything below
    ("x.tree.test", LISTED),
    ("y.x.tree.test", LISTED),
    ("ok.tree.test", NODATA),           # excluded; x.ok.tree.test below is listed
    ("OK.Tree.Test", NODATA),
    ("x.ok.tree.test", LISTED),
    ("a.b.ok.tree.test", LISTED),
    ("a.b.c.example", LISTED),
    ("b.c.example", NODATA),            # empty non-terminals above a deep entry
    ("c.example", NODATA),
    ("example", NODATA),
    ("z.a.b.c.example", NX),
    ("d.c.example", NX),
    ("x.b.c.example", NX),
    ("upper.example.org", LISTED),      # loaded in upper case
    ("example.org", NODATA),
    ("org", NODATA),
    ("trailing.dot.test", LISTED),
    ("dot.test", NODATA),
    ("_dmarc.mail.test", LISTED),
    ("mail.test", NODATA),
    ("x-y_z.test", LISTED),
    ("spaced.test", LISTED),
    ("exact.both.test", LISTED),        # "x" and "*.x" together: both
    ("sub.exact.both.test", LISTED),
    ("both.test", NODATA),
    ("123.numeric.test", LISTED),
    ("numeric.test", NODATA),
    ("lonely.excl.test", NX),           # an exclusion alone lists nothing...
    ("excl.test", NX),                  # ...and makes no empty non-terminal
    ("unknown.test", NX),
    ("example.net", NX),
    ("net", NX),
    ("xample.com", NX),
    ("examplecom", NX),
]

# rbldnsd dnset, with a default line, per-entry values and a notice ($TTL)
DNSET_DATA = """\
# rbldnsd dnset data
$TTL 300
:127.0.1.5:Dnset $ default
spam.test
*.wild.test :127.0.1.6:Wild $
.both.test Own text for $
noval.test :7:
!x.both.test
Mixed.CASE.test :8
a.deep.test:127.0.1.12:No blank before the value $
"""

# a second dnset file without a default line: the zone's config supplies what is missing
DNSET_NODEFAULT = """\
nodef.test
nodef2.test :9
nodef3.test Text only $
"""

DNSET_ROWS = [
    ("spam.test", LISTED, "127.0.1.5", "Dnset spam.test default"),
    ("x.spam.test", NX),
    ("a.wild.test", LISTED, "127.0.1.6", "Wild a.wild.test"),
    ("b.a.wild.test", LISTED, "127.0.1.6", "Wild b.a.wild.test"),
    ("wild.test", NODATA),
    ("both.test", LISTED, "127.0.1.5", "Own text for both.test"),
    ("y.both.test", LISTED, "127.0.1.5", "Own text for y.both.test"),
    ("x.both.test", NODATA),            # excluded, y.x.both.test below is listed
    ("y.x.both.test", LISTED, "127.0.1.5", "Own text for y.x.both.test"),
    ("noval.test", LISTED, "127.0.0.7", ""),        # ":7:": own A, no TXT
    ("mixed.case.test", LISTED, "127.0.0.8", "Dnset mixed.case.test default"),
    ("MIXED.case.TEST", LISTED, "127.0.0.8", "Dnset mixed.case.test default"),
    ("case.test", NODATA),
    ("a.deep.test", LISTED, "127.0.1.12", "No blank before the value a.deep.test"),
    ("nodef.test", LISTED, "127.0.1.2", dflt("nodef.test")),
    ("nodef2.test", LISTED, "127.0.0.9", dflt("nodef2.test")),
    ("nodef3.test", LISTED, "127.0.1.2", "Text only nodef3.test"),
    ("other.test", NX),
]

CSVN_DATA = t.csv_text(["name", "code", "txt", "reason"], [
    ["csv.test", "8", "Csv $", "r1"],
    ["*.csvw.test", "", "", ""],
    ["!no.csvw.test", "", "", ""],
    [".csvt.test", "127.0.1.10", "", "tree"],
    ["Upper.CSV.test", "", "Quoted, \"with\" $", ""],
])
CSVN_IP_COLUMN = "ip,code\nipcol.test,11\n"

CSVN_ROWS = [
    ("csv.test", LISTED, "127.0.0.8", "Csv csv.test"),
    ("a.csvw.test", LISTED),
    ("csvw.test", NODATA),
    ("no.csvw.test", NODATA),           # excluded; x.no.csvw.test is listed
    ("x.no.csvw.test", LISTED),
    ("csvt.test", LISTED, "127.0.1.10"),
    ("a.csvt.test", LISTED, "127.0.1.10"),
    ("upper.csv.test", LISTED, None, 'Quoted, "with" upper.csv.test'),
    ("ipcol.test", LISTED, "127.0.0.11"),
    ("nope.test", NX),
]

JSONN_DATA = t.jsonl_text([
    {"name": "jl.test", "code": "127.0.1.9", "txt": "Jl $"},
    {"ip": ".jlt.test"},
    {"name": "*.jlw.test", "code": 11, "reason": "wildcard"},
    {"name": "!skip.jlt.test"},
    {"name": "nt.test", "no_txt": 1},
])

JSONN_ROWS = [
    ("jl.test", LISTED, "127.0.1.9", "Jl jl.test"),
    ("jlt.test", LISTED),
    ("q.jlt.test", LISTED),
    ("skip.jlt.test", NODATA),
    ("a.jlw.test", LISTED, "127.0.0.11"),
    ("jlw.test", NODATA),
    ("nt.test", LISTED, None, ""),
    ("jx.test", NX),
]


@pytest.fixture(scope="module")
def names(tmp_path_factory):
    missing = [str(p) for p in (t.DNSBLD, t.LOADER) if not p.exists()]
    if missing:
        pytest.fail(f"binaries not found: {missing} (run make all)", pytrace=False)
    zones, extra = _zones_extra([DBL, DNSET, CSVN, JSONN, EMPTY])
    srv = t.Dnsbl(tmp_path_factory.mktemp("zones_names"), zones=zones, extra=extra)
    srv.load(DBL, DBL_DATA)
    srv.load(DNSET, DNSET_DATA, fmt="rbldnsd")
    srv.load(DNSET, DNSET_NODEFAULT, fmt="rbldnsd", source="nodefault")
    srv.load(CSVN, CSVN_DATA, fmt="csv")
    srv.load(CSVN, CSVN_IP_COLUMN, fmt="csv", source="ipcol")
    srv.load(JSONN, JSONN_DATA, fmt="jsonl")
    srv.start()
    yield srv
    was_running = srv.running()
    rc = srv.stop()
    assert was_running and rc == 0, f"dnsbld exit {rc}\n{srv.stderr_text()}"


# --------------------------------------------------------------------------------------
# Entry kinds, exclusions, case, ENTs, TXT -- each import format

@pytest.mark.parametrize("zone,rows", [(DBL, DBL_ROWS), (DNSET, DNSET_ROWS),
                                       (CSVN, CSVN_ROWS), (JSONN, JSONN_ROWS)],
                         ids=["plain", "dnset", "csv", "jsonl"])
def test_format_answers(names, transport, zone, rows):
    run_table(names, transport, zone, rows)


def test_qname_case_echoed_and_dollar_lowercase(names, transport):
    qname = "WwW.A.WiLd.TeSt." + DBL
    r = names.ask(qname, "TXT", transport)
    assert_txt(r, DBL, qname, dflt("www.a.wild.test"))
    assert str(t.rrsets(r, "answer", "TXT")[0].name) == qname + ".", t.describe(r)


@pytest.mark.parametrize("zone", [DBL, DNSET, EMPTY])
def test_rfc5782_test_and_invalid(names, transport, zone):
    """TEST is listed in every name zone (the zone's A and TXT, "$" = "test"), also
    in one never written to; INVALID is not."""
    z = CONF[zone]
    for name in ("test", "TEST", "Test"):
        check(names, transport, zone, name, LISTED, z["a"], z["txt"].replace("$", "test"))
    for name in ("invalid", "INVALID"):
        check(names, transport, zone, name, NX)
    if zone == EMPTY:
        for name in ("example.com", "com", "x.test", "tests", "a.invalid"):
            check(names, transport, zone, name, NX)


def test_labels_with_other_bytes_nxdomain(names, transport):
    """A label with a byte other than letters, digits, '-' and '_' cannot be listed:
    NXDOMAIN, also below a ".x" or "*.x" entry that would otherwise list it."""
    bad = ["ex@mple.com", "*.wild.test", "a*b.wild.test", "sp\\032ace.tree.test",
           "x\\000y.tree.test", "caf\\195\\169.tree.test", "a+b.tree.test",
           "a\\.b.tree.test", "a/b.wild.test", "under~score.tree.test", "*.tree.test",
           "a:b.wild.test"]
    errors = []
    for name in bad:
        qname = dns.name.from_text(f"{name}.{DBL}")
        try:
            assert_nx(names.ask(qname, "A", transport), DBL)
            assert_nx(names.ask(qname, "TXT", transport), DBL)
        except AssertionError as e:
            errors.append(f"{name}: {e}")
    assert not errors, "\n\n".join(errors)
    # the good bytes next to them are listed
    for name in ("a-b.tree.test", "a_b.tree.test", "0.tree.test", "A-Z_09.wild.test"):
        assert _is_listed(names, f"{name}.{DBL}", transport), name


def test_long_names(make_server, transport):
    """Names of three 63-byte labels list and answer; "$" gives them whole."""
    srv = _server(make_server, [DBL])
    label = "abcdefghij" * 6 + "abc"          # 63 bytes
    entry = f"{label}.{label}.{label}.test"
    srv.load(DBL, f"{entry}\n*.{label}.wide.test\n")
    srv.start()
    # the TXT holds the name twice: over UDP it needs EDNS
    check(srv, transport, DBL, entry, LISTED, use_edns=0)
    r = srv.ask(f"{entry}.{DBL}", "TXT", transport)
    if transport == "udp":
        assert r.flags & dns.flags.TC and t.n_records(r) == 0, t.describe(r)
    else:
        assert_txt(r, DBL, f"{entry}.{DBL}", dflt(entry))
    check(srv, transport, DBL, f"{label}.{label}.test", NODATA)
    check(srv, transport, DBL, f"x.{label}.wide.test", LISTED)
    check(srv, transport, DBL, f"{label}.wide.test", NODATA)


# --------------------------------------------------------------------------------------
# Bad lines

LONG_NAME = ".".join(["abcdefghi"] * 26) + ".test"       # 264 characters
BAD_CASES = {
    "plain": (f"""\
good.test
bad..name
ex@mple.test
*.*.test
a*.test
{"a" * 64}.test
# a comment
good2.test
*example.test
{LONG_NAME}
.
foo bar.test
!
""", [2, 3, 4, 5, 6, 9, 10, 11, 12, 13], [1, 8]),
    "rbldnsd": ("""\
:127.0.0.3:Default $
bad..name :127.0.0.3:x
ex@mple.test
good.test :127.0.0.4:ok
*.*.test
good2.test
ok.test :300:x
""", [2, 3, 5, 7], [1, 4, 6]),
    "csv": ("""\
name,code
good.test,3
bad..x,3
"",3
good2.test,4
ok.test,999
""", [3, 4, 6], [1, 2, 5]),
    "jsonl": ("""\
{"name": "good.test"}
{"name": "bad..x"}
{"name": 5}
{"name": ""}
{"code": 3}
{"name": "good2.test", "code": 4}
""", [2, 3, 4, 5], [1, 6]),
}


@pytest.mark.parametrize("fmt", list(BAD_CASES))
def test_bad_name_lines_reported(make_server, fmt):
    srv = _server(make_server, [DBL])
    text, bad, good = BAD_CASES[fmt]
    path = srv.data_file(text, f"bad.{fmt}")
    r = srv.load(DBL, path=path, fmt=fmt, expect=1)
    _assert_reported(r.stderr, path, bad, good)
    assert t.summary_count(r.stderr, "rejected") == len(bad), r.stderr
    srv.start()
    for transport in t.TRANSPORTS:
        for name in ("good.test", "good2.test"):
            assert _is_listed(srv, f"{name}.{DBL}", transport), f"{name} ({transport})"
        for name in ("name", "bad.a", "ok.test", "foo.test", "example.test", "bar.test"):
            assert_nx(srv.ask(f"{name}.{DBL}", "A", transport), DBL)
    # no valid line at all: exit 2, nothing imported
    allbad = {"plain": "bad..x\nx@y.test\n", "rbldnsd": "bad..x :127.0.0.3:x\n",
              "csv": "name\nbad..x\n", "jsonl": '{"name": "bad..x"}\n'}[fmt]
    path = srv.data_file(allbad, f"allbad.{fmt}")
    r = srv.load(DBL, path=path, fmt=fmt, expect=2)
    assert f"{path}:" in r.stderr, r.stderr


def test_ip_keys_in_a_name_zone_and_names_in_an_ip_zone(make_server):
    """A domain is not an address and an address prefix is not a domain: a name zone
    rejects "192.0.2.0/24" and an ip zone rejects "example.com", each as file:line."""
    ipzone = IPZ
    srv = _server(make_server, [DBL, ipzone])
    path = srv.data_file("ok.test\n192.0.2.0/24\n2001:db8::/32\n", "names.txt")
    r = srv.load(DBL, path=path, expect=1)
    _assert_reported(r.stderr, path, [2, 3], [1])
    path = srv.data_file("192.0.2.1\nexample.com\n*.example.com\n", "ips.txt")
    r = srv.load(ipzone, path=path, expect=1)
    _assert_reported(r.stderr, path, [2, 3], [1])


# --------------------------------------------------------------------------------------
# Export, re-import

ROUND_TRIP_PROBES = ["example.com", "www.example.com", "a.wild.test", "wild.test",
                     "tree.test", "ok.tree.test", "x.ok.tree.test", "a.b.c.example",
                     "b.c.example", "upper.example.org", "_dmarc.mail.test", "spam.test",
                     "both2.test", "y.both2.test", "x.both2.test", "a.wild2.test", "noval.test",
                     "mixed.case.test", "a.deep.test", "exact.both.test",
                     "sub.exact.both.test", "test", "invalid", "nope.test", "csv.test",
                     "upper.csv.test", "a.csvw.test", "no.csvw.test", "x.csvt.test",
                     "lonely.excl.test"]


def _answers(srv, zone, transport):
    out = {}
    for name in ROUND_TRIP_PROBES:
        ra = srv.ask(f"{name}.{zone}", "A", transport)
        rt = srv.ask(f"{name}.{zone}", "TXT", transport)
        out[name] = (dns.rcode.to_text(ra.rcode()), sorted(t.a_values(ra)),
                     dns.rcode.to_text(rt.rcode()), t.txt_values(rt))
    return out


@pytest.mark.parametrize("fmt", ["rbldnsd", "csv", "plain"])
def test_export_reimport_round_trip(make_server, fmt):
    """Names are exported with their "*." / "." / "!" and an export imported with
    --replace into an empty zone with the same config gives the same export and the
    same answers (plain: the same names listed)."""
    srv = _server(make_server, [SRC, RT])
    srv.load(SRC, DBL_DATA)
    srv.load(SRC, DNSET_DATA.replace("*.wild.test", "*.wild2.test")
             .replace(".both.test", ".both2.test").replace("!x.both.test", "!x.both2.test"),
             fmt="rbldnsd", source="dnset")
    srv.load(SRC, CSVN_DATA, fmt="csv", source="csvfeed")   # a TXT with "," and '"'

    srv.start()
    body = _export_body(srv, SRC, fmt)
    text = "\n".join(body)
    for key in ("example.com", "*.wild.test", ".tree.test", "!ok.tree.test", "a.b.c.example",
                "upper.example.org", "trailing.dot.test", "*.exact.both.test",
                ".both2.test", "!x.both2.test", "mixed.case.test"):
        assert any(ln == key or ln.startswith(key + " ") or ln.startswith(key + ",")
                   for ln in body), f"{key!r} not a line of the {fmt} export:\n{text}"
    assert "UPPER" not in text and "trailing.dot.test." not in text, text
    path = srv.data_file(text + "\n", f"export.{fmt}")
    r = srv.load(RT, path=path, fmt=fmt, replace=True)
    assert f"{path}:" not in r.stderr, r.stderr
    assert _export_body(srv, RT, fmt) == body
    for transport in t.TRANSPORTS:
        a_src, a_dst = _answers(srv, SRC, transport), _answers(srv, RT, transport)
        if fmt == "plain":
            a_src = {k: v[0] for k, v in a_src.items()}
            a_dst = {k: v[0] for k, v in a_dst.items()}
        diff = {k: (a_src[k], a_dst[k]) for k in a_src if a_src[k] != a_dst[k]}
        assert not diff, f"answers differ after the {fmt} round trip ({transport}): {diff}"
    if fmt != "plain":
        check(srv, "udp", RT, "mixed.case.test", LISTED, "127.0.0.8",
              "Dnset mixed.case.test default")
        check(srv, "tcp", RT, "noval.test", LISTED, "127.0.0.7", "")


# --------------------------------------------------------------------------------------
# delist and history from the CLI

def test_delist_and_history_cli(make_server):
    srv = _server(make_server, [DBL])
    srv.load(DBL, DBL_DATA, source="feed")
    srv.start()
    for transport in t.TRANSPORTS:
        check(srv, transport, DBL, "example.com", LISTED)
    # an exact name
    t.loader_ok(srv, "delist", DBL, "example.com", "--reason", "complaint #7",
                "--actor", "alice")
    for transport in t.TRANSPORTS:
        check(srv, transport, DBL, "example.com", NX)
        check(srv, transport, DBL, "com", NX)      # nothing below com any more
    recs = t.history_records(srv, DBL, "example.com")
    assert [(e, k, actor, reason) for _, e, k, actor, reason in recs] == [
        ("delist", "example.com", "operator:alice", "complaint #7"),
        ("list", "example.com", "source:feed", "")], recs
    assert recs[0][0] >= recs[1][0]
    # a "*.x" entry, in any case
    t.loader_ok(srv, "delist", DBL, "*.WILD.test", "--actor", "bob")
    for transport in t.TRANSPORTS:
        check(srv, transport, DBL, "a.wild.test", NX)
        check(srv, transport, DBL, "wild.test", NX)
    recs = t.history_records(srv, DBL, "*.wild.test")
    assert [(e, k) for _, e, k, _, _ in recs] == [("delist", "*.wild.test"),
                                                  ("list", "*.wild.test")], recs
    # a name only covered by ".tree.test" has no entry of its own: exit 1, still listed
    r = t.loader_ok(srv, "delist", DBL, "a.tree.test", expect=1)
    assert "a.tree.test" in r.stderr, r.stderr
    check(srv, "udp", DBL, "a.tree.test", LISTED)
    # a kind that is not the entry's: "tree.test" (exact) is not ".tree.test"
    t.loader_ok(srv, "delist", DBL, "tree.test", expect=1)
    check(srv, "tcp", DBL, "tree.test", LISTED)
    # the ".x" entry itself
    t.loader_ok(srv, "delist", DBL, ".tree.test", "--actor", "carol", "--reason", "r3")
    for transport in t.TRANSPORTS:
        check(srv, transport, DBL, "tree.test", NX)
        check(srv, transport, DBL, "a.tree.test", NX)
        check(srv, transport, DBL, "ok.tree.test", NX)      # the exclusion stays, alone
    # a name that was never listed
    t.loader_ok(srv, "delist", DBL, "never.test", expect=1)
    t.loader_ok(srv, "delist", DBL, "bad..name", expect=2)
    # the zone's history, newest first, names with their kind
    recs = t.history_records(srv, DBL, limit=50)
    delists = [(k, actor) for _, e, k, actor, _ in recs if e == "delist"]
    assert delists == [(".tree.test", "operator:carol"), ("*.wild.test", "operator:bob"),
                       ("example.com", "operator:alice")], recs
    lists = {k for _, e, k, _, _ in recs if e == "list"}
    assert {"example.com", "*.wild.test", ".tree.test", "a.b.c.example",
            "upper.example.org", "_dmarc.mail.test"} <= lists, recs
    # tombstones: a feed line older than the delisting does not relist
    old = int(time.time()) - 3600
    srv.load(DBL, f"name,timestamp\nexample.com,{old}\n", fmt="csv", source="feed")
    check(srv, "udp", DBL, "example.com", NX)


# --------------------------------------------------------------------------------------
# Expiry

def test_expired_names_are_not_answered(make_server):
    srv = _server(make_server, [DBL])
    now = int(time.time())
    srv.load(DBL, t.csv_text(["name", "timestamp", "ttl"], [
        ["old.test", now - 3600, "60"],
        ["x.y.olddeep.test", now - 7200, "1h"],
        ["*.oldwild.test", now - 600, "5m"],
        ["fresh.test", now - 60, "1h"],
        ["*.freshwild.test", now - 60, "1d"],
    ]), fmt="csv")
    srv.load(DBL, t.jsonl_text([
        {"name": "oldj.test", "expires": now - 10},
        {"name": ".oldtree.test", "expires": t.rfc3339(now - 100)},
        {"name": "freshj.test", "expires": now + 3600},
        {"name": ".freshtree.test", "ttl": "2h"},
    ]), fmt="jsonl")
    srv.start()
    for transport in t.TRANSPORTS:
        run_table(srv, transport, DBL, [
            ("old.test", NX), ("x.y.olddeep.test", NX), ("y.olddeep.test", NX),
            ("olddeep.test", NX), ("a.oldwild.test", NX), ("oldwild.test", NX),
            ("oldj.test", NX), ("oldtree.test", NX), ("a.oldtree.test", NX),
            ("fresh.test", LISTED), ("a.freshwild.test", LISTED), ("freshwild.test", NODATA),
            ("freshj.test", LISTED), ("freshtree.test", LISTED), ("b.freshtree.test", LISTED),
        ])
    rows = {ln.split(",")[0] for ln in _export_body(srv, DBL, "csv")[1:]}
    assert rows == {"fresh.test", "*.freshwild.test", "freshj.test", ".freshtree.test"}, rows


# --------------------------------------------------------------------------------------
# dig, as in the README

def _dig(srv, *args):
    r = subprocess.run(["dig", "+time=2", "+tries=1", "-p", str(srv.port), "@127.0.0.1",
                        *args], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r
    return r.stdout


def test_dig_examples(names):
    """`dig +short -p PORT @127.0.0.1 example.com.dbl.example` and friends."""
    for tcp in ([], ["+tcp"]):
        assert _dig(names, "+short", *tcp, f"example.com.{DBL}").split() == ["127.0.1.2"]
        assert _dig(names, "+short", *tcp, f"example.com.{DBL}", "TXT").strip() == \
            f'"{dflt("example.com")}"'
        assert _dig(names, "+short", *tcp, f"a.wild.test.{DNSET}", "TXT").strip() == \
            '"Wild a.wild.test"'
        assert _dig(names, "+short", *tcp, f"www.example.com.{DBL}") == ""
        out = _dig(names, "+norec", *tcp, f"www.example.com.{DBL}")
        assert "status: NXDOMAIN" in out and "flags: qr aa;" in out, out
        out = _dig(names, "+norec", *tcp, f"wild.test.{DBL}")
        assert "status: NOERROR" in out and "ANSWER: 0," in out, out
        assert _dig(names, "+short", *tcp, f"test.{DBL}").split() == ["127.0.1.2"]


# --------------------------------------------------------------------------------------
# dnsbl-api writes, answered by dnsbld at once

def _api_server(make_api):
    zones, extra = _zones_extra([DBL, DNSET])
    return make_api(standard=False, zones=zones, extra=extra)


def _path(zone, key):
    return f"/v1/zones/{zone}/entries/{urllib.parse.quote(key, safe='')}"


def test_api_writes_visible_in_dns_at_once(make_api):
    srv, api = _api_server(make_api)
    srv.load(DBL, DBL_DATA)
    w = api.client("writer")
    for transport in t.TRANSPORTS:
        tag = transport
        # an exact name with its own values
        r = expect(w.put(_path(DBL, f"evil-{tag}.test"),
                         {"code": "127.0.1.9", "txt": "api $", "reason": "r"}), 201)
        assert r.body["key"] == f"evil-{tag}.test" and r.body["state"] == "listed", r
        check(srv, transport, DBL, f"evil-{tag}.test", LISTED, "127.0.1.9",
              f"api evil-{tag}.test")
        check(srv, transport, DBL, f"x.evil-{tag}.test", NX)
        # "*.x", key in upper case: stored and answered in lower case
        r = expect(w.put(_path(DBL, f"*.STAR-{tag}.test"), {}), 201)
        assert r.body["key"] == f"*.star-{tag}.test", r
        check(srv, transport, DBL, f"a.star-{tag}.test", LISTED)
        check(srv, transport, DBL, f"star-{tag}.test", NODATA)
        # ".x"
        expect(w.put(_path(DBL, f".dot-{tag}.test"), {"code": 5}), 201)
        check(srv, transport, DBL, f"dot-{tag}.test", LISTED, "127.0.0.5")
        check(srv, transport, DBL, f"q.dot-{tag}.test", LISTED, "127.0.0.5")
        # an exclusion inside it
        expect(w.put(_path(DBL, f"q.dot-{tag}.test"), {"exclude": True}), 201)
        check(srv, transport, DBL, f"q.dot-{tag}.test", NODATA)
        check(srv, transport, DBL, f"z.q.dot-{tag}.test", LISTED, "127.0.0.5")
        # delisting: NXDOMAIN on the very next query
        expect(w.delete(_path(DBL, f"evil-{tag}.test"), {"reason": "gone"}), 204)
        check(srv, transport, DBL, f"evil-{tag}.test", NX)
        expect(w.delete(_path(DBL, f"*.star-{tag}.test")), 204)
        check(srv, transport, DBL, f"a.star-{tag}.test", NX)
        check(srv, transport, DBL, f"star-{tag}.test", NX)
    # an entry loaded from a file
    expect(w.delete(_path(DBL, "example.com")), 204)
    for transport in t.TRANSPORTS:
        check(srv, transport, DBL, "example.com", NX)
    r = expect(w.get(_path(DBL, "example.com")), 404)
    assert r.body["delisted"]["actor"] == "operator:writer", r
    # a name only listed by a covering entry: 409 naming it; nothing changes
    r = expect(w.delete(_path(DBL, "a.tree.test")), 409)
    assert r.body["covered_by"] == ".tree.test", r
    r = expect(w.delete(_path(DBL, "deep.a.wild.test")), 409)
    assert r.body["covered_by"] == "*.wild.test", r
    for transport in t.TRANSPORTS:
        check(srv, transport, DBL, "a.tree.test", LISTED)
        check(srv, transport, DBL, "deep.a.wild.test", LISTED)
    # not listed at all: 404; not a domain: 400; an address in a name zone: 400
    expect(w.delete(_path(DBL, "never.test")), 404)
    expect(w.put(_path(DBL, "bad..name"), {}), 400)
    expect(w.put(_path(DBL, "ex@mple.test"), {}), 400)
    expect(w.put(_path(DBL, "192.0.2.0/24"), {}), 400)
    for transport in t.TRANSPORTS:
        check(srv, transport, DBL, "name", NX)
    # the history of a "*.x" key, by its key
    key = urllib.parse.quote("*.star-udp.test", safe="")
    hist = expect(w.get(f"/v1/history?zone={DBL}&key={key}"), 200).body["history"]
    assert [(h["event"], h["key"], h["actor"]) for h in hist] == [
        ("delist", "*.star-udp.test", "operator:writer"),
        ("list", "*.star-udp.test", "operator:writer")], hist
    hist = expect(w.get(f"/v1/history?zone={DBL}&key=star-udp.test"), 200).body["history"]
    assert hist == [], hist


def test_api_name_entries_and_paging(make_api):
    srv, api = _api_server(make_api)
    srv.load(DBL, DBL_DATA, source="feed")
    rd = api.client("reader")
    r = expect(rd.get(_path(DBL, ".tree.test")), 200)
    assert (r.body["key"], r.body["state"], r.body["code"], r.body["source"]) == (
        ".tree.test", "listed", "127.0.1.2", "feed"), r
    r = expect(rd.get(_path(DBL, "ok.tree.test")), 200)
    assert (r.body["key"], r.body["state"]) == ("ok.tree.test", "excluded"), r
    r = expect(rd.get(_path(DBL, "*.Wild.TEST")), 200)
    assert r.body["key"] == "*.wild.test", r
    # the kind is part of the key: "tree.test" and "wild.test" have no entry
    expect(rd.get(_path(DBL, "tree.test")), 404)
    expect(rd.get(_path(DBL, "wild.test")), 404)
    # every entry, a page at a time, each key once
    expected = {"example.com", "*.wild.test", ".tree.test", "ok.tree.test", "a.b.c.example",
                "upper.example.org", "trailing.dot.test", "_dmarc.mail.test", "x-y_z.test",
                "spaced.test", "exact.both.test", "*.exact.both.test", "123.numeric.test",
                "lonely.excl.test"}
    whole = expect(rd.get(f"/v1/zones/{DBL}/entries?limit=1000"), 200).body
    assert whole["next_cursor"] is None, whole
    all_keys = [e["key"] for e in whole["entries"]]
    assert set(all_keys) == expected and len(all_keys) == len(expected), all_keys
    for limit in (1, 2, 5):
        keys, cursor, pages = [], None, 0
        while True:
            path = f"/v1/zones/{DBL}/entries?limit={limit}"
            if cursor is not None:
                path += f"&cursor={urllib.parse.quote(cursor, safe='')}"
            body = expect(rd.get(path), 200).body
            assert len(body["entries"]) <= limit, body
            keys += [e["key"] for e in body["entries"]]
            cursor = body["next_cursor"]
            pages += 1
            assert pages <= len(expected) + 1, f"paging does not end: {keys}"
            if cursor is None:
                break
            assert cursor == body["entries"][-1]["key"], body
        assert keys == all_keys, f"limit {limit}: {keys} != {all_keys}"


def test_api_lookup_domain(make_api):
    srv, api = _api_server(make_api)
    srv.load(DBL, DBL_DATA)
    srv.load(DNSET, DNSET_DATA, fmt="rbldnsd")
    rd = api.client("reader")
    r = expect(rd.get("/v1/lookup/a.wild.test"), 200)
    assert r.body["query"] == "a.wild.test", r
    res = {x["zone"]: x for x in r.body["results"]}
    assert set(res) == {DBL, DNSET}, r        # every name zone, no ip zone
    assert res[DBL]["listed"] is True and res[DBL]["entry"]["key"] == "*.wild.test", r
    assert res[DBL]["answer_txt"] == dflt("a.wild.test"), r
    assert res[DNSET]["listed"] is True and res[DNSET]["answer_txt"] == "Wild a.wild.test", r
    r = expect(rd.get("/v1/lookup/OK.tree.test"), 200)
    res = {x["zone"]: x for x in r.body["results"]}
    assert res[DBL]["listed"] is False and res[DBL]["entry"]["state"] == "excluded", r
    assert res[DNSET]["listed"] is False and res[DNSET]["entry"] is None, r
    r = expect(rd.get("/v1/lookup/test"), 200)
    assert all(x["listed"] and x.get("test_point") for x in r.body["results"]), r
    # what the API says is what dnsbld answers
    for name in ("example.com", "www.example.com", "x.ok.tree.test", "spam.test",
                 "both.test", "x.both.test", "invalid"):
        body = expect(rd.get(f"/v1/lookup/{name}"), 200).body
        for x in body["results"]:
            assert x["listed"] == _is_listed(srv, f"{name}.{x['zone']}"), (name, x)
    expect(rd.get("/v1/lookup/bad..name"), 400)
    expect(rd.get(f"/v1/lookup/{urllib.parse.quote('*.wild.test')}"), 400)
