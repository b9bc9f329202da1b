"""The DNS behaviour checklist (design.md), over UDP and TCP, against the standard data."""

import socket
import struct

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

import dnsbltest as t
from dnsbltest import rev

# (zone, ip, A, TXT or None when the entry answers no TXT)
LISTED = [
    # rbldnsd file with a ":127.0.0.7:..." default line
    ("bl.example", "192.0.2.1", "127.0.0.7", "Default text for 192.0.2.1 from the file"),
    ("bl.example", "192.0.2.2", "127.0.0.3", "Open relay at 192.0.2.2"),
    ("bl.example", "192.0.2.3", "127.0.0.4", "Default text for 192.0.2.3 from the file"),
    ("bl.example", "192.0.2.4", "127.0.0.5", None),
    ("bl.example", "192.0.2.5", "127.0.0.7", "Trap hit, ask $ about 192.0.2.5"),
    ("bl.example", "198.51.100.0", "127.0.0.3", "Snowshoe range"),
    ("bl.example", "198.51.100.6", "127.0.0.3", "Snowshoe range"),
    ("bl.example", "198.51.100.8", "127.0.0.3", "Snowshoe range"),
    ("bl.example", "198.51.100.255", "127.0.0.3", "Snowshoe range"),
    ("bl.example", "198.51.100.9", "127.0.0.9", "Single host 198.51.100.9 inside the range"),
    ("bl.example", "203.0.113.0", "127.0.0.7", "Default text for 203.0.113.0 from the file"),
    ("bl.example", "203.0.113.77", "127.0.0.7", "Default text for 203.0.113.77 from the file"),
    ("bl.example", "203.0.113.255", "127.0.0.7", "Default text for 203.0.113.255 from the file"),
    ("bl.example", "198.18.0.0", "127.0.0.7", "Default text for 198.18.0.0 from the file"),
    ("bl.example", "198.18.0.15", "127.0.0.7", "Default text for 198.18.0.15 from the file"),
    ("bl.example", "10.20.0.1", "127.0.0.11", "Wide 10.20.0.1"),
    ("bl.example", "10.20.255.255", "127.0.0.11", "Wide 10.20.255.255"),
    ("bl.example", "10.20.30.1", "127.0.0.12", "Narrow 10.20.30.1"),
    ("bl.example", "10.20.30.41", "127.0.0.13", "Host 10.20.30.41"),
    # rbldnsd file without a default line: the zone's config supplies what is missing
    ("bl.example", "192.0.2.130", "127.0.0.6", "Listed, see https://bl.example/lookup?ip=192.0.2.130"),
    ("bl.example", "192.0.2.131", "127.0.0.2", "Own text only for 192.0.2.131"),
    ("bl.example", "192.0.2.132", "127.0.0.2", "Listed, see https://bl.example/lookup?ip=192.0.2.132"),
    # RFC 5782 test point: the zone's defaults
    ("bl.example", "127.0.0.2", "127.0.0.2", "Listed, see https://bl.example/lookup?ip=127.0.0.2"),
    # plain file: the zone's defaults
    ("pbl.example", "10.0.0.0", "127.0.0.10", "10.0.0.0 is in a dynamic range, see https://pbl.example/"),
    ("pbl.example", "10.1.2.3", "127.0.0.10", "10.1.2.3 is in a dynamic range, see https://pbl.example/"),
    ("pbl.example", "10.255.255.255", "127.0.0.10", "10.255.255.255 is in a dynamic range, see https://pbl.example/"),
    ("pbl.example", "172.16.0.0", "127.0.0.10", "172.16.0.0 is in a dynamic range, see https://pbl.example/"),
    ("pbl.example", "172.16.0.2", "127.0.0.10", "172.16.0.2 is in a dynamic range, see https://pbl.example/"),
    ("pbl.example", "172.31.255.255", "127.0.0.10", "172.31.255.255 is in a dynamic range, see https://pbl.example/"),
    ("pbl.example", "100.64.0.1", "127.0.0.10", "100.64.0.1 is in a dynamic range, see https://pbl.example/"),
    ("pbl.example", "127.0.0.2", "127.0.0.10", "127.0.0.2 is in a dynamic range, see https://pbl.example/"),
    # a zone never written to the store: test point only; "$$" is a literal "$"
    ("tl.example", "127.0.0.2", "127.0.0.20", "tl 127.0.0.2 listed, cost $5"),
]

NOT_LISTED = [
    ("bl.example", "192.0.2.6"),
    ("bl.example", "192.0.2.0"),
    ("bl.example", "198.51.100.7"),    # excluded inside a listed /24
    ("bl.example", "198.51.101.0"),
    ("bl.example", "198.51.99.255"),
    ("bl.example", "203.0.114.0"),
    ("bl.example", "203.0.112.255"),
    ("bl.example", "198.18.0.16"),     # just past the range
    ("bl.example", "198.17.255.255"),  # just before it
    ("bl.example", "10.20.30.40"),     # excluded inside a /24 inside a /16
    ("bl.example", "10.21.0.0"),
    ("bl.example", "10.1.2.3"),        # pbl.example data is not bl.example's
    ("bl.example", "127.0.0.1"),       # RFC 5782 negative test point
    ("bl.example", "127.0.0.3"),
    ("bl.example", "0.0.0.1"),
    ("bl.example", "255.255.255.255"),
    ("pbl.example", "172.16.0.1"),     # excluded
    ("pbl.example", "172.32.0.0"),
    ("pbl.example", "172.15.255.255"),
    ("pbl.example", "11.0.0.0"),
    ("pbl.example", "100.64.0.2"),
    ("pbl.example", "192.0.2.1"),
    ("pbl.example", "127.0.0.1"),
    ("tl.example", "127.0.0.1"),
    ("tl.example", "192.0.2.1"),
]

MALFORMED = [
    "256.0.0.127.bl.example",
    "2.0.0.256.bl.example",
    "a.0.0.127.bl.example",
    "2.0.0.x.bl.example",
    "01.0.0.127.bl.example",       # leading zero
    "2.0.0.0127.bl.example",
    "2.00.0.127.bl.example",
    "1000.0.0.127.bl.example",
    "-1.0.0.127.bl.example",
    "+2.0.0.127.bl.example",
    "0x2.0.0.127.bl.example",
    "2a.0.0.127.bl.example",
    "1.2.0.0.127.bl.example",      # five numeric labels
    "1.2.0.0.127.pbl.example",
    "foo.2.0.0.127.bl.example",    # something below a listed address
    "www.bl.example",
    "x.0.0.127.bl.example",
    "1.1.1.1.1.1.1.1.bl.example",
]

# Partial names with something listed below them: empty non-terminals (RFC 8020).
EMPTY_NON_TERMINALS = [
    "0.0.127.bl.example",
    "0.127.bl.example",
    "127.bl.example",
    "2.0.192.bl.example",
    "0.192.bl.example",
    "192.bl.example",
    "100.51.198.bl.example",
    "51.198.bl.example",
    "113.0.203.bl.example",
    "0.18.198.bl.example",
    "20.10.bl.example",
    "30.20.10.bl.example",
    "10.pbl.example",
    "5.4.10.pbl.example",          # inside a listed /8
    "16.172.pbl.example",
    "0.16.172.pbl.example",
    "0.0.127.pbl.example",
    "127.tl.example",
    "0.0.127.tl.example",
]

# Partial names with nothing below them.
EMPTY_PARTIALS = [
    "99.99.bl.example",
    "99.bl.example",
    "1.0.127.bl.example",
    "3.0.192.bl.example",
    "52.51.198.bl.example",
    "19.198.bl.example",
    "11.pbl.example",
    "32.172.pbl.example",
    "1.0.127.tl.example",
    "2.0.192.tl.example",
]

OUT_OF_ZONE = [
    "example.com",
    "bl.example.org",
    "2.0.0.127.bl.example.org",
    "example",
    "xbl.example",
    "2.0.0.127.xbl.example",
    "org",
    ".",
]


@pytest.mark.parametrize("zone,ip,a,txt", LISTED, ids=[f"{z}:{ip}" for z, ip, _, _ in LISTED])
def test_listed_a(std, transport, zone, ip, a, txt):
    qname = rev(ip, zone)
    t.assert_listed_a(std.ask(qname, "A", transport), zone, qname, a)


@pytest.mark.parametrize("zone,ip,a,txt", LISTED, ids=[f"{z}:{ip}" for z, ip, _, _ in LISTED])
def test_listed_txt(std, transport, zone, ip, a, txt):
    qname = rev(ip, zone)
    r = std.ask(qname, "TXT", transport, use_edns=0)  # the long TXT needs EDNS over UDP
    if txt is None:
        t.assert_nodata(r, zone)
    else:
        t.assert_listed_txt(r, zone, qname, txt)


@pytest.mark.parametrize("zone,ip", NOT_LISTED, ids=[f"{z}:{ip}" for z, ip in NOT_LISTED])
@pytest.mark.parametrize("qtype", ["A", "TXT"])
def test_not_listed(std, transport, zone, ip, qtype):
    t.assert_nxdomain(std.ask(rev(ip, zone), qtype, transport), zone)


@pytest.mark.parametrize("qname", MALFORMED)
def test_malformed_ip_labels_nxdomain(std, transport, qname):
    zone = "pbl.example" if qname.endswith("pbl.example") else "bl.example"
    t.assert_nxdomain(std.ask(qname, "A", transport), zone)


@pytest.mark.parametrize("qname", EMPTY_NON_TERMINALS)
@pytest.mark.parametrize("qtype", ["A", "TXT"])
def test_empty_non_terminal_nodata(std, transport, qname, qtype):
    zone = qname.split(".", qname.count(".") - 1)[-1]
    t.assert_nodata(std.ask(qname, qtype, transport), zone)


@pytest.mark.parametrize("qname", EMPTY_PARTIALS)
def test_empty_partial_nxdomain(std, transport, qname):
    zone = qname.split(".", qname.count(".") - 1)[-1]
    t.assert_nxdomain(std.ask(qname, "A", transport), zone)


@pytest.mark.parametrize("qtype", ["AAAA", "MX", "NS", "SOA", "CNAME", "PTR", "SRV", "CAA"])
def test_listed_other_type_nodata(std, transport, qtype):
    t.assert_nodata(std.ask(rev("192.0.2.1", "bl.example"), qtype, transport), "bl.example")
    t.assert_nodata(std.ask(rev("10.9.8.7", "pbl.example"), qtype, transport), "pbl.example")


def test_listed_without_txt_other_type(std, transport):
    # ":5:" entry: A yes, TXT no, AAAA no
    qname = rev("192.0.2.4", "bl.example")
    t.assert_nodata(std.ask(qname, "TXT", transport), "bl.example")
    t.assert_nodata(std.ask(qname, "AAAA", transport), "bl.example")


# ---- apex

@pytest.mark.parametrize("zone", list(t.ZONES))
def test_apex_soa(std, transport, zone):
    r = std.ask(zone, "SOA", transport)
    assert r.rcode() == dns.rcode.NOERROR, t.describe(r)
    assert r.flags & dns.flags.AA
    rs = t.rrsets(r, "answer", "SOA")
    assert len(rs) == 1 and len(rs[0]) == 1, t.describe(r)
    assert rs[0].name == dns.name.from_text(zone)
    assert rs[0].ttl == t.ZONES[zone]["ttl"], t.describe(r)
    t.check_soa_rdata(rs[0][0], zone)
    assert t.n_records(r) == 1, t.describe(r)


@pytest.mark.parametrize("zone", list(t.ZONES))
def test_apex_ns(std, transport, zone):
    r = std.ask(zone, "NS", transport)
    assert r.rcode() == dns.rcode.NOERROR, t.describe(r)
    assert r.flags & dns.flags.AA
    rs = t.rrsets(r, "answer", "NS")
    assert len(rs) == 1, t.describe(r)
    assert rs[0].name == dns.name.from_text(zone)
    assert rs[0].ttl == t.ZONES[zone]["ttl"], t.describe(r)
    want = {dns.name.from_text(n) for n in t.ZONES[zone]["ns"].split()}
    assert {rd.target for rd in rs[0]} == want, t.describe(r)
    assert len(rs[0]) == len(want)
    assert t.n_records(r) == len(want), t.describe(r)


@pytest.mark.parametrize("zone", list(t.ZONES))
@pytest.mark.parametrize("qtype", ["A", "TXT", "AAAA", "MX"])
def test_apex_other_types_nodata(std, transport, zone, qtype):
    t.assert_nodata(std.ask(zone, qtype, transport), zone)


def test_apex_soa_serials_are_per_zone_and_positive(std, transport):
    # bl.example and pbl.example have been written; their serial is the store's.
    for zone in ("bl.example", "pbl.example"):
        assert t.soa_serial(std, zone, transport) > 0


# ---- out of zone, case, class

@pytest.mark.parametrize("qname", OUT_OF_ZONE)
@pytest.mark.parametrize("qtype", ["A", "SOA"])
def test_out_of_zone_refused(std, transport, qname, qtype):
    r = std.ask(qname, qtype, transport)
    assert r.rcode() == dns.rcode.REFUSED, t.describe(r)
    assert t.n_records(r) == 0, t.describe(r)


@pytest.mark.parametrize("qname,qtype,rcode", [
    ("2.0.0.127.BL.Example", "A", dns.rcode.NOERROR),
    ("2.0.0.127.bl.EXAMPLE", "TXT", dns.rcode.NOERROR),
    ("1.0.0.127.Bl.ExAmPlE", "A", dns.rcode.NXDOMAIN),
    ("0.0.127.bL.eXaMpLe", "A", dns.rcode.NOERROR),
    ("BL.EXAMPLE", "SOA", dns.rcode.NOERROR),
    ("Example.COM", "A", dns.rcode.REFUSED),
])
def test_qname_case_echoed(std, transport, qname, qtype, rcode):
    q = dns.message.make_query(qname, qtype)
    wire = q.to_wire()
    resp = std.raw(wire, transport)
    assert resp is not None, "no answer"
    qlen = len(t.encode_name(qname)) + 4
    assert resp[12:12 + qlen] == wire[12:12 + qlen], (resp[12:12 + qlen], wire[12:12 + qlen])
    r = dns.message.from_wire(resp)
    assert r.id == q.id
    assert r.rcode() == rcode, t.describe(r)
    if qtype == "A" and rcode == dns.rcode.NOERROR and qname.startswith("2."):
        assert t.a_values(r) == {"127.0.0.2"}


@pytest.mark.parametrize("rdclass", ["CH", "HS", "NONE", "CLASS42"])
@pytest.mark.parametrize("qname,qtype", [
    ("2.0.0.127.bl.example", "A"),
    ("bl.example", "SOA"),
    ("version.bind", "TXT"),
])
def test_non_in_class_refused(std, transport, rdclass, qname, qtype):
    r = std.ask(qname, qtype, transport, rdclass=rdclass)
    assert r.rcode() == dns.rcode.REFUSED, t.describe(r)
    assert t.n_records(r) == 0, t.describe(r)


# ---- RFC 5782 test points

@pytest.mark.parametrize("zone", list(t.ZONES))
def test_rfc5782_test_points(std, transport, zone):
    z = t.ZONES[zone]
    q2 = rev("127.0.0.2", zone)
    t.assert_listed_a(std.ask(q2, "A", transport), zone, q2, z["a"])
    txt = z["txt"].replace("$$", "\0").replace("$", "127.0.0.2").replace("\0", "$")
    t.assert_listed_txt(std.ask(q2, "TXT", transport), zone, q2, txt)
    t.assert_nxdomain(std.ask(rev("127.0.0.1", zone), "A", transport), zone)
    t.assert_nxdomain(std.ask(rev("127.0.0.1", zone), "TXT", transport), zone)


@pytest.mark.parametrize("zone", ["bl.example", "tl.example"])
def test_rfc5782_ipv6_test_points(std, transport, zone):
    # design.md: IPv6 test points ::FFFF:7F00:2 listed, ::FFFF:7F00:1 not
    z = t.ZONES[zone]
    q2 = t.rev6("::ffff:7f00:2", zone)
    t.assert_listed_a(std.ask(q2, "A", transport), zone, q2, z["a"])
    t.assert_nxdomain(std.ask(t.rev6("::ffff:7f00:1", zone), "A", transport), zone)


# ---- TXT strings, ANY

def test_long_txt_is_split_into_strings(std, transport):
    qname = rev("192.0.2.200", "bl.example")
    r = std.ask(qname, "TXT", transport, use_edns=0, payload=4096)
    assert r.rcode() == dns.rcode.NOERROR, t.describe(r)
    assert not r.flags & dns.flags.TC
    rs = t.rrsets(r, "answer", "TXT")
    assert len(rs) == 1 and len(rs[0]) == 1, t.describe(r)
    strings = rs[0][0].strings
    assert len(strings) >= 3, [len(s) for s in strings]
    assert all(0 < len(s) <= 255 for s in strings), [len(s) for s in strings]
    assert b"".join(strings).decode() == t.LONG_TXT
    t.assert_listed_a(std.ask(qname, "A", transport), "bl.example", qname, "127.0.0.2")


@pytest.mark.parametrize("ip", ["192.0.2.2", "192.0.2.200", "127.0.0.2", "192.0.2.4"])
def test_any_small_answer(std, transport, ip):
    qname = rev(ip, "bl.example")
    a = t.a_values(std.ask(qname, "A", transport))
    r = std.ask(qname, "ANY", transport)  # no EDNS: must fit in 512 bytes
    assert r.rcode() == dns.rcode.NOERROR, t.describe(r)
    assert r.flags & dns.flags.AA
    assert not r.flags & dns.flags.TC, t.describe(r)
    assert 1 <= t.n_records(r) <= 2, t.describe(r)
    assert t.a_values(r) == a, t.describe(r)
    for rs in r.answer:
        assert rs.rdtype in (dns.rdatatype.A, dns.rdatatype.HINFO), t.describe(r)


def test_any_not_listed(std, transport):
    t.assert_nxdomain(std.ask(rev("192.0.2.6", "bl.example"), "ANY", transport), "bl.example")


@pytest.mark.parametrize("zone", ["bl.example", "pbl.example"])
def test_any_at_apex_is_soa_only(std, transport, zone):
    r = std.ask(zone, "ANY", transport)
    assert r.rcode() == dns.rcode.NOERROR, t.describe(r)
    assert r.flags & dns.flags.AA
    assert len(r.answer) == 1 and r.answer[0].rdtype == dns.rdatatype.SOA, t.describe(r)
    assert t.n_records(r) == 1
    t.check_soa_rdata(r.answer[0][0], zone)


# ---- header details

def test_response_header(std, transport):
    q = dns.message.make_query(rev("192.0.2.1", "bl.example"), "A")
    r = std.send(q, transport)
    assert r.id == q.id
    assert r.flags & dns.flags.QR
    assert r.opcode() == dns.opcode.QUERY
    assert not r.flags & dns.flags.RA, "an authoritative-only server does not offer recursion"
    assert len(r.question) == 1


def test_no_recursion_desired_is_answered(std, transport):
    q = dns.message.make_query(rev("192.0.2.1", "bl.example"), "A", flags=0)
    r = std.send(q, transport)
    t.assert_listed_a(r, "bl.example", rev("192.0.2.1", "bl.example"), "127.0.0.7")


# ---- IPv6 loopback listener

def test_ipv6_loopback_listener(make_server):
    srv = make_server(v6=True, standard=True, start=True)
    qname = rev("192.0.2.2", "bl.example")
    r6 = dns.query.udp(dns.message.make_query(qname, "A"), "::1", port=srv.port, timeout=t.TIMEOUT)
    t.assert_listed_a(r6, "bl.example", qname, "127.0.0.3")
    r6t = dns.query.tcp(dns.message.make_query(qname, "TXT"), "::1", port=srv.port,
                        timeout=t.TIMEOUT)
    t.assert_listed_txt(r6t, "bl.example", qname, "Open relay at 192.0.2.2")
    t.assert_listed_a(srv.ask(qname, "A"), "bl.example", qname, "127.0.0.3")


# ---- details of longest-prefix matching, empty non-terminals and "$" expansion

def test_empty_non_terminals_respect_exclusions(make_server, transport):
    srv = make_server()
    srv.load("bl.example", "10.20.0.0/16 :127.0.0.11:Wide $\n!10.20.30.0/24\n"
             "!10.21.0.0/16\n10.21.5.5\n!198.18.0.0-198.18.0.3\n198.18.0.0/24\n",
             fmt="rbldnsd")
    srv.start()
    z = "bl.example"
    ask = lambda name: srv.ask(name, "A", transport)  # noqa: E731
    t.assert_nxdomain(ask("30.20.10.bl.example"), z)      # wholly excluded /24
    t.assert_nodata(ask("31.20.10.bl.example"), z)        # inside the listed /16
    t.assert_nodata(ask("20.10.bl.example"), z)
    t.assert_nodata(ask("21.10.bl.example"), z)           # excluded /16 with a listed host
    t.assert_nxdomain(ask("0.21.10.bl.example"), z)
    t.assert_nodata(ask("5.21.10.bl.example"), z)
    t.assert_listed_a(ask(rev("10.21.5.5", z)), z, rev("10.21.5.5", z), "127.0.0.2")
    t.assert_nxdomain(ask(rev("10.21.5.6", z)), z)
    t.assert_nxdomain(ask(rev("10.20.30.1", z)), z)
    t.assert_listed_a(ask(rev("10.20.31.1", z)), z, rev("10.20.31.1", z), "127.0.0.11")
    for ip in ("198.18.0.0", "198.18.0.3"):
        t.assert_nxdomain(ask(rev(ip, z)), z)
    t.assert_listed_a(ask(rev("198.18.0.4", z)), z, rev("198.18.0.4", z), "127.0.0.2")


def test_zero_address_is_ipv6_empty_non_terminal(std, transport):
    # 0.0.0.0.bl.example reads as IPv4 0.0.0.0 (not listed) and as the IPv6 nibble
    # prefix 0000::/16, above the RFC 5782 IPv6 test point ::ffff:127.0.0.2, so it
    # is an empty non-terminal (RFC 8020): NODATA, never an A record.
    t.assert_nodata(std.ask("0.0.0.0.bl.example", "A", transport), "bl.example")


def test_txt_template_too_many_substitutions(make_server):
    srv = make_server()
    res = srv.load("bl.example", "192.0.2.13 :127.0.0.2:" + "$ " * 17 + "\n192.0.2.14\n",
                   fmt="rbldnsd", expect=1)
    assert ":1: TXT has more than 16 '$' substitutions" in res.stderr


def test_txt_expansion(make_server, transport):
    srv = make_server()
    long_tpl = "x" * 250 + " $"
    srv.load("bl.example", f"192.0.2.10 :127.0.0.2:{long_tpl}\n"
             "192.0.2.11 :127.0.0.2:a$$$b$$c$\n"
             "192.0.2.12 :127.0.0.2:$$\n"
             "192.0.2.13 :127.0.0.2:$ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $\n",
             fmt="rbldnsd")
    srv.start()
    z = "bl.example"
    cases = {
        "192.0.2.10": long_tpl.replace("$", "192.0.2.10"),   # over 255 only after expansion
        "192.0.2.11": "a$192.0.2.11b$c192.0.2.11",
        "192.0.2.12": "$",
        "192.0.2.13": " ".join(["192.0.2.13"] * 16),   # the most "$" a template may have
    }
    for ip, want in cases.items():
        r = srv.ask(rev(ip, z), "TXT", transport, use_edns=0)
        t.assert_listed_txt(r, z, rev(ip, z), want)
    strings = t.rrsets(srv.ask(rev("192.0.2.10", z), "TXT", transport, use_edns=0),
                       "answer", "TXT")[0][0].strings
    assert [len(s) for s in strings] == [255, len(cases["192.0.2.10"]) - 255]
