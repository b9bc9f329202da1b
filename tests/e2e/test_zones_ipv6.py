"""IPv6 in `type = ip` zones, end to end: every loader input format for IPv6 (plain,
rbldnsd ip6trie/ip6tset, csv, jsonl) answered by dnsbld over UDP and TCP,
longest-prefix match and exclusions (/1 to /128), the "$" TXT expansion (RFC 5952
text), the RFC 5782 IPv6 test points, IPv4-mapped nibble names answering like the
IPv4 entry, empty non-terminals (RFC 8020) against NXDOMAIN for partial nibble names,
malformed nibble names, export/re-import round trips and bad IPv6 lines reported as
file:line.

The zones here are this file's own (not dnsbltest.ZONES), so the answer checks are
local helpers that take the zone's TTL and SOA minimum from CONF."""

import ipaddress
import subprocess

import dns.flags
import dns.name
import dns.rcode
import pytest

import dnsbltest as t
import zonetest

SOA_MIN = 120
TXT = "Blocked: $ (see https://bl6.example/)"   # every zone's default TXT


def _zone(name, **keys):
    z = {"type": "ip", "policy": "block", "ttl": 300, "a": "127.0.0.2", "txt": TXT,
         "soa": f"ns1.{name}. hostmaster.{name}. 3600 600 86400 {SOA_MIN}",
         "ns": f"ns1.{name}."}
    z.update(keys)
    return z


P6, R6, C6, J6, W6, E6 = ("p6.example", "r6.example", "c6.example", "j6.example",
                          "w6.example", "e6.example")
CONF = {name: _zone(name) for name in (P6, R6, C6, J6, W6, E6)}
CONF["rt6.example"] = _zone("rt6.example")
CONF["src6.example"] = _zone("src6.example")
CONF["bad6.example"] = _zone("bad6.example")
CONF["dd6.example"] = _zone("dd6.example")


# --------------------------------------------------------------------------------------
# Local helpers: servers with CONF zones, names, answer checks

Z = zonetest.Zones(CONF, SOA_MIN)
need = zonetest.need
_section = zonetest.section
_zones_extra = Z.zones_extra
_server = Z.server
assert_nx, assert_nodata = Z.assert_nx, Z.assert_nodata
assert_a, assert_txt = Z.assert_a, Z.assert_txt


def nib(addr, zone):
    """The nibble-reversed query name of an IPv6 address (any form, any case kept)."""
    return t.rev6(addr, zone)


def partial(addr, n, zone):
    """The query name of the first n nibbles of addr (a partial nibble name)."""
    nibbles = ipaddress.IPv6Address(addr).exploded.replace(":", "")[:n]
    return ".".join(reversed(nibbles)) + "." + zone


def mapped(v4):
    return f"::ffff:{v4}"


def check_listed(srv, transport, zone, qname, a, txt):
    """qname answers A `a`; TXT `txt` (None: NODATA for TXT)."""
    assert_a(srv.ask(qname, "A", transport), zone, qname, a)
    r = srv.ask(qname, "TXT", transport)
    if txt is None:
        assert_nodata(r, zone)
    else:
        assert_txt(r, zone, qname, txt)


def check_not_listed(srv, transport, zone, qname):
    assert_nx(srv.ask(qname, "A", transport), zone)
    assert_nx(srv.ask(qname, "TXT", transport), zone)


def run_table(srv, transport, zone, rows):
    """rows: (address, A or None, TXT or None) -- A None: NXDOMAIN for A and TXT.
    Checks every row (IPv6 rows by nibble name, IPv4 rows by the reversed IPv4 name)
    and fails with every mismatch at once."""
    errors = []
    for addr, a, txt in rows:
        qname = nib(addr, zone) if ":" in addr else t.rev(addr, zone)
        try:
            if a is None:
                check_not_listed(srv, transport, zone, qname)
            else:
                check_listed(srv, transport, zone, qname, a, txt)
        except AssertionError as e:
            errors.append(f"{addr} ({transport}): {e}")
    assert not errors, f"{len(errors)} of {len(rows)} answers wrong in {zone}:\n" + \
        "\n\n".join(errors)


def dflt(addr):
    """The zones' default TXT for addr (its RFC 5952 text)."""
    return TXT.replace("$", addr)


_assert_reported = zonetest.assert_reported
_export_body = zonetest.export_body


# --------------------------------------------------------------------------------------
# The data: one zone per input format

# p6.example, plain format (line numbers matter for nothing here)
P6_DATA = """\
# IPv6 plain list
2001:db8::/32
!2001:db8::7
!2001:db8:0:2::/64
2001:db8:0:2::9
2001:DB9:AB::/48
   3fff:abcd::1   ; a comment after the entry
::ffff:198.51.100.0/120
203.0.113.5
"""

P6_ROWS = [
    ("2001:db8::", "127.0.0.2", dflt("2001:db8::")),
    ("2001:db8::1", "127.0.0.2", dflt("2001:db8::1")),
    ("2001:db8::6", "127.0.0.2", dflt("2001:db8::6")),
    ("2001:db8::8", "127.0.0.2", dflt("2001:db8::8")),
    ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "127.0.0.2",
     dflt("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")),
    ("2001:db8:0:2::9", "127.0.0.2", dflt("2001:db8:0:2::9")),     # a host in the hole
    ("2001:db8:0:3::", "127.0.0.2", dflt("2001:db8:0:3::")),
    ("2001:db9:ab::1", "127.0.0.2", dflt("2001:db9:ab::1")),
    ("2001:db9:ab:ffff:ffff:ffff:ffff:ffff", "127.0.0.2",
     dflt("2001:db9:ab:ffff:ffff:ffff:ffff:ffff")),
    ("3fff:abcd::1", "127.0.0.2", dflt("3fff:abcd::1")),
    ("2001:db8::7", None, None),                  # excluded host
    ("2001:db8:0:2::", None, None),               # excluded /64
    ("2001:db8:0:2::8", None, None),
    ("2001:db8:0:2:ffff:ffff:ffff:ffff", None, None),
    ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", None, None),
    ("2001:db9::1", None, None),
    ("2001:db9:ac::", None, None),
    ("2001:db9:aa:ffff:ffff:ffff:ffff:ffff", None, None),
    ("3fff:abcd::2", None, None),
    ("3fff:abcd::", None, None),
    ("::2", None, None),
    ("fe80::1", None, None),
    # IPv4 entries in the same file, by IPv4 and by IPv4-mapped nibble name
    ("198.51.100.77", "127.0.0.2", dflt("198.51.100.77")),
    (mapped("198.51.100.77"), "127.0.0.2", dflt("198.51.100.77")),
    ("203.0.113.5", "127.0.0.2", dflt("203.0.113.5")),
    (mapped("203.0.113.5"), "127.0.0.2", dflt("203.0.113.5")),
    ("203.0.113.6", None, None),
    (mapped("203.0.113.6"), None, None),
    ("198.51.101.0", None, None),
    (mapped("198.51.101.0"), None, None),
]

# r6.example, rbldnsd ip6trie/ip6tset syntax (the rbldnsd man page's examples)
R6_DATA = """\
# rbldnsd ip6trie data
$TTL 300
:127.0.1.2: Listed, see http://example.com/lookup?$
2001:21ab:c000/36
!2001:21ab:c000:ff
2001:21ab:c000:ff::5 :127.0.1.4:Host $ inside the hole
2001:21ab:def7:4242 :127.0.1.3: This one smells funny
2605:6001:42::/52
!2605:6001:42::bead
2001:db8:a::/48 :5
2001:db8:b::/48 :6:
2001:db8:c::/48 Own text for $
2001:db8:d:1:2:3:4:5 :127.0.1.7:Full $
2001:db8:e::/128
192.0.2.55 :127.0.1.9:IPv4 $ in an IPv6 file
192.0.2.56
"""


def _r6(addr):
    return f"Listed, see http://example.com/lookup?{addr}"


R6_ROWS = [
    ("2001:21ab:c000::", "127.0.1.2", _r6("2001:21ab:c000::")),
    ("2001:21ab:c000::1", "127.0.1.2", _r6("2001:21ab:c000::1")),
    ("2001:21ab:cfff:ffff:ffff:ffff:ffff:ffff", "127.0.1.2",
     _r6("2001:21ab:cfff:ffff:ffff:ffff:ffff:ffff")),
    ("2001:21ab:c000:fe:ffff:ffff:ffff:ffff", "127.0.1.2",
     _r6("2001:21ab:c000:fe:ffff:ffff:ffff:ffff")),
    ("2001:21ab:c000:100::", "127.0.1.2", _r6("2001:21ab:c000:100::")),
    ("2001:21ab:d000::", None, None),
    ("2001:21ab:bfff:ffff:ffff:ffff:ffff:ffff", None, None),
    ("2001:21ab:c000:ff::", None, None),                      # the excluded /64
    ("2001:21ab:c000:ff::4", None, None),
    ("2001:21ab:c000:ff:ffff:ffff:ffff:ffff", None, None),
    ("2001:21ab:c000:ff::5", "127.0.1.4", "Host 2001:21ab:c000:ff::5 inside the hole"),
    ("2001:21ab:def7:4242::", "127.0.1.3", "This one smells funny"),
    ("2001:21ab:def7:4242:ffff:ffff:ffff:ffff", "127.0.1.3", "This one smells funny"),
    ("2001:21ab:def7:4243::", None, None),
    ("2001:21ab:def7:4241:ffff:ffff:ffff:ffff", None, None),
    ("2605:6001:42::1", "127.0.1.2", _r6("2605:6001:42::1")),
    ("2605:6001:42:fff:ffff:ffff:ffff:ffff", "127.0.1.2",
     _r6("2605:6001:42:fff:ffff:ffff:ffff:ffff")),
    ("2605:6001:42:1000::", None, None),
    ("2605:6001:42::bead", None, None),
    ("2605:6001:42::beae", "127.0.1.2", _r6("2605:6001:42::beae")),
    ("2001:db8:a::1", "127.0.0.5", _r6("2001:db8:a::1")),    # own A, the file's TXT
    ("2001:db8:b::1", "127.0.0.6", None),                    # own A, no TXT
    ("2001:db8:c::1", "127.0.1.2", "Own text for 2001:db8:c::1"),  # the file's A
    ("2001:db8:d:1:2:3:4:5", "127.0.1.7", "Full 2001:db8:d:1:2:3:4:5"),
    ("2001:db8:d:1:2:3:4:4", None, None),
    ("2001:db8:d:1:2:3:4:6", None, None),
    ("2001:db8:e::", "127.0.1.2", _r6("2001:db8:e::")),
    ("2001:db8:e::1", None, None),
    ("192.0.2.55", "127.0.1.9", "IPv4 192.0.2.55 in an IPv6 file"),
    (mapped("192.0.2.55"), "127.0.1.9", "IPv4 192.0.2.55 in an IPv6 file"),
    ("192.0.2.56", "127.0.1.2", _r6("192.0.2.56")),
    (mapped("192.0.2.56"), "127.0.1.2", _r6("192.0.2.56")),
    ("192.0.2.57", None, None),
    (mapped("192.0.2.57"), None, None),
]

# c6.example, csv
C6_DATA = t.csv_text(["ip", "code", "txt", "reason"], [
    ["2001:db8:100::/40", "127.0.0.3", "Csv wide $", "wide"],
    ["2001:db8:100:1::/64", "4", "Csv narrow $", "narrow"],
    ["!2001:db8:100:1::9", "", "", ""],
    ["::ffff:192.0.2.0/120", "5", "Mapped csv $", "mapped"],
    ["2001:db8:200::1", "", "", ""],
    ["2001:DB8:300:0:0:0:0:A/128", "6", "", ""],
])

C6_ROWS = [
    ("2001:db8:100::", "127.0.0.3", "Csv wide 2001:db8:100::"),
    ("2001:db8:1ff:ffff:ffff:ffff:ffff:ffff", "127.0.0.3",
     "Csv wide 2001:db8:1ff:ffff:ffff:ffff:ffff:ffff"),
    ("2001:db8:100:1::1", "127.0.0.4", "Csv narrow 2001:db8:100:1::1"),
    ("2001:db8:100:1::9", None, None),
    ("2001:db8:100:2::", "127.0.0.3", "Csv wide 2001:db8:100:2::"),
    ("2001:db8:200::", None, None),
    ("2001:db8:200::1", "127.0.0.2", dflt("2001:db8:200::1")),
    ("2001:db8:200::2", None, None),
    ("2001:db8:300::a", "127.0.0.6", dflt("2001:db8:300::a")),
    ("192.0.2.200", "127.0.0.5", "Mapped csv 192.0.2.200"),
    (mapped("192.0.2.200"), "127.0.0.5", "Mapped csv 192.0.2.200"),
    ("192.0.3.0", None, None),
]

# j6.example, jsonl
J6_DATA = t.jsonl_text([
    {"ip": "2001:db8:300::/48", "code": 7, "txt": "Jsonl $"},
    {"ip": "!2001:db8:300::5"},
    {"ip": "2001:db8:300::5:1", "code": "127.0.0.8"},
    {"ip": "2001:db8:301::/56", "txt": "Jsonl narrow $", "reason": "r"},
    {"ip": "198.51.100.9", "txt": "v4 in jsonl $"},
])

J6_ROWS = [
    ("2001:db8:300::", "127.0.0.7", "Jsonl 2001:db8:300::"),
    ("2001:db8:300::4", "127.0.0.7", "Jsonl 2001:db8:300::4"),
    ("2001:db8:300::5", None, None),
    ("2001:db8:300::5:1", "127.0.0.8", dflt("2001:db8:300::5:1")),
    ("2001:db8:300:ffff:ffff:ffff:ffff:ffff", "127.0.0.7",
     "Jsonl 2001:db8:300:ffff:ffff:ffff:ffff:ffff"),
    ("2001:db8:301:ff::1", "127.0.0.2", "Jsonl narrow 2001:db8:301:ff::1"),
    ("2001:db8:301:100::", None, None),
    ("198.51.100.9", "127.0.0.2", "v4 in jsonl 198.51.100.9"),
    (mapped("198.51.100.9"), "127.0.0.2", "v4 in jsonl 198.51.100.9"),
]

# w6.example: prefix lengths from /1 to /128, some not on a nibble boundary
W6_DATA = """\
8000::/1
!a000::/3
a000::1
2001:db8:1::/127
2001:db8:2::/65
2001:db8:4::/128
"""

W6_ROWS = [
    ("8000::", "127.0.0.2", dflt("8000::")),
    ("c000::1", "127.0.0.2", dflt("c000::1")),
    ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "127.0.0.2",
     dflt("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
    ("7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None, None),
    ("a000::", None, None),
    ("a000::2", None, None),
    ("bfff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None, None),
    ("c000::", "127.0.0.2", dflt("c000::")),
    ("9fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "127.0.0.2",
     dflt("9fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
    ("a000::1", "127.0.0.2", dflt("a000::1")),
    ("2001:db8:1::", "127.0.0.2", dflt("2001:db8:1::")),
    ("2001:db8:1::1", "127.0.0.2", dflt("2001:db8:1::1")),
    ("2001:db8:1::2", None, None),
    ("2001:db8:2::", "127.0.0.2", dflt("2001:db8:2::")),
    ("2001:db8:2:0:7fff:ffff:ffff:ffff", "127.0.0.2", dflt("2001:db8:2:0:7fff:ffff:ffff:ffff")),
    ("2001:db8:2:0:8000::", None, None),
    ("2001:db8:4::", "127.0.0.2", dflt("2001:db8:4::")),
    ("2001:db8:4::1", None, None),
]


@pytest.fixture(scope="module")
def v6(tmp_path_factory):
    """One dnsbld for the module, the data above imported into its zones (exit 0 each)."""
    missing = [str(p) for p in (t.DNSBLD, t.LOADER) if not p.exists()]
    if missing:
        pytest.fail(f"binaries not found: {missing} (run make all)", pytrace=False)
    zones, extra = _zones_extra([P6, R6, C6, J6, W6, E6])
    srv = t.Dnsbl(tmp_path_factory.mktemp("zones_ipv6"), zones=zones, extra=extra)
    srv.load(P6, P6_DATA)
    srv.load(R6, R6_DATA, fmt="rbldnsd")
    srv.load(C6, C6_DATA, fmt="csv")
    srv.load(J6, J6_DATA, fmt="jsonl")
    srv.load(W6, W6_DATA)
    srv.start()
    yield srv
    was_running = srv.running()
    rc = srv.stop()
    assert was_running and rc == 0, f"dnsbld exit {rc} (running: {was_running})\n" \
                                    f"{srv.stderr_text()}"


# --------------------------------------------------------------------------------------
# Every input format, answered over UDP and TCP

@pytest.mark.parametrize("zone,rows", [(P6, P6_ROWS), (R6, R6_ROWS), (C6, C6_ROWS),
                                       (J6, J6_ROWS), (W6, W6_ROWS)],
                         ids=["plain", "rbldnsd", "csv", "jsonl", "prefix-lengths"])
def test_format_answers(v6, transport, zone, rows):
    run_table(v6, transport, zone, rows)


def test_nibble_names_any_case(v6, transport):
    """Hex nibbles are read in either case; the QNAME's case is echoed."""
    for addr, zone, a, txt in (
            ("2001:21ab:def7:4242::abcd", R6, "127.0.1.3", "This one smells funny"),
            ("2001:21ab:cabc::1", R6, "127.0.1.2", _r6("2001:21ab:cabc::1")),
            ("2001:db9:ab::fe", P6, "127.0.0.2", dflt("2001:db9:ab::fe"))):
        upper = nib(addr, zone).upper().replace(zone.upper(), zone)
        assert upper != nib(addr, zone)
        r = v6.ask(upper, "A", transport)
        assert_a(r, zone, upper, a)
        assert str(t.rrsets(r, "answer", "A")[0].name).rstrip(".") == upper, t.describe(r)
        assert_txt(v6.ask(upper, "TXT", transport), zone, upper, txt)
    upper = nib("2001:db8::7", P6).upper().replace(P6.upper(), P6)
    assert_nx(v6.ask(upper, "A", transport), P6)


def test_txt_dollar_is_rfc5952_text(v6, transport):
    """"$" in a TXT becomes the queried address in RFC 5952 form: lower case, leading
    zeros dropped, the longest run of zero groups (the first of equal runs, never a
    single group) as "::"."""
    cases = [
        ("2001:21ab:c000:0:0:0:0:1", "2001:21ab:c000::1"),
        ("2001:21ab:c001:0:1:0:0:0", "2001:21ab:c001:0:1::"),
        ("2001:21ab:c002:0:0:1:0:0", "2001:21ab:c002::1:0:0"),
        ("2001:21ab:c003:1:1:1:0:1", "2001:21ab:c003:1:1:1:0:1"),
        ("2001:21ab:c004:0:1:0:0:1", "2001:21ab:c004:0:1::1"),
        ("2001:21ab:c00a:000b:000c:0:0:000d", "2001:21ab:c00a:b:c::d"),
        ("2001:21AB:CABC:0:0:0:0:0", "2001:21ab:cabc::"),
        ("2001:21ab:cfff:ffff:ffff:ffff:ffff:ffff", "2001:21ab:cfff:ffff:ffff:ffff:ffff:ffff"),
    ]
    errors = []
    for full, text in cases:
        qname = nib(full, R6)
        r = v6.ask(qname, "TXT", transport)
        got = t.txt_values(r)
        if got != [_r6(text)]:
            errors.append(f"{full}: TXT {got}, expected {[_r6(text)]}")
    assert not errors, "\n".join(errors)
    # the config's template too (an entry without a TXT of its own)
    qname = nib("2001:db8:200:0:0:0:0:1", C6)
    assert_txt(v6.ask(qname, "TXT", transport), C6, qname, dflt("2001:db8:200::1"))


# --------------------------------------------------------------------------------------
# RFC 5782 test points and IPv4-mapped names

@pytest.mark.parametrize("zone", [P6, R6, C6, J6, W6, E6])
def test_ipv6_test_points(v6, transport, zone):
    """::ffff:127.0.0.2 is listed with the zone's config values in every ip zone (also
    one never written to, and one whose file had another default), ::ffff:127.0.0.1
    is not; the IPv4 test points agree."""
    for form in (mapped("127.0.0.2"), "::FFFF:7F00:2", "0:0:0:0:0:ffff:7f00:0002"):
        qname = nib(form, zone)
        check_listed(v6, transport, zone, qname, CONF[zone]["a"], dflt("127.0.0.2"))
    check_not_listed(v6, transport, zone, nib(mapped("127.0.0.1"), zone))
    check_listed(v6, transport, zone, t.rev("127.0.0.2", zone), CONF[zone]["a"],
                 dflt("127.0.0.2"))
    check_not_listed(v6, transport, zone, t.rev("127.0.0.1", zone))
    # the other addresses near them are not test points
    for other in ("::127.0.0.2", "::ffff:127.0.0.3", "::fffe:7f00:2", "::1:ffff:7f00:2"):
        check_not_listed(v6, transport, zone, nib(other, zone))


def test_mapped_names_answer_like_ipv4(v6, transport):
    """An ::ffff:a.b.c.d nibble name answers exactly what a.b.c.d answers: listed,
    excluded, own values, longest match, "$" as the IPv4 text."""
    srv = v6
    pairs = [(P6, "198.51.100.0"), (P6, "198.51.100.255"), (P6, "203.0.113.5"),
             (P6, "203.0.113.4"), (R6, "192.0.2.55"), (R6, "192.0.2.56"), (R6, "192.0.2.54"),
             (C6, "192.0.2.0"), (C6, "192.0.2.1"), (C6, "192.0.1.255"), (J6, "198.51.100.9"),
             (J6, "198.51.100.8"), (E6, "192.0.2.55")]
    errors = []
    for zone, v4 in pairs:
        for qtype in ("A", "TXT"):
            r4 = srv.ask(t.rev(v4, zone), qtype, transport)
            r6 = srv.ask(nib(mapped(v4), zone), qtype, transport)
            got4 = (r4.rcode(), sorted(t.a_values(r4)), t.txt_values(r4),
                    [(rs.ttl, rs.rdtype) for rs in r4.answer])
            got6 = (r6.rcode(), sorted(t.a_values(r6)), t.txt_values(r6),
                    [(rs.ttl, rs.rdtype) for rs in r6.answer])
            if got4 != got6:
                errors.append(f"{zone} {v4} {qtype}: IPv4 name {got4}, mapped name {got6}")
    assert not errors, "\n".join(errors)
    # and the answers themselves are right (not merely equal)
    check_listed(srv, transport, C6, nib(mapped("192.0.2.1"), C6), "127.0.0.5",
                 "Mapped csv 192.0.2.1")
    check_not_listed(srv, transport, P6, nib(mapped("203.0.113.4"), P6))


# --------------------------------------------------------------------------------------
# Partial nibble names: empty non-terminals (RFC 8020) and NXDOMAIN

def test_partial_nibble_names_nodata_or_nxdomain(v6, transport):
    nodata = [
        # above and inside p6's 2001:db8::/32
        *[(P6, "2001:db8::1", n) for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 20, 24, 28, 31)],
        # above 3fff:abcd::1 (a single host)
        *[(P6, "3fff:abcd::1", n) for n in (1, 4, 8, 12, 20, 31)],
        # above r6's 2001:21ab:def7:4242::/64 and inside it
        *[(R6, "2001:21ab:def7:4242::", n) for n in (8, 12, 14, 15, 16, 20, 24, 31)],
        # the excluded /64 of r6 holds a listed host
        *[(R6, "2001:21ab:c000:ff::5", n) for n in (16, 17, 20, 24, 28, 31)],
        # above the ::ffff:127.0.0.2 test point, in a zone never written to
        *[(E6, mapped("127.0.0.2"), n) for n in (1, 4, 16, 20, 24, 26, 28, 30, 31)],
        # w6: inside 8000::/1
        *[(W6, "c000::", n) for n in (1, 2, 8, 31)],
    ]
    nxdomain = [
        (P6, "4000::", 1),              # nothing below "4"
        (P6, "f000::", 1),
        (P6, "2001:dba::", 8),          # next to the /32
        (P6, "3fff:abce::", 8),
        (P6, "3fff:abcd::10", 31),      # ::10 - ::1f: nothing listed
        (P6, "2001:db8::7", 32),        # the excluded host itself
        (R6, "2001:21ab:def7:4243::", 16),
        (R6, "2605:6001:42:1000::", 13),
        (E6, "2001:db8::", 4),
        (E6, mapped("127.0.0.16"), 31),    # ::ffff:127.0.0.16/124: no test point below
        (R6, "2001:21ab:c000:ff::10", 31),  # inside the exclusion, no host below
        (W6, "a000::10", 31),               # inside the excluded a000::/3
        (W6, "a000:1::", 8),
    ]
    nodata += [(W6, "a000::", 4), (W6, "a000::", 31)]   # a000::1 is listed below them
    errors = []
    for zone, addr, n in nodata:
        name = partial(addr, n, zone)
        try:
            for qtype in ("A", "TXT"):
                assert_nodata(v6.ask(name, qtype, transport), zone)
        except AssertionError as e:
            errors.append(f"NODATA expected for {addr} /{n * 4} in {zone} ({name}): {e}")
    for zone, addr, n in nxdomain:
        name = partial(addr, n, zone)
        try:
            assert_nx(v6.ask(name, "A", transport), zone)
        except AssertionError as e:
            errors.append(f"NXDOMAIN expected for {addr} /{n * 4} in {zone} ({name}): {e}")
    assert not errors, f"{len(errors)} wrong:\n" + "\n\n".join(errors)


def test_mapped_partial_names_above_ipv4_entries_are_nodata(v6, transport):
    """A partial ::ffff: nibble name with a listed IPv4 entry below it (the /24
    198.51.100.0/24 in p6, the /32 192.0.2.55 in r6) is an empty non-terminal, like
    the IPv4 partial names 100.51.198.zone and 2.0.192.zone: the full mapped names
    below answer listed, so NXDOMAIN (which denies everything below) would be wrong."""
    errors = []
    for zone, v4, ipv4_partial in ((P6, "198.51.100.77", "100.51.198"),
                                   (R6, "192.0.2.55", "2.0.192")):
        assert_nodata(v6.ask(f"{ipv4_partial}.{zone}", "A", transport), zone)
        full = nib(mapped(v4), zone)
        assert v6.ask(full, "A", transport).rcode() == dns.rcode.NOERROR
        for n in range(25, 32):
            name = partial(mapped(v4), n, zone)
            r = v6.ask(name, "A", transport)
            if r.rcode() != dns.rcode.NOERROR or t.n_records(r) != 0:
                errors.append(f"{zone} {mapped(v4)} first {n} nibbles ({name}): "
                              f"{dns.rcode.to_text(r.rcode())}, expected NODATA")
    assert not errors, "\n".join(errors)


def test_malformed_nibble_names_nxdomain(v6, transport):
    listed = "2001:21ab:def7:4242::1"
    good = nib(listed, R6)
    assert_a(v6.ask(good, "A", transport), R6, good, "127.0.1.3")
    labels = good[:-len(R6) - 1].split(".")
    assert len(labels) == 32
    bad = {
        "33 labels": "0." + good,
        "33 labels, hex above": "f." + good,
        "2-char label first": ".".join(["01"] + labels[1:]) + "." + R6,
        "2-char label inside": ".".join(labels[:10] + ["00"] + labels[11:]) + "." + R6,
        "2-char label in a partial name": ".".join(["42"] + labels[17:]) + "." + R6,
        "non-hex label first": ".".join(["g"] + labels[1:]) + "." + R6,
        "non-hex label inside": ".".join(labels[:20] + ["x"] + labels[21:]) + "." + R6,
        "non-hex in a partial name": ".".join(["z"] + labels[16:]) + "." + R6,
        "empty-ish 31 labels plus a word": ".".join(["www"] + labels[1:]) + "." + R6,
        "a mapped name with a 2-char label": ".".join(
            ["02"] + nib(mapped("127.0.0.2"), R6).split(".")[1:]),
        "40 labels": ".".join(["0"] * 8) + "." + good,
    }
    errors = []
    for what, name in bad.items():
        for qtype in ("A", "TXT"):
            try:
                assert_nx(v6.ask(name, qtype, transport), R6)
            except AssertionError as e:
                errors.append(f"{what} ({name}) {qtype}: {e}")
    assert not errors, "\n\n".join(errors)


# --------------------------------------------------------------------------------------
# rbldnsd: addresses starting with "::" (the man page's "::1")

def test_rbldnsd_ip6_addresses_starting_with_double_colon(make_server):
    """rbldnsd ip6trie lines may start with "::" ("::1", "::ffff:192.0.2.77"): an
    address, not a ":A:TXT" default line."""
    srv = _server(make_server, [R6])
    data = (":127.0.1.2:Default $\n"
            "::1\n"
            "::ffff:192.0.2.77 :127.0.0.3:Mapped $\n"
            "::2:0:0:1/128 :4\n"
            "2001:db8:77::1\n")
    r = srv.load(R6, data, fmt="rbldnsd", expect=None)
    srv.start()
    problems = []
    if r.returncode != 0:
        problems.append(f"import exit {r.returncode}, expected 0\n{r.stderr}")
    checks = [("::1", "127.0.1.2", "Default ::1"), ("192.0.2.77", "127.0.0.3", "Mapped 192.0.2.77"),
              (mapped("192.0.2.77"), "127.0.0.3", "Mapped 192.0.2.77"),
              ("::2:0:0:1", "127.0.0.4", "Default ::2:0:0:1"),
              ("2001:db8:77::1", "127.0.1.2", "Default 2001:db8:77::1")]
    for transport in t.TRANSPORTS:
        for addr, a, txt in checks:
            qname = nib(addr, R6) if ":" in addr else t.rev(addr, R6)
            try:
                check_listed(srv, transport, R6, qname, a, txt)
            except AssertionError as e:
                problems.append(f"{addr} ({transport}): {e}")
    assert not problems, "\n\n".join(problems)


# --------------------------------------------------------------------------------------
# Export and re-import

ROUND_TRIP_PROBES = [
    "2001:21ab:c000::1", "2001:21ab:c000:ff::4", "2001:21ab:c000:ff::5",
    "2001:21ab:def7:4242::9", "2605:6001:42::1", "2605:6001:42::bead", "2001:db8:a::1",
    "2001:db8:b::1", "2001:db8:c::1", "2001:db8:d:1:2:3:4:5", "2001:db8:e::",
    "2001:db8:100::1", "2001:db8:100:1::1", "2001:db8:100:1::9", "2001:db8:200::1",
    "2001:db8:300::a", "192.0.2.55", "192.0.2.56", "192.0.2.200", mapped("192.0.2.200"),
    "2001:21ab:d000::", "::ffff:127.0.0.2",
]


def _answers(srv, zone, transport):
    out = {}
    for addr in ROUND_TRIP_PROBES:
        qname = nib(addr, zone) if ":" in addr else t.rev(addr, zone)
        ra = srv.ask(qname, "A", transport)
        rt = srv.ask(qname, "TXT", transport)
        out[addr] = (dns.rcode.to_text(ra.rcode()), sorted(t.a_values(ra)),
                     dns.rcode.to_text(rt.rcode()), t.txt_values(rt))
    return out


@pytest.mark.parametrize("fmt", ["rbldnsd", "csv", "plain"])
def test_export_reimport_round_trip(make_server, fmt):
    """A zone with IPv6 (and IPv4) entries of every kind, exported and imported with
    --replace into an empty zone with the same config, exports the same lines and
    answers the same (plain keeps only the prefixes: same listed/not listed)."""
    src, dst = "src6.example", "rt6.example"
    srv = _server(make_server, [src, dst])
    srv.load(src, R6_DATA, fmt="rbldnsd")
    srv.load(src, C6_DATA, fmt="csv", source="csvfeed")
    srv.start()
    body = _export_body(srv, src, fmt)
    assert len(body) >= 15, body
    # IPv6 keys are written compressed, mapped input as IPv4
    text = "\n".join(body)
    for key in ("2001:21ab:c000::/36", "!2001:21ab:c000:ff::/64", "2001:21ab:def7:4242::/64",
                "2605:6001:42::/52", "!2605:6001:42::bead", "2001:db8:d:1:2:3:4:5",
                "192.0.2.0/24"):
        assert key in text, f"{key} not in the {fmt} export:\n{text}"
    assert "::ffff:" not in text, text
    path = srv.data_file("\n".join(body) + "\n", f"export.{fmt}")
    r = srv.load(dst, path=path, fmt=fmt, replace=True)
    assert f"{path}:" not in r.stderr, r.stderr
    assert _export_body(srv, dst, fmt) == body
    for transport in t.TRANSPORTS:
        a_src, a_dst = _answers(srv, src, transport), _answers(srv, dst, transport)
        if fmt == "plain":
            a_src = {k: v[0] for k, v in a_src.items()}
            a_dst = {k: v[0] for k, v in a_dst.items()}
        diff = {k: (a_src[k], a_dst[k]) for k in a_src if a_src[k] != a_dst[k]}
        assert not diff, f"answers differ after the {fmt} round trip ({transport}): {diff}"
    if fmt != "plain":
        # the values made it through, not just the listing
        check_listed(srv, "udp", dst, nib("2001:21ab:def7:4242::9", dst), "127.0.1.3",
                     "This one smells funny")
        check_listed(srv, "tcp", dst, nib("2001:db8:b::1", dst), "127.0.0.6", None)


# --------------------------------------------------------------------------------------
# Bad IPv6 lines: file:line, the rest imported, exit codes

BAD_CASES = {
    "plain": ("""\
2001:db8:1::1
2001:db8:5::/129
2001:db8:5:::1
2001:db8:5::g
2001:db8:9::1/64
# a comment
!2001:db8:5::zz
2001:db8:5::/48
12345::1
1:2:3:4:5:6:7:8:9
2001:db8:6::/48 junk
""", [2, 3, 4, 5, 7, 9, 10, 11], [1, 8]),
    "rbldnsd": ("""\
:127.0.0.3:Default $
2001:db8:1::1
2001:db8:5::/129 :127.0.0.4:x
2001:db8:5:::1
2001:db8:5::g
2001:db8:9::1/64
!2001:db8:5::zz
2001:db8:5::/48 :127.0.0.5:ok
2001:db8:6::/200
1:2:3:4:5:6:7:8:9
""", [3, 4, 5, 6, 7, 9, 10], [1, 2, 8]),
    "csv": ("""\
ip,code
2001:db8:1::1,3
2001:db8:5::/129,3
zz::1,
2001:db8:9::1/64,
2001:db8:5::/48,5
"2001:db8:5:::1",3
""", [3, 4, 5, 7], [1, 2, 6]),
    "jsonl": ("""\
{"ip": "2001:db8:1::1", "code": 3}
{"ip": "2001:db8:5::/129"}
{"ip": "2001:db8:5:::1"}
{"ip": "2001:db8:9::1/64"}
{"ip": "2001:db8:5::/48", "code": 5}
{"ip": "!2001:db8:5::zz"}
""", [2, 3, 4, 6], [1, 5]),
}


@pytest.mark.parametrize("fmt", list(BAD_CASES))
def test_bad_ipv6_lines_reported(make_server, fmt):
    zone = "bad6.example"
    srv = _server(make_server, [zone])
    text, bad, good = BAD_CASES[fmt]
    path = srv.data_file(text, f"bad.{fmt}")
    r = srv.load(zone, path=path, fmt=fmt, expect=1)
    _assert_reported(r.stderr, path, bad, good)
    assert t.summary_count(r.stderr, "rejected") == len(bad), r.stderr
    srv.start()
    for transport in t.TRANSPORTS:
        for addr in ("2001:db8:1::1", "2001:db8:5::", "2001:db8:5::1",
                     "2001:db8:5:ffff:ffff:ffff:ffff:ffff"):
            r = srv.ask(nib(addr, zone), "A", transport)
            assert r.rcode() == dns.rcode.NOERROR and t.a_values(r), \
                f"{addr} not listed ({transport})" + t.describe(r)
        # nothing of the bad lines got in (no /64 from "2001:db8:9::1/64", no /48 from a
        # line with junk after it, no other prefix from a bad length)
        for addr in ("2001:db8:9::", "2001:db8:9::2", "2001:db8:6::1", "2001:db8:4::1",
                     "2001:db8::"):
            assert_nx(srv.ask(nib(addr, zone), "A", transport), zone)
    # a file in which no line is valid: exit 2, nothing imported
    path = srv.data_file("2001:db8:7::/129\n2001:db8:7:::1\n" if fmt in ("plain", "rbldnsd")
                         else ("ip\n2001:db8:7::/129\n" if fmt == "csv"
                               else '{"ip": "2001:db8:7::/129"}\n'), f"allbad.{fmt}")
    r = srv.load(zone, path=path, fmt=fmt, expect=2)
    assert f"{path}:" in r.stderr, r.stderr
    assert_nx(srv.ask(nib("2001:db8:7::", zone), "A", "udp"), zone)


# --------------------------------------------------------------------------------------
# dig, as in the README

def test_dig_ipv6_names(v6):
    """`dig +short` over UDP and TCP gives the A and TXT of nibble names."""
    name = nib("2001:21ab:def7:4242::1", R6)
    for tcp in ([], ["+tcp"]):
        base = ["dig", "+short", "+norec", "+time=2", "+tries=1", *tcp,
                "-p", str(v6.port), "@127.0.0.1"]
        out = subprocess.run(base + [name], capture_output=True, text=True, timeout=10)
        assert out.returncode == 0 and out.stdout.split() == ["127.0.1.3"], out
        out = subprocess.run(base + [name, "TXT"], capture_output=True, text=True, timeout=10)
        assert out.returncode == 0 and out.stdout.strip() == '"This one smells funny"', out
        out = subprocess.run(base + [nib(mapped("127.0.0.2"), E6), "TXT"],
                             capture_output=True, text=True, timeout=10)
        assert out.stdout.strip() == f'"{dflt("127.0.0.2")}"', out
        out = subprocess.run([b for b in base if b != "+short"] + [nib("2001:db8::7", P6)],
                             capture_output=True, text=True, timeout=10)
        assert "status: NXDOMAIN" in out.stdout and "flags: qr aa" in out.stdout, out.stdout
