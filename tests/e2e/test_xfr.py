"""Zone transfer to real secondaries: NSD 4.6 and Knot 3.2 pull every zone of a data set
made to break the mapping (mapdata.py) from dnsbld, and must then answer every sampled
name as dnsbld does: the same rcode, A set and TXT set, but for the deviations the
README documents, which are asserted as documented. Also: serials, who may transfer,
transfer_record_limit, the AXFR against `export --format zone` and `stats`, the master
file against nsd-checkzone and Knot, and a change reaching the secondaries.
"""

import collections
import concurrent.futures
import ipaddress
import os
import socket
import time

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rrset
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

import dnsbltest as t
import mapdata
import secondaries as sec

ZONES_XFR = ["ip.test", "wl.test", "two.test", "zen.test", "dom.test", "dwl.test",
             "dom2.test", "dzen.test", "dollar.test"]
WORKERS = 6
# the data set's seed: another one gives other prefixes, hosts and exclusions
SEED = int(os.environ.get("XFR_SEED", "5782"))


class World:
    """dnsbld serving the data set, and an NSD and a Knot secondary of every zone."""

    def __init__(self, tmp, fleet):
        self.data = mapdata.DataSet(SEED)
        self.dnsbl = fleet.add(t.Dnsbl(tmp / "dnsbld", zones=self.data.basic_zones()))
        extra = self.data.config_extra()
        self.dnsbl.config.write_text(t.config_text(
            "db", self.dnsbl.listen, {}, {"threads": 2, "allow_transfer": "127.0.0.1/32"})
            + extra)
        t0 = time.monotonic()
        self.data.load(self.dnsbl)
        self.dnsbl.start()
        t1 = time.monotonic()
        self.primary = (self.dnsbl.host, self.dnsbl.port)
        self.nsd = fleet.add(sec.Nsd(tmp / "nsd", ZONES_XFR, primary=self.primary))
        self.knot = fleet.add(sec.Knot(tmp / "knot", ZONES_XFR, primary=self.primary))
        self.nsd.start()
        self.knot.start()
        self.sync()
        self.cache = {}
        print(f"\nload {t1 - t0:.1f}s, secondaries in sync {time.monotonic() - t1:.1f}s")

    def serial(self, zone):
        return t.soa_serial(self.dnsbl, zone)

    def sync(self, timeout=20.0):
        """Waits until both secondaries hold dnsbld's serial of every zone. A zone that
        lags is refreshed at once: dnsbld answers SERVFAIL past 32 transfers at a time
        (XFR_MAX_ACTIVE), and NSD then waits ~20 s before it tries again."""
        want = {zone: self.serial(zone) for zone in ZONES_XFR}
        deadline = time.monotonic() + timeout
        for s in (self.nsd, self.knot):
            for zone in ZONES_XFR:
                while True:
                    got = s.wait_serial(zone, want[zone], 1.0)
                    if got == want[zone] or time.monotonic() > deadline:
                        break
                    s.refresh(zone)
                assert got == want[zone], (f"{s.kind} {zone}: serial {got}, dnsbld "
                                           f"{want[zone]}\n{s.output()[-4000:]}")

    def ask_dnsbl(self, name, rdtype):
        key = (name, rdtype)
        if key not in self.cache:
            self.cache[key] = sec.ask(self.dnsbl.host, self.dnsbl.port, name, rdtype)
        return self.cache[key]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with sec.Fleet() as fleet:
        w = World(tmp_path_factory.mktemp("xfr"), fleet)
        try:
            yield w
        finally:
            rc = w.dnsbl.stop()
            assert rc == 0, f"dnsbld exit {rc}\n{w.dnsbl.stderr_text()}"


# --------------------------------------------------------------------------------------
# Comparing answers

def summary(r):
    """(rcode text, A set, TXT set) of an answer."""
    a = frozenset(rd.address for rs in r.answer if rs.rdtype == dns.rdatatype.A for rd in rs)
    txt = frozenset(b"".join(rd.strings).decode("utf-8", "replace")
                    for rs in r.answer if rs.rdtype == dns.rdatatype.TXT for rd in rs)
    return dns.rcode.to_text(r.rcode()), a, txt


def name_covering_values(members, rel):
    """What a wildcard above a name could answer: the (A, TXT) of every "*.p" or ".p"
    listing with p above the name ("$" as written)."""
    out = set()
    for m in members:
        for e in m.entries:
            if not e.exclude and e.key[0] in "*." and rel.lower().endswith(e.key.lstrip("*")):
                a, txt = m.value(e)
                out.add((a, None if txt is None else txt.replace("$", e.key)))
    return out


def covering_values(data, zone, qname, tags):
    """What a wildcard above a partial or over-long name could answer: the (A, TXT)
    of every listing whose prefix covers the name's whole range ("$" as written)."""
    z = data.zones[zone]
    members = [data.zones[m] for m in z.members] if z.type == "combined" else [z]
    rel = qname[: -len(zone) - 1]
    if members[0].type == "name":
        return name_covering_values(members, rel)
    labels = rel.split(".")
    if mapdata.MALFORMED in tags:
        labels = labels[1:]  # the wildcard above the label dnsbld cannot read
    ranges = []
    if len(labels) > 32 or (len(labels) > 4 and all(len(x) == 1 for x in labels)):
        a = mapdata.ip_from_name(".".join(labels[-32:]))
        if a is not None:
            ranges.append(ipaddress.ip_network(a))
    if len(labels) > 4:
        a = mapdata.ip_from_name(".".join(labels[-4:]))
        if a is not None:
            ranges.append(ipaddress.ip_network(a))
    if len(labels) < 4:
        try:
            octets = [int(x) for x in reversed(labels)]
            if all(0 <= o <= 255 and str(o) == x for o, x in zip(octets, reversed(labels))):
                base = bytes(octets + [0] * (4 - len(octets)))
                ranges.append(ipaddress.ip_network((base, 8 * len(octets))))
        except ValueError:
            pass
    if len(labels) < 32 and all(len(x) == 1 and x in "0123456789abcdef" for x in labels):
        nib = "".join(reversed(labels)).ljust(32, "0")
        ranges.append(ipaddress.ip_network((int(nib, 16), 4 * len(labels))))
    out = set()
    for m in members:
        for rng in ranges:
            for e in m.model():
                if (e.exclude or e.net.version != rng.version or e.net.prefixlen > rng.prefixlen
                        or not rng.subnet_of(e.net)):
                    continue
                a, txt = m.value(e)
                out.add((a, None if txt is None else txt.replace("$", str(e.net))))
    return out


def judge(data, zone, qname, tags, rdtype, ours, theirs, secondary):
    """(verdict, text): "same" when the secondary answers as dnsbld, the tag of the
    documented deviation it shows, or "mismatch" and what differs."""
    mine, its = summary(ours), summary(theirs)
    if mine == its:
        return "same", None
    rc, a, txt = its
    if mapdata.DOLLAR in tags and rdtype == "TXT" and mine[0] == rc == "NOERROR":
        # each text is dnsbld's, or a wildcard's "$" as the entry is written
        written = data.txt_as_written(zone, qname)
        if written and len(txt) == len(mine[2]) and txt <= mine[2] | written and \
                txt & written:
            return mapdata.DOLLAR, None
    shape = {mapdata.PARTIAL, mapdata.OVERLONG, mapdata.MALFORMED} & tags
    if shape and rc == "NOERROR" and (a or txt):
        allowed = covering_values(data, zone, qname, tags)
        if rdtype == "A" and a and a <= {v[0] for v in allowed}:
            if len(data.zones[zone].members) > 0 or len(a) == 1:
                return "malformed" if mapdata.MALFORMED in tags else "wildcard", None
        if rdtype == "TXT" and txt and txt <= {v[1] for v in allowed if v[1] is not None}:
            return "malformed" if mapdata.MALFORMED in tags else "wildcard", None
    if shape and rdtype == "TXT" and its == ("NOERROR", frozenset(), frozenset()):
        # a wildcard of an entry without TXT (":N:") answers TXT with NODATA
        if any(v[1] is None for v in covering_values(data, zone, qname, tags)):
            return "malformed" if mapdata.MALFORMED in tags else "wildcard", None
    if mapdata.HINFO in tags and mine[0] == "NXDOMAIN" and its == ("NOERROR", set(), set()):
        h = secondary.query(qname, "HINFO")
        hinfo = [rd for rs in h.answer if rs.rdtype == dns.rdatatype.HINFO for rd in rs]
        if len(hinfo) == 1 and hinfo[0].cpu == b"RFC8482" and hinfo[0].os == b"":
            return mapdata.HINFO, None
    return "mismatch", (f"{secondary.kind} {qname} {rdtype} tags={sorted(tags)}: dnsbld {fmt(mine)}, "
            f"{secondary.kind} {fmt(its)}")


def fmt(s):
    return f"{s[0]} A={sorted(s[1])} TXT={sorted(s[2])}"


def compare(world, secondary, zones, names=None):
    """Asks every sample of zones (or names: [(zone, qname, tags)]) of dnsbld and
    secondary; returns ({verdict: count}, mismatches)."""
    if names is None:
        names = [(z, n, tags) for z in zones for n, tags in world.data.samples(z)]
    jobs = [(z, n, tags, rdtype) for z, n, tags in names for rdtype in ("A", "TXT")]

    def one(job):
        z, n, tags, rdtype = job
        ours = world.ask_dnsbl(n, rdtype)
        theirs = secondary.query(n, rdtype)
        return judge(world.data, z, n, tags, rdtype, ours, theirs, secondary)

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(one, jobs))
    return collections.Counter(v for v, _ in results), [x for v, x in results if x]


# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["nsd", "knot"])
def test_secondary_answers_like_dnsbld(world, kind):
    secondary = getattr(world, kind)
    verdicts, bad = compare(world, secondary, ZONES_XFR)
    count = sum(verdicts.values())
    print(f"{kind}: {count} questions compared: {dict(verdicts)}")
    assert count > 9000
    assert not bad, f"{len(bad)} of {count} differ:\n" + "\n".join(bad[:40])
    # the documented deviations are there, each where it is documented
    assert verdicts[mapdata.DOLLAR] > 0 and verdicts[mapdata.HINFO] > 0, verdicts
    assert verdicts["wildcard"] > 0, verdicts


def test_serials_equal(world):
    for zone in ZONES_XFR:
        want = world.serial(zone)
        assert want > 0
        assert world.nsd.serial(zone) == want, zone
        assert world.knot.serial(zone) == want, zone
    # a combined zone's serial is its members' sum (RFC 1982: modulo 2^32)
    assert world.serial("zen.test") == (world.serial("ip.test") + world.serial("two.test")) % 2**32


def test_transfers_seen_by_knot(world):
    # bootstrapped by AXFR
    done = {x.zone for x in world.knot.transfers() if x.kind == "AXFR"}
    assert done >= set(ZONES_XFR), world.knot.transfers()


def axfr_raw(host, port, zone, source=None, qtype="AXFR"):
    """The first reply to an AXFR over TCP from source (bytes), None on EOF."""
    q = dns.message.make_query(zone, qtype).to_wire()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(t.TIMEOUT)
        if source:
            s.bind((source, 0))
        s.connect((host, port))
        t.tcp_send(s, q)
        return t.tcp_recv(s)


def test_axfr_from_other_address_refused(world):
    mark = len(world.dnsbl.stderr_text())
    reply = axfr_raw(world.dnsbl.host, world.dnsbl.port, "ip.test", source="127.0.0.2")
    r = dns.message.from_wire(reply)
    assert r.rcode() == dns.rcode.REFUSED, r
    assert not r.answer
    log = t.wait_for(lambda: world.dnsbl.stderr_text()[mark:], 1.0)
    assert "transfer of ip.test to 127.0.0.2 refused: not in allow_transfer" in log, log
    # and from 127.0.0.1 it is served
    r = dns.message.from_wire(axfr_raw(world.dnsbl.host, world.dnsbl.port, "ip.test"))
    assert r.rcode() == dns.rcode.NOERROR and r.answer[0].rdtype == dns.rdatatype.SOA


def test_axfr_over_udp_refused(world):
    q = dns.message.make_query("ip.test", "AXFR")
    r = dns.query.udp(q, world.dnsbl.host, port=world.dnsbl.port, timeout=t.TIMEOUT)
    assert r.rcode() == dns.rcode.REFUSED, r
    assert not r.answer
    # an IXFR over UDP gets the SOA alone: the client asks again over TCP (RFC 1995 2)
    q = dns.message.make_query("ip.test", "IXFR")
    q.authority.append(dns.rrset.from_text("ip.test.", 0, "IN", "SOA",
                                           "ns. host. 1 3600 600 86400 120"))
    r = dns.query.udp(q, world.dnsbl.host, port=world.dnsbl.port, timeout=t.TIMEOUT)
    assert r.rcode() == dns.rcode.NOERROR, r
    assert [rs.rdtype for rs in r.answer] == [dns.rdatatype.SOA], r
    assert r.answer[0][0].serial == world.serial("ip.test")


def axfr_records(host, port, zone):
    """The records of an AXFR (dnspython), as a set of (owner, type, ttl, rdata text),
    and the number of records sent (the closing SOA counted once)."""
    msgs = list(dns.query.xfr(host, zone, port=port, timeout=t.TIMEOUT, lifetime=60,
                              relativize=False))
    recs, n = set(), 0
    for m in msgs:
        assert m.rcode() == dns.rcode.NOERROR
        for rs in m.answer:
            for rd in rs:
                recs.add((rs.name.to_text(), dns.rdatatype.to_text(rs.rdtype), rs.ttl,
                          rd.to_text()))
                n += 1
    return recs, n - 1


def master_records(text, zone):
    """The records of a master file as export writes it ("OWNER TTL IN TYPE RDATA" lines
    after $ORIGIN; dnspython parses each part: dns.zone.from_text takes 10 s for 35k
    records), as a set like axfr_records'."""
    origin = dns.name.from_text(zone)
    rdatas = {}
    recs = set()
    assert f"$ORIGIN {zone}." in text
    for line in text.splitlines():
        if not line or line[0] in ";$":
            continue
        owner, ttl, rdclass, rdtype, rest = line.split(None, 4)
        assert rdclass == "IN", line
        name = origin if owner == "@" else dns.name.from_text(owner, origin)
        rd = rdatas.get((rdtype, rest))
        if rd is None:
            rd = rdatas[(rdtype, rest)] = dns.rdata.from_text(
                dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), rest, origin=origin,
                relativize=False).to_text()
        recs.add((name.to_text(), rdtype, int(ttl), rd))
    return recs


# zen.test (35k records, 7-20 s under load) is left to the secondaries: dzen.test is
# the combined zone here
@pytest.mark.parametrize("zone", ["ip.test", "dom.test", "dzen.test", "dollar.test"])
def test_axfr_equals_export_and_stats(world, zone, tmp_path):
    recs, n = axfr_records(world.dnsbl.host, world.dnsbl.port, zone)
    out = t.loader_ok(world.dnsbl, "export", zone, "--format", "zone")
    text = out.stdout
    exported = master_records(text, zone)
    assert recs == exported, (f"only in AXFR: {sorted(recs - exported)[:10]}\n"
                              f"only in export: {sorted(exported - recs)[:10]}")
    assert n == len(recs), "a record sent twice"
    # records: and the export's count hold the apex SOA and NS too
    assert f"exported {len(recs)} records of {zone}" in out.stderr, out.stderr
    assert t.stat(world.dnsbl, zone, "records") == len(recs)
    if world.data.zones[zone].type == "combined":
        # a combined zone has no entries of its own: its members, serial and records
        keys, _ = t.loader_stats(world.dnsbl, zone)
        assert keys["type"] == "combined" and "entries" not in keys, keys
        assert keys["members"] == " ".join(world.data.zones[zone].members), keys
        assert int(keys["serial"]) == world.serial(zone), keys
    # nothing pending or expired is transferred
    for key in world.data.zones[zone].never if zone != "zen.test" else []:
        net = ipaddress.ip_network(key)
        owner = mapdata.ip_name(net.network_address) + "." + zone + "."
        assert not any(r[0] == owner for r in recs), owner
    # the master file is accepted by nsd-checkzone and by Knot
    path = tmp_path / f"{zone}.zone"
    path.write_text(text)
    r = sec.nsd_checkzone(zone, path)
    assert r.returncode == 0, r.stdout + r.stderr
    r = sec.knot_zone_check(tmp_path / "knotcheck", zone, path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_transfer_record_limit(make_server):
    data = mapdata.DataSet(SEED)
    srv = make_server(zones={"dollar.test": data.basic_zones()["dollar.test"]})
    z = data.zones["dollar.test"]
    srv.config.write_text(t.config_text("db", srv.listen, {}, {
        "threads": 1, "allow_transfer": "127.0.0.1/32"}) + "\n" + z.section())
    srv.load("dollar.test", z.rbldnsd_text(), fmt="rbldnsd")
    # the limit counts the records as stats does (SOA and NS too)
    records = t.stat(srv, "dollar.test", "records")
    for limit, ok in ((records - 1, False), (records, True), (1, False)):
        srv.stop()
        srv.config.write_text(t.config_text("db", srv.listen, {}, {
            "threads": 1, "allow_transfer": "127.0.0.1/32"}) + "\n" + z.section()
            + f"transfer_record_limit = {limit}\n")
        srv.start()
        mark = len(srv.stderr_text())
        reply = dns.message.from_wire(axfr_raw(srv.host, srv.port, "dollar.test"))
        log = t.wait_for(lambda: srv.stderr_text()[mark:], 1.0)
        if ok:
            assert reply.rcode() == dns.rcode.NOERROR, reply
            assert reply.answer
        else:
            assert reply.rcode() == dns.rcode.SERVFAIL, reply
            assert not reply.answer, "part of the zone sent"
            assert (f"transfer of dollar.test to 127.0.0.1 refused: over {limit} records "
                    "(transfer_record_limit)") in log, log


def test_change_reaches_secondaries(world):
    """(It changes the store: later tests see the new data.) New entries (and one removal by --replace) are
    imported; after refresh the secondaries hold the new serial and answer alike."""
    before = {z: world.serial(z) for z in ZONES_XFR}
    knot_mark = world.knot.log_mark()
    new_ip = ("10.99.0.0/16 :127.0.0.30:New range\n!10.99.1.1\n10.99.2.0/23 :127.0.0.31:\n"
              "2001:db8:fee0::/47 :127.0.0.32:New v6\n")
    world.dnsbl.load("ip.test", new_ip, fmt="rbldnsd", source="change")
    world.dnsbl.load("dom.test", "*.new.example :127.0.1.30:New wildcard\n!.no.new.example\n",
                     fmt="rbldnsd", source="change")
    after = {z: world.serial(z) for z in ZONES_XFR}
    for z in ZONES_XFR:
        assert (after[z] > before[z]) == (z in ("ip.test", "dom.test", "zen.test",
                                                "dzen.test")), z
    world.cache.clear()
    for s in (world.nsd, world.knot):
        for z in ZONES_XFR:
            if after[z] != before[z]:
                s.refresh(z)
    world.sync()
    # Knot asks IXFR with its serial; dnsbld answers the IP zones with the difference
    # from its journal, the name zones with the whole zone (README)
    seen = {x.zone: (x.kind, x.axfr_style) for x in world.knot.transfers(knot_mark)}
    assert seen == {"ip.test": ("IXFR", False), "zen.test": ("IXFR", False),
                    "dom.test": ("IXFR", True), "dzen.test": ("IXFR", True)}, \
        world.knot.log_since(knot_mark)
    names = []
    for zone in ("ip.test", "zen.test"):
        for net in ("10.99.0.0/16", "10.99.1.1/32", "10.99.2.0/23", "2001:db8:fee0::/47"):
            n = ipaddress.ip_network(net)
            for a in (n.network_address, n.broadcast_address, n.network_address - 1,
                      n.broadcast_address + 1, n.network_address + 257):
                names.append((zone, mapdata.ip_name(a) + "." + zone, frozenset()))
    for n in ("new.example", "a.new.example", "no.new.example", "a.no.new.example"):
        tags = frozenset({mapdata.HINFO}) if n == "no.new.example" else frozenset()
        names.append(("dom.test", n + ".dom.test", tags))
    for s in (world.nsd, world.knot):
        verdicts, bad = compare(world, s, None, names)
        assert not bad, "\n".join(bad)
        assert verdicts["same"] >= len(names) * 2 - 2 and verdicts[mapdata.HINFO] == 2, verdicts
        r = s.query("0.0.99.10.ip.test", "TXT")
        assert summary(r) == ("NOERROR", frozenset(), frozenset({"New range"})), r


def test_compare_catches_a_broken_copy(world, tmp_path):
    """The compare can fail: the export of ip.test with one wildcard's A record dropped
    and one host's TXT changed, served by NSD as a primary and pulled from it by Knot
    with TSIG, answers differently exactly there."""
    text = t.export_text(world.dnsbl, "ip.test", "zone")
    lines = text.splitlines()
    wild = next(i for i, ln in enumerate(lines) if ln.startswith("*.") and " IN A " in ln
                and ln.split()[0].count(".") == 3)
    host = next(i for i, ln in enumerate(lines) if ' IN TXT "Host ' in ln)
    wild_owner, host_owner = lines[wild].split()[0], lines[host].split()[0]
    del lines[wild]
    host = next(i for i, ln in enumerate(lines) if ln.split()[0] == host_owner and " TXT " in ln)
    lines[host] = lines[host].replace('"Host ', '"Changed ')
    broken = tmp_path / "ip.test.zone"
    broken.write_text("\n".join(lines) + "\n")
    key = sec.TsigKey("xt-key", "hmac-sha256", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAx")
    with sec.Fleet() as fleet:
        nsd = fleet.add(sec.Nsd(tmp_path / "nsd", ["ip.test"], zonefile=broken, tsig=key))
        nsd.start()
        knot = fleet.add(sec.Knot(tmp_path / "knot", ["ip.test"], primary=(nsd.host, nsd.port),
                                  tsig=key))
        knot.start()
        want = world.serial("ip.test")
        assert knot.wait_serial("ip.test", want, 10) == want, knot.output()[-3000:]
        wild_name = "7." + wild_owner[2:] + ".ip.test"
        host_name = host_owner + ".ip.test"
        good = [n for n, tags in world.data.samples("ip.test")[:200]
                if not tags and n not in (wild_name, host_name)]
        names = [("ip.test", n, frozenset()) for n in [wild_name, host_name] + good]
        for s in (nsd, knot):
            verdicts, bad = compare(world, s, None, names)
            assert verdicts["mismatch"] == 2, (verdicts, bad)
            assert {b.split()[1:3] == [wild_name, "A"] or b.split()[1:3] == [host_name, "TXT"]
                    for b in bad} == {True}, bad


def test_notify_makes_secondaries_transfer(world):
    """A NOTIFY from dnsbld's address (sent here by the test: notify_from) makes each
    secondary fetch the new serial without a refresh."""
    world.dnsbl.load("dollar.test", "10.77.0.0/16 :127.0.0.40:Notified\n", fmt="rbldnsd",
                     source="notify")
    want = world.serial("dollar.test")
    for s in (world.nsd, world.knot):
        assert s.serial("dollar.test") != want
        q = dns.message.make_query("dollar.test", "SOA")
        q.flags = dns.flags.AA  # the opcode lives in the flags: set it after
        q.set_opcode(dns.opcode.NOTIFY)
        # only notify_from may: another address is turned away
        r = dns.query.udp(q, s.host, port=s.port, timeout=t.TIMEOUT, source="127.0.0.2")
        assert r.rcode() in (dns.rcode.REFUSED, dns.rcode.NOTAUTH), (s.kind, r)
        r = dns.query.udp(q, s.host, port=s.port, timeout=t.TIMEOUT, source="127.0.0.1")
        assert r.rcode() == dns.rcode.NOERROR and r.opcode() == dns.opcode.NOTIFY, r
        assert s.wait_serial("dollar.test", want, 10) == want, s.output()[-3000:]
        r = s.query("0.0.77.10.dollar.test", "TXT")
        assert summary(r) == ("NOERROR", frozenset(), frozenset({"Notified"})), r
