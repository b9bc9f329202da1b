"""Helpers shared by the test_zones_*.py files: servers made of a file's own zones
(a CONF dict of name -> config keys) and answer checks that take the TTLs from it."""

import dns.flags
import dns.name
import dns.rcode

import dnsbltest as t

STD_KEYS = ("type", "policy", "ttl", "a", "txt", "soa", "ns")


def need(cond, msg):
    """assert without pytest's rewriting (results are collected into one failure)."""
    if not cond:
        raise AssertionError(msg)


def assert_reported(stderr, path, bad, good=()):
    """The loader's stderr names each line number in bad as "path:N: ...", and none
    in good."""
    for n in bad:
        assert f"{path}:{n}: " in stderr, f"line {n} not reported as '{path}:{n}: ...':\n{stderr}"
    for n in good:
        assert f"{path}:{n}:" not in stderr, f"good line {n} reported:\n{stderr}"


def export_body(srv, zone, fmt):
    """The export without its comment lines (the header names the zone and time)."""
    text = t.export_text(srv, zone, fmt)
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def section(name, keys):
    lines = ["", f"[zone {name}]"] + [f"{k} = {v}" for k, v in keys.items() if v is not None]
    return "\n".join(lines) + "\n"


class Zones:
    """The zones conf (name -> keys), whose SOAs all have minimum soa_min."""

    def __init__(self, conf, soa_min):
        self.conf = conf
        self.soa_min = soa_min

    def zones_extra(self, names):
        """make_server's zones (the first zone, standard keys) and extra config text
        (its other keys, then the other zones' sections)."""
        conf, first = self.conf, names[0]
        zones = {first: {k: v for k, v in conf[first].items() if k in STD_KEYS}}
        extra = "".join(f"{k} = {v}\n" for k, v in conf[first].items() if k not in STD_KEYS)
        for n in names[1:]:
            extra += section(n, conf[n])
        return zones, extra

    def server(self, make_server, names):
        zones, extra = self.zones_extra(names)
        return make_server(zones=zones, extra=extra)

    def negative(self, resp, zone, rcode):
        what = t.describe(resp)
        need(resp.rcode() == rcode, f"rcode {dns.rcode.to_text(resp.rcode())}, expected "
                                    f"{dns.rcode.to_text(rcode)}" + what)
        need(resp.flags & dns.flags.AA, "AA not set" + what)
        need(t.n_records(resp) == 0, "records in the answer section" + what)
        soas = t.rrsets(resp, "authority", "SOA")
        need(len(soas) == 1 and len(soas[0]) == 1, "no single SOA in authority" + what)
        need(soas[0].name == dns.name.from_text(zone), "SOA of another zone" + what)
        need(soas[0].ttl == min(self.conf[zone]["ttl"], self.soa_min), "negative TTL" + what)

    def assert_nx(self, resp, zone):
        self.negative(resp, zone, dns.rcode.NXDOMAIN)

    def assert_nodata(self, resp, zone):
        self.negative(resp, zone, dns.rcode.NOERROR)

    def assert_answer(self, resp, zone, qname, rdtype, values):
        """NOERROR, AA, one RRset of rdtype owned by qname with exactly `values` (a
        list: each value once, any order), the zone's TTL, nothing else in the answer."""
        what = t.describe(resp)
        need(resp.rcode() == dns.rcode.NOERROR,
             f"rcode {dns.rcode.to_text(resp.rcode())}, expected {rdtype} {values}" + what)
        need(resp.flags & dns.flags.AA, "AA not set" + what)
        rs = t.rrsets(resp, "answer", rdtype)
        need(len(rs) == 1, f"not one {rdtype} RRset" + what)
        need(rs[0].name == dns.name.from_text(qname), "owner name" + what)
        ttl = self.conf[zone]["ttl"]
        need(rs[0].ttl == ttl, f"TTL {rs[0].ttl}, expected {ttl}" + what)
        got = sorted(t.a_values(resp)) if rdtype == "A" else sorted(t.txt_values(resp))
        need(got == sorted(values), f"{rdtype} {got}, expected {sorted(values)}" + what)
        need(t.n_records(resp) == len(values), f"{t.n_records(resp)} records, expected "
                                               f"{len(values)} (duplicates?)" + what)

    def assert_a(self, resp, zone, qname, addr):
        self.assert_answer(resp, zone, qname, "A", [addr])

    def assert_txt(self, resp, zone, qname, txt):
        self.assert_answer(resp, zone, qname, "TXT", [txt])
