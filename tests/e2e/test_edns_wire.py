"""EDNS0, truncation, opcodes, header checks and malformed packets."""

import random
import struct

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import pytest

import dnsbltest as t
from dnsbltest import rev

LISTED = rev("192.0.2.2", "bl.example")
LONG = rev("192.0.2.200", "bl.example")


def _parse(resp):
    assert resp is not None, "no answer"
    return dns.message.from_wire(resp)


# ---- EDNS0

@pytest.mark.parametrize("qname,qtype,rcode", [
    (LISTED, "A", dns.rcode.NOERROR),
    (LISTED, "TXT", dns.rcode.NOERROR),
    (rev("192.0.2.6", "bl.example"), "A", dns.rcode.NXDOMAIN),
    (LISTED, "AAAA", dns.rcode.NOERROR),
    ("bl.example", "SOA", dns.rcode.NOERROR),
    ("example.com", "A", dns.rcode.REFUSED),
])
@pytest.mark.parametrize("payload", [4096, 1232, 512, 100])
def test_edns_echoes_our_size(std, transport, qname, qtype, rcode, payload):
    r = std.ask(qname, qtype, transport, use_edns=0, payload=payload)
    assert r.rcode() == rcode, t.describe(r)
    assert r.edns == 0, "no OPT (version 0) in the answer" + t.describe(r)
    assert r.payload == t.OUR_EDNS_SIZE, t.describe(r)


@pytest.mark.parametrize("qname,qtype,rcode", [
    (LISTED, "A", dns.rcode.NOERROR),
    (rev("192.0.2.6", "bl.example"), "A", dns.rcode.NXDOMAIN),
    (LISTED, "AAAA", dns.rcode.NOERROR),
    ("bl.example", "NS", dns.rcode.NOERROR),
    ("example.com", "A", dns.rcode.REFUSED),
])
def test_no_edns_no_opt(std, transport, qname, qtype, rcode):
    q = dns.message.make_query(qname, qtype)
    resp = std.raw(q.to_wire(), transport)
    r = _parse(resp)
    assert r.rcode() == rcode
    assert r.edns == -1, "OPT in an answer to a query without one" + t.describe(r)
    assert t.header(resp)[5] == 0, "ARCOUNT != 0"


def test_edns_unknown_option_ignored(std, transport):
    opt = dns.edns.GenericOption(65001, b"hello")
    r = std.ask(LISTED, "A", transport, use_edns=0, options=[opt])
    t.assert_listed_a(r, "bl.example", LISTED, "127.0.0.3")
    assert r.edns == 0


@pytest.mark.parametrize("qname", [LISTED, "bl.example", "example.com"])
def test_edns_version_1_badvers(std, transport, qname):
    q = dns.message.make_query(qname, "A")
    qid, flags, qd, an, ns, ar = t.header(q.to_wire())
    wire = struct.pack("!HHHHHH", qid, flags, qd, an, ns, 1) + q.to_wire()[12:] + \
        t.opt_rr(1232, version=1)
    resp = std.raw(wire, transport)
    r = _parse(resp)
    assert r.id == q.id
    assert r.flags & dns.flags.QR
    assert r.rcode() == dns.rcode.BADVERS, f"rcode {r.rcode()}" + t.describe(r)
    assert r.edns == 0, "BADVERS needs an OPT (version 0) to carry the extended rcode"
    assert t.n_records(r) == 0, t.describe(r)


def test_two_opt_records_formerr(std, transport):
    q = dns.message.make_query(LISTED, "A", use_edns=0)
    wire = q.to_wire()
    qid, flags, qd, an, ns, ar = t.header(wire)
    assert ar == 1
    wire = struct.pack("!HHHHHH", qid, flags, qd, an, ns, 2) + wire[12:] + t.opt_rr(1232)
    r = _parse(std.raw(wire, transport))
    assert r.id == qid
    assert r.rcode() == dns.rcode.FORMERR, t.describe(r)
    assert t.n_records(r) == 0


def test_opt_with_non_root_owner_formerr(std, transport):
    body = t.question(LISTED) + t.opt_rr(1232, owner=t.encode_name("bl.example"))
    wire = t.raw_query(0x4242, body, ar=1)
    r = _parse(std.raw(wire, transport))
    assert r.id == 0x4242
    assert r.rcode() == dns.rcode.FORMERR, t.describe(r)


# ---- truncation

def test_long_txt_udp_without_edns_truncated(std):
    q = dns.message.make_query(LONG, "TXT")
    resp = std.raw_udp(q.to_wire())
    assert resp is not None
    assert len(resp) <= 512
    qid, flags, qd, an, ns, ar = t.header(resp)
    assert qid == q.id
    assert flags & dns.flags.TC, "TC not set"
    assert an == 0, "answer records in a truncated answer"
    assert (flags & 0xF) == dns.rcode.NOERROR


@pytest.mark.parametrize("payload", [512, 600])
def test_long_txt_udp_small_edns_truncated(std, payload):
    q = dns.message.make_query(LONG, "TXT", use_edns=0, payload=payload)
    resp = std.raw_udp(q.to_wire())
    assert resp is not None
    assert len(resp) <= payload
    r = _parse(resp)
    assert r.flags & dns.flags.TC, "TC not set" + t.describe(r)
    assert len(r.answer) == 0, t.describe(r)
    assert r.edns == 0, "truncated EDNS answer lost its OPT"


@pytest.mark.parametrize("payload", [700, 1232, 4096])
def test_long_txt_udp_edns_fits(std, payload):
    r = std.ask(LONG, "TXT", "udp", use_edns=0, payload=payload)
    assert not r.flags & dns.flags.TC, t.describe(r)
    t.assert_listed_txt(r, "bl.example", LONG, t.LONG_TXT)
    assert r.edns == 0 and r.payload == t.OUR_EDNS_SIZE


def test_long_txt_tcp_full(std):
    r = std.ask(LONG, "TXT", "tcp")
    assert not r.flags & dns.flags.TC, t.describe(r)
    t.assert_listed_txt(r, "bl.example", LONG, t.LONG_TXT)
    assert r.edns == -1


def test_long_txt_a_still_fits_udp(std):
    r = std.ask(LONG, "A", "udp")
    assert not r.flags & dns.flags.TC
    t.assert_listed_a(r, "bl.example", LONG, "127.0.0.2")


# ---- opcodes and header

@pytest.mark.parametrize("opcode", [dns.opcode.IQUERY, dns.opcode.STATUS, dns.opcode.NOTIFY,
                                    dns.opcode.UPDATE, 3, 15])
def test_other_opcodes_notimp(std, transport, opcode):
    q = dns.message.make_query(LISTED, "A")
    q.set_opcode(opcode)
    wire = q.to_wire()
    assert (t.header(wire)[1] >> 11) & 0xF == opcode
    resp = std.raw(wire, transport)
    assert resp is not None, "no answer"
    qid, flags, *_ = t.header(resp)
    assert qid == q.id
    assert flags & dns.flags.QR
    assert (flags & 0xF) == dns.rcode.NOTIMP, f"rcode {flags & 0xF}"
    assert (flags >> 11) & 0xF == opcode, "opcode not copied into the answer"
    assert t.header(resp)[3] == 0, "answer records with NOTIMP"


def test_qdcount_zero_formerr(std, transport):
    resp = std.raw(t.raw_query(0x1111, b"", qd=0), transport)
    assert resp is not None, "no answer"
    qid, flags, qd, an, ns, ar = t.header(resp)
    assert qid == 0x1111 and flags & dns.flags.QR
    assert (flags & 0xF) == dns.rcode.FORMERR, f"rcode {flags & 0xF}"
    assert an == 0


def test_qdcount_two_formerr(std, transport):
    body = t.question(LISTED) + t.question(rev("192.0.2.1", "bl.example"))
    resp = std.raw(t.raw_query(0x2222, body, qd=2), transport)
    assert resp is not None, "no answer"
    qid, flags, qd, an, ns, ar = t.header(resp)
    assert qid == 0x2222 and flags & dns.flags.QR
    assert (flags & 0xF) == dns.rcode.FORMERR, f"rcode {flags & 0xF}"
    assert an == 0


def test_response_packets_dropped(std, transport):
    q = dns.message.make_query(LISTED, "A")
    wire = bytearray(q.to_wire())
    wire[2] |= 0x80  # QR
    assert std.raw(bytes(wire), transport, timeout=0.5) is None, "answered a response"
    std.assert_alive()


# ---- malformed packets: FORMERR or silence, and the server lives on

def _malformed_cases():
    h = lambda body, **kw: t.raw_query(0x5a5a, body, **kw)  # noqa: E731
    qtc = struct.pack("!HH", 1, 1)
    name = t.encode_name(LISTED)
    return {
        "header-only": h(b""),
        "name-unterminated": h(b"\x03abc"),
        "label-past-end": h(b"\x3fab"),
        "no-qtype": h(name),
        "half-qtype": h(name + b"\x00"),
        "pointer-loop": h(b"\xc0\x0c" + qtc),
        "pointer-chain-loop": h(b"\xc0\x0e\xc0\x0c" + qtc),
        "pointer-into-header": h(b"\xc0\x00" + qtc),
        "pointer-past-end": h(b"\xc0\xff" + qtc),
        "label-type-0x40": h(b"\x41" + b"a" * 1 + b"\x00" + qtc),
        "label-type-0x80": h(b"\x81a\x00" + qtc),
        "name-too-long": h((b"\x3f" + b"1" * 63) * 4 + b"\x00" + qtc),
        "ancount-1-missing": h(t.question(LISTED), an=1),
        "arcount-1-missing": h(t.question(LISTED), ar=1),
        "arcount-1-truncated-opt": h(t.question(LISTED) + t.opt_rr()[:6], ar=1),
        "opt-rdlen-past-end": h(t.question(LISTED) + t.opt_rr(rdata=b"\x00\x0a\x00\x02ab")[:-3],
                                ar=1),
        "short-3-bytes": b"\x5a\x5a\x01",
        "short-11-bytes": t.raw_query(0x5a5a, b"")[:11],
        "empty": b"",
    }


MALFORMED = _malformed_cases()


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_packet(std, transport, case):
    resp = std.raw(MALFORMED[case], transport, timeout=0.5)
    if resp is not None:
        assert len(resp) >= 12, resp
        qid, flags, qd, an, ns, ar = t.header(resp)
        assert flags & dns.flags.QR
        assert qid == 0x5a5a
        assert (flags & 0xF) == dns.rcode.FORMERR, f"rcode {flags & 0xF}"
        assert an == 0
    std.assert_alive()


def test_garbage_packets(std, transport):
    rng = random.Random(5782)
    for i in range(40):
        n = rng.choice([1, 2, 5, 12, 13, 17, 30, 64, 200, 511, 600])
        data = bytearray(rng.getrandbits(8) for _ in range(n))
        if n >= 3:
            data[2] &= 0x7F  # a query, so that it is worth parsing
        resp = std.raw(bytes(data), transport, timeout=0.1)
        if resp is not None:
            assert len(resp) >= 12
            assert t.header(resp)[1] & dns.flags.QR
            assert resp[:2] == bytes(data[:2])
    std.assert_alive()


# ---- odd but well-formed names

def test_label_containing_dots_is_not_an_address(std, transport):
    body = bytes([9]) + b"2.0.0.127" + t.encode_name("bl.example") + struct.pack("!HH", 1, 1)
    r = _parse(std.raw(t.raw_query(0x0707, body), transport))
    t.assert_nxdomain(r, "bl.example")


def test_longest_name_in_zone(std, transport):
    name = ".".join(["a" * 63] * 3 + ["b" * 47]) + ".bl.example"
    assert len(t.encode_name(name)) == 252
    r = _parse(std.raw(t.raw_query(0x0808, t.question(name)), transport))
    t.assert_nxdomain(r, "bl.example")


def test_binary_label_bytes(std, transport):
    body = b"\x03\x00\xff\x01" + t.encode_name("bl.example") + struct.pack("!HH", 1, 1)
    r = _parse(std.raw(t.raw_query(0x0909, body), transport))
    t.assert_nxdomain(r, "bl.example")
