"""A data set made to break the mapping of DNSBL zones to DNS records (lib/zonemap),
generated from a seed, and the names to ask about it.

Zones (all below .test):
  ip.test     IPv4 prefixes of every length /8../32 (several per length, octet and
              non-octet boundaries, siblings side by side), exclusions inside them (also
              whole sub-prefixes), hosts with their own A and TXT, more specific
              entries under wider ones and under exclusions, own A without TXT (":N:"),
              IPv4 and IPv6 entries whose names share digit-only labels, IPv6 /32,
              /45, /48, /62, /64 and /128 with exclusions, an IPv4-mapped address, an
              expired entry; exempt = wl.test.
  wl.test     the allowlist (policy = allow) ip.test exempts.
  two.test    another IP zone overlapping ip.test (other codes), and a pending entry
              (list_threshold = 2, one hit).
  zen.test    combined: members ip.test two.test.
  dom.test    a name zone: "x", "*.x", ".x", "!x", wildcards with exact exclusions,
              deep names, entries under exclusions and under wildcards.
  dollar.test an IP zone whose TXT template has "$" (the documented replacement).

Nothing in this module asks a server: samples(zone) gives the names and, for each,
the deviations from dnsbld's answer the README documents for it.
"""

import dataclasses
import ipaddress
import random
import time

import dnsbltest as t

SOA = "ns1.{z}. hostmaster.{z}. 3600 600 86400 120"

# Deviation tags of a sample (README "How a zone becomes records", lib/zonemap.h)
PARTIAL = "partial"      # fewer labels than an address: a wildcard may answer it
OVERLONG = "overlong"    # more labels than an address: a wildcard may answer it
DOLLAR = "dollar"        # "$" in a wildcard's TXT: the entry as written
HINFO = "hinfo"          # NXDOMAIN in dnsbld below a wildcard: NODATA placeholder
# Not in the README's list (reported): a label dnsbld cannot read (256, 01, a, or a
# byte other than a letter, digit, "-" or "_" in a domain) is NXDOMAIN in dnsbld, but
# a wildcard above it answers it. DNS has no wildcard that matches only some labels.
MALFORMED = "malformed"


@dataclasses.dataclass
class Entry:
    key: str                 # as written in the data file ("10.0.0.0/8", "*.x.example")
    exclude: bool = False
    a: str = None            # own A, None: the zone's
    txt: str = None          # own TXT, None: the zone's
    no_txt: bool = False     # ":N:": no TXT at all
    net: object = None       # ipaddress network (IP zones)

    def line(self):
        text = ("!" if self.exclude else "") + self.key
        if self.exclude:
            return text
        if self.a is not None and self.no_txt:
            return f"{text} :{self.a}:"
        if self.a is not None and self.txt is not None:
            return f"{text} :{self.a}:{self.txt}"
        if self.a is not None:
            return f"{text} :{self.a}"
        if self.txt is not None:
            return f"{text} {self.txt}"
        return text


@dataclasses.dataclass
class Zone:
    name: str
    type: str = "ip"
    policy: str = "block"
    a: str = "127.0.0.2"
    txt: str = None
    ttl: int = 300
    exempt: str = None
    members: tuple = ()
    extra: dict = dataclasses.field(default_factory=dict)
    entries: list = dataclasses.field(default_factory=list)
    csv_rows: list = dataclasses.field(default_factory=list)   # (header, rows) imports
    csv_entries: list = dataclasses.field(default_factory=list)  # what csv_rows list
    never: list = dataclasses.field(default_factory=list)      # keys never to answer

    def section(self):
        lines = [f"[zone {self.name}]", f"type = {self.type}"]
        if self.type == "combined":
            lines.append(f"members = {' '.join(self.members)}")
        else:
            lines += [f"policy = {self.policy}", f"a = {self.a}"]
            if self.txt is not None:
                lines.append(f"txt = {self.txt}")
        if self.exempt:
            lines.append(f"exempt = {self.exempt}")
        lines += [f"ttl = {self.ttl}", f"soa = {SOA.format(z=self.name)}",
                  f"ns = ns1.{self.name}."]
        lines += [f"{k} = {v}" for k, v in self.extra.items()]
        return "\n".join(lines) + "\n"

    def rbldnsd_text(self):
        return "".join(e.line() + "\n" for e in self.entries)

    # ---- what an entry answers (the README's rules, for tagging deviations)
    def value(self, e):
        """(A, TXT template or None) of listing e."""
        a = e.a if e.a is not None else self.a
        if e.no_txt:
            return a, None
        return a, (e.txt if e.txt is not None else self.txt)

    def model(self):
        """Every entry answered: the data file's and those the csv imports list."""
        return self.entries + self.csv_entries

    def ip_chain(self, addr):
        """The entries covering addr, most specific first (exclusions included)."""
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
            addr = addr.ipv4_mapped
        found = [e for e in self.model()
                 if e.net.version == addr.version and addr in e.net]
        return sorted(found, key=lambda e: -e.net.prefixlen)

    def ip_match(self, addr):
        """The listing that answers addr in this zone alone, None when not listed."""
        chain = self.ip_chain(addr)
        if not chain or chain[0].exclude:
            return None
        return chain[0]


class DataSet:
    def __init__(self, seed=5782):
        self.seed = seed
        self.rng = random.Random(seed)
        self.zones = {}
        self._build()

    # ---- config and loading
    def config_extra(self):
        return "\n" + "\n".join(z.section() for z in self.zones.values())

    def basic_zones(self):
        """A dnsbltest.Dnsbl zones= dict naming the zones (the config is written from
        config_extra)."""
        return {n: {"type": z.type, "soa": SOA.format(z=n), "ns": f"ns1.{n}."}
                for n, z in self.zones.items()}

    def load(self, srv):
        """Imports every zone's data into srv's store (each import must exit 0)."""
        for z in self.zones.values():
            if z.type == "combined":
                continue
            if z.entries:
                srv.load(z.name, z.rbldnsd_text(), fmt="rbldnsd")
            for header, rows in z.csv_rows:
                srv.load(z.name, t.csv_text(header, rows), fmt="csv", source="csv")

    # ---- building
    def _build(self):
        wl = Zone("wl.test", policy="allow", a="127.0.15.2", txt="Known good sender")
        ip = Zone("ip.test", exempt="wl.test", txt="Listed in ip.test")
        two = Zone("two.test", a="127.0.0.10", txt="Listed in two.test",
                   extra={"list_threshold": 2, "list_window": "1h"})
        dom = Zone("dom.test", type="name", a="127.0.1.2", txt="Domain listed in dom.test",
                   exempt="dwl.test")
        dwl = Zone("dwl.test", type="name", policy="allow", a="127.0.15.5",
                   txt="Known good domain")
        dom2 = Zone("dom2.test", type="name", a="127.0.1.3", txt="Domain listed in dom2.test")
        dzen = Zone("dzen.test", type="combined", members=("dom.test", "dom2.test"))
        dollar = Zone("dollar.test", a="127.0.0.4", txt="Listed: $ (see dollar.test)")
        zen = Zone("zen.test", type="combined", members=("ip.test", "two.test"))
        for z in (ip, wl, two, zen, dom, dwl, dom2, dzen, dollar):
            self.zones[z.name] = z
        self._ip_zone(ip, wl)
        self._two_zone(two, ip)
        self._name_zone(dom, dwl, dom2)
        self._dollar_zone(dollar)

    def _add(self, zone, key, **kw):
        e = Entry(key, **kw)
        if zone.type == "ip":
            e.net = ipaddress.ip_network(key)
            if any(o.net == e.net for o in zone.entries):
                return None  # one entry per prefix: a second line would merge into it
        elif any(o.key == key for o in zone.entries):
            return None
        zone.entries.append(e)
        return e

    def _code(self):
        return f"127.0.{self.rng.randrange(0, 4)}.{self.rng.randrange(3, 250)}"

    def _text(self, what):
        return f"{what} {self.rng.randrange(10**6):06d}"

    def _inner(self, net, plen):
        """A random sub-prefix of net of length plen."""
        span = 1 << (plen - net.prefixlen)
        size = 1 << (net.max_prefixlen - plen)
        base = int(net.network_address) + self.rng.randrange(span) * size
        return ipaddress.ip_network((base, plen))

    def _ip_zone(self, ip, wl):
        r = self.rng
        firsts = [o for o in range(11, 224) if o not in (127,)]
        r.shuffle(firsts)
        wide = []
        for plen in range(8, 33):
            for n in range(2):
                first = firsts.pop()
                net = self._inner(ipaddress.ip_network((first << 24, 8)), plen)
                kind = r.randrange(4)
                if kind == 0:
                    self._add(ip, str(net))
                elif kind == 1:
                    self._add(ip, str(net), a=self._code(), txt=self._text("Range"))
                elif kind == 2:
                    self._add(ip, str(net), a=self._code())
                else:
                    self._add(ip, str(net), a=self._code(), no_txt=True)
                if plen <= 28:
                    wide.append(net)
                if n == 0 and plen < 32:
                    # a sibling right after it, with other values
                    sib = ipaddress.ip_network((int(net.broadcast_address) + 1, plen))
                    if sib.network_address.packed[0] == first:
                        self._add(ip, str(sib), a=self._code(), txt=self._text("Sibling"))
        for net in wide:
            # exclusions, hosts and more specific prefixes inside
            # an exclusion makes its siblings be written one by one: one per range
            host = self._inner(net, 32)
            self._add(ip, str(host.network_address), exclude=True)
            host = self._inner(net, 32)
            self._add(ip, str(host.network_address), a=self._code(), txt=self._text("Host"))
            if net.prefixlen <= 26:
                sub = self._inner(net, min(32, net.prefixlen + r.choice((1, 3, 4, 8))))
                self._add(ip, str(sub), a=self._code(), txt=self._text("Inner"))
                ex = self._inner(net, min(32, net.prefixlen + r.choice((2, 5, 8))))
                if net.prefixlen % 2 == 0 and not any(e.net == ex for e in ip.entries):
                    self._add(ip, str(ex), exclude=True)
                    # listed again inside the exclusion
                    again = self._inner(ex, min(32, ex.prefixlen + 2))
                    if not any(e.net == again for e in ip.entries):
                        self._add(ip, str(again), a=self._code(), txt=self._text("Again"))
        # names IPv4 and IPv6 share: 2.4.0.0/16 (IPv4 name 0.0.4.2) and 2400::/16
        self._add(ip, "2.4.0.0/16", a="127.0.0.5", txt="Shared labels v4")
        self._add(ip, "2.4.1.0/24", exclude=True)
        self._add(ip, "2400:1234:5600::/45", a="127.0.0.6", txt="Shared labels v6")
        self._add(ip, "2400:1234:5600::7", exclude=True)
        # labels both families read: zeros and ones, and the test points' neighbours
        self._add(ip, "0.0.0.0/8", a="127.0.0.22", txt="Zero network")
        self._add(ip, "0.0.0.1", exclude=True)
        self._add(ip, "1.0.0.0/16", a="127.0.0.23", txt="One network")
        self._add(ip, "1000::/8", a="127.0.0.24", txt="v6 1000::/8")
        self._add(ip, "1000::1", exclude=True)
        self._add(ip, "0:0:0:1::/64", a="127.0.0.25", txt="v6 zeros and ones")
        self._add(ip, "127.0.0.0/29", a="127.0.0.26", txt="Loopback range")
        self._add(ip, "127.0.0.5", exclude=True)
        # IPv6
        self._add(ip, "2001:db8::/32", a="127.0.0.7", txt="IPv6 /32")
        self._add(ip, "2001:db8:bad::/48", a="127.0.0.8", txt="IPv6 /48")
        self._add(ip, "2001:db8:bad::1", exclude=True)
        self._add(ip, "2001:db8:bad::42", a="127.0.0.9", txt="IPv6 host")
        self._add(ip, "2001:db8:c0de:4::/62", a="127.0.0.11", txt="IPv6 /62")
        self._add(ip, "2001:db8:c0de:5::/64", exclude=True)
        self._add(ip, "2001:db8:c0de:6::/64", a="127.0.0.12", txt="IPv6 /64 inside")
        self._add(ip, "2001:db8:c0de:7::9", exclude=True)
        self._add(ip, "2a00:1450:4000::/37", a="127.0.0.13", no_txt=True)
        self._add(ip, "2a00:1450:4008::/45", exclude=True)
        self._add(ip, "2a00:1450:4010::/45", a="127.0.0.14", txt="IPv6 /45")
        self._add(ip, "2a00:1450:4010:1::/64", exclude=True)
        self._add(ip, "2c0f:f248::1", a="127.0.0.15", txt="IPv6 lone host")
        self._add(ip, "2c0f:f248::2")
        # IPv4-mapped: the loader stores it as the IPv4 address
        self._add(ip, "198.18.7.9", a="127.0.0.16", txt="Mapped host")
        # the allowlist: a host and a /28 inside listed ranges, a range elsewhere
        for net in r.sample(wide, 3):
            h = self._inner(net, 32)
            self._add(wl, str(h.network_address), a="127.0.15.3")
        for net in r.sample([w for w in wide if w.prefixlen <= 24], 2):
            self._add(wl, str(self._inner(net, 28)))
        self._add(wl, "2001:db8:bad::77", a="127.0.15.4")
        self._add(wl, "192.0.2.0/24")
        # expired: an entry whose expiry has passed (csv with expires)
        now = int(time.time())
        ip.csv_rows.append((["ip", "expires", "code", "txt"],
                            [["203.0.113.77/32", now - 3600, "127.0.0.17", "Expired"],
                             ["203.0.113.0/25", now - 60, "127.0.0.18", "Expired range"],
                             ["203.0.113.200/32", now + 86400, "127.0.0.19", "Not yet"]]))
        ip.never += ["203.0.113.77/32", "203.0.113.0/25"]
        ip.csv_entries.append(Entry("203.0.113.200/32", a="127.0.0.19", txt="Not yet",
                                    net=ipaddress.ip_network("203.0.113.200/32")))
        self.ip_wide = wide

    def _two_zone(self, two, ip):
        r = self.rng
        # overlapping ip.test's entries with other codes (and one the same)
        for e in r.sample([e for e in ip.entries if not e.exclude and e.net.version == 4], 12):
            net = e.net if r.random() < 0.5 else self._inner(
                e.net, min(32, e.net.prefixlen + r.choice((0, 1, 4))))
            self._add(two, str(net), a=self._code(), txt=self._text("Two"))
        self._add(two, "2001:db8:bad::/56", a="127.0.0.8", txt="Two v6 same code")
        self._add(two, "100.64.0.0/10", txt="Shared address space")
        now = int(time.time())
        # two hits each: listed; one hit: pending (never answered, never transferred)
        header = ["ip", "timestamp"]
        rows = [["198.51.100.0/24", now - 600], ["198.51.100.0/24", now - 300],
                ["198.51.100.99/32", now - 120]]
        two.csv_rows.append((header, rows))
        two.never.append("198.51.100.99/32")
        two.csv_entries.append(Entry("198.51.100.0/24",
                                     net=ipaddress.ip_network("198.51.100.0/24")))

    def _name_zone(self, dom, dwl, dom2):
        add = lambda key, **kw: self._add(dom, key, **kw)  # noqa: E731
        add("bad.example")                                    # the name only
        add("*.phish.example", a="127.0.1.4", txt="Phishing subdomain")
        add(".malware.example", a="127.0.1.5", txt="Malware, name and below")
        add("ok.malware.example", exclude=True)
        add("x.ok.malware.example", a="127.0.1.6", txt="Listed below an exclusion")
        add("*.wild.example", a="127.0.1.7")
        add("safe.wild.example", exclude=True)
        add("also-safe.wild.example", exclude=True)
        add(".gone.wild.example", exclude=True)       # the name and below: a placeholder
        add("*.under.wild.example", exclude=True)     # below only
        add("own.wild.example", a="127.0.1.8", txt="Own value under a wildcard")
        add("a.b.c.d.e.deep.example", a="127.0.1.9", txt="Deep name")
        add("*.f.deep.example", a="127.0.1.10", no_txt=True)
        add("g.f.deep.example", exclude=True)
        add(".h.g.f.deep.example", a="127.0.1.11", txt="Under an excluded name")
        add("www.bad.example", a="127.0.1.12", txt="Below a name-only entry")
        add("*.dollar.example", a="127.0.1.13", txt="Wildcard $ text")
        add("exact.dollar.example", a="127.0.1.14", txt="Exact $ text")
        add("_dmarc.under-score.example")
        add(".0.1.digits.example", a="127.0.1.15", txt="Digit labels")
        for i in range(30):
            add(f"spam{i:02d}-{self.rng.randrange(10**5)}.example")
        # the allowlist: exempt below a wildcard (a placeholder), a name-only entry
        self._add(dwl, ".good.wild.example")
        self._add(dwl, "clean.phish.example", a="127.0.15.6")
        self._add(dwl, "bad.example")
        # a second list overlapping the first, for dzen.test
        for key, kw in ((".phish.example", {"a": "127.0.1.40", "txt": "Phish in two"}),
                        ("bad.example", {"a": "127.0.1.2"}),
                        ("*.wild.example", {"a": "127.0.1.41", "txt": "Wild in two"}),
                        ("safe.wild.example", {"txt": "Safe is listed in two"}),
                        ("a.b.c.d.e.deep.example", {"a": "127.0.1.42"}),
                        ("*.e.deep.example", {"a": "127.0.1.43"}),
                        ("other.example", {})):
            self._add(dom2, key, **kw)
        self.name_keys = [e.key for e in dom.entries]

    def _dollar_zone(self, dz):
        add = lambda key, **kw: self._add(dz, key, **kw)  # noqa: E731
        add("10.1.0.0/16")
        add("10.1.2.0/24", txt="Narrow $ range")
        add("10.1.2.3", txt="Host $ text")
        add("!10.1.2.4".lstrip("!"), exclude=True)
        add("10.1.3.0/25")
        add("10.1.3.5")
        add("10.8.0.0/13")
        add("2001:db8:d011::/48", txt="v6 $ range")
        add("2001:db8:d011::5", txt="v6 host $")

    # ---- the names to ask
    def samples(self, zone):
        """[(qname, tags)] for zone: qname relative names with the zone appended,
        tags a frozenset of the documented deviations the name may show."""
        z = self.zones[zone]
        if z.type == "combined":
            # every member's names would double the work for little: a fixed third
            seen, out = set(), []
            for m in z.members:
                for i, (name, tags) in enumerate(self.samples(m)):
                    rel = name[: -len(m)] + zone
                    if i % 3 == 0 and rel not in seen:
                        seen.add(rel)
                        out.append((rel, tags))
            return out
        rng = random.Random(f"{self.seed}-{zone}")
        if z.type == "name":
            return self._name_samples(z, rng)
        return self._ip_samples(z, rng)

    def _ip_samples(self, z, rng):
        addrs = set()
        nets = [e.net for e in z.model()]
        for k in z.never:
            nets.append(ipaddress.ip_network(k))
        for net in nets:
            lo, hi = int(net.network_address), int(net.broadcast_address)
            top = (1 << net.max_prefixlen) - 1
            cls = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
            for v in (lo, hi, lo - 1, hi + 1, rng.randint(lo, hi), rng.randint(lo, hi)):
                if 0 <= v <= top:
                    addrs.add(cls(v))
        for _ in range(150):
            addrs.add(ipaddress.IPv4Address(rng.getrandbits(32)))
        for _ in range(30):
            addrs.add(ipaddress.IPv6Address((0x2001_0db8 << 96) | rng.getrandbits(96)))
            addrs.add(ipaddress.IPv6Address(rng.getrandbits(128)))
        # RFC 5782 test points and the mapped forms
        for a in ("127.0.0.2", "127.0.0.1", "127.0.0.3", "::ffff:7f00:2", "::ffff:7f00:1",
                  "::1", "::2", "::ffff:198.18.7.9", "::ffff:198.18.7.8", "0.0.0.0",
                  "255.255.255.255", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"):
            addrs.add(ipaddress.ip_address(a))
        for e in z.entries:
            if e.net.version == 4:
                for v in (e.net.network_address, e.net.broadcast_address):
                    addrs.add(ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + v.packed))
        out = []
        for a in sorted(addrs, key=lambda a: (a.version, int(a))):
            name = ip_name(a)
            tags = set()
            if self._dollar_wide(z, a):
                tags.add(DOLLAR)
            out.append((f"{name}.{z.name}", frozenset(tags)))
        # partial and over-long names
        for e in z.model() + [Entry(k, net=ipaddress.ip_network(k)) for k in z.never]:
            full = ip_name(e.net.network_address).split(".")
            n = len(full)
            cut = {1, 2, 3} if n == 4 else {1, 4, 8, 12, 16, 20, 24, 28, 31}
            cut |= {max(1, e.net.prefixlen // (8 if n == 4 else 4))}
            for k in sorted(c for c in cut if c < n):
                out.append((".".join(full[n - k:]) + "." + z.name, frozenset({PARTIAL})))
            out.append(("0." + ".".join(full) + "." + z.name, frozenset({OVERLONG})))
            bad = ("256", "01", "a", "-1") if n == 4 else ("g", "10", "ff")
            out.append((rng.choice(bad) + "." + ".".join(full[1:]) + "." + z.name,
                        frozenset({MALFORMED})))
        for extra in ("0.0.127", "0.127", "127", "1.0.0.0.127", "2.0.0.0.127"):
            out.append((f"{extra}.{z.name}",
                        frozenset({PARTIAL if extra.count(".") < 3 else OVERLONG})))
        dedup = {}
        for name, tags in out:
            dedup[name] = dedup.get(name, frozenset()) | tags
        return list(dedup.items())

    def _dollar_wide(self, z, addr):
        """Whether addr's answer in z comes from an entry wider than one address
        whose TXT has a "$"."""
        e = z.ip_match(addr)
        if e is None:
            return False
        _, txt = z.value(e)
        return txt is not None and "$" in txt and e.net.prefixlen < e.net.max_prefixlen

    def _name_samples(self, z, rng):
        names = set()
        others = self.zones[z.exempt].entries if z.exempt else []
        for e in z.entries + others:
            base = e.key.lstrip("*").lstrip(".")
            labels = base.split(".")
            for i in range(len(labels)):
                names.add(".".join(labels[i:]))
            for pre in ("a", "zz-top", "a.b", "x.y.z.w", "SAFE", "own", "h"):
                names.add(f"{pre}.{base}")
        for _ in range(100):
            names.add(f"n{rng.randrange(10**6)}.example")
            names.add(f"n{rng.randrange(10**6)}.{rng.choice(['net', 'org', 'bad.example'])}")
        names |= {"test", "TEST", "invalid", "INVALID", "a.test", "a.invalid", "example",
                  "Bad.Example", "WWW.PHISH.EXAMPLE", "0.1.digits.example",
                  "9.0.1.digits.example", "1.0.1.digits.example"}
        bad = set()
        for e in z.entries:
            base = e.key.lstrip("*").lstrip(".")
            bad |= {f"a\\@b.{base}", f"a\\.b.{base}", f"\\000.{base}"}
        names |= bad
        out = []
        for n in sorted(names):
            tags = {MALFORMED} if n in bad else set()
            match, via_wild = self._name_match(z, n.lower())
            if match is not None and via_wild:
                _, txt = z.value(match)
                if txt is not None and "$" in txt:
                    tags.add(DOLLAR)
            if self._name_placeholder(z, n.lower()):
                tags.add(HINFO)
            out.append((f"{n}.{z.name}", frozenset(tags)))
        return out

    def _name_match(self, z, name):
        """(the listing that answers name, whether it matched as a wildcard); (None,
        False) when not listed."""
        best, wild = self._name_decider(z, name)
        if best is None or best.exclude:
            return None, False
        if z.exempt and self._name_decider(self.zones[z.exempt], name)[0] is not None:
            if not self._name_decider(self.zones[z.exempt], name)[0].exclude:
                return None, False
        return best, wild

    def _name_decider(self, z, name):
        """(the entry with the most labels matching name, exclusions included, whether
        it matched as a wildcard)."""
        best, best_labels, wild = None, -1, False
        for e in z.entries:
            key = e.key
            if key.startswith("*."):
                base, exact, below = key[2:], False, True
            elif key.startswith("."):
                base, exact, below = key[1:], True, True
            else:
                base, exact, below = key, True, False
            nl = base.count(".") + 1
            if exact and name == base and nl > best_labels:
                best, best_labels, wild = e, nl, False
            elif below and name.endswith("." + base) and nl > best_labels:
                best, best_labels, wild = e, nl, True
        return best, wild

    def _name_placeholder(self, z, name):
        """Whether name may hold the HINFO placeholder: dnsbld answers it NXDOMAIN (an
        exclusion or an exemption of the name and below) while a wildcard above it
        answers its siblings."""
        best, _ = self._name_decider(z, name)
        exempt = z.exempt and self._name_decider(self.zones[z.exempt], name)[0]
        if not ((best is not None and best.exclude) or exempt):
            return False
        for e in z.entries:
            base = e.key.lstrip("*").lstrip(".")
            if not e.exclude and e.key[0] in "*." and name.endswith("." + base):
                return True
        return False

    def txt_as_written(self, zone, qname):
        """For a DOLLAR sample: the set of TXT texts with "$" as the deciding entry is
        written (one per member of a combined zone)."""
        z = self.zones[zone]
        rel = qname[: -len(zone) - 1]
        out = set()
        for m in ([self.zones[n] for n in z.members] if z.type == "combined" else [z]):
            if m.type == "name":
                e, _ = self._name_match(m, rel.lower())
            else:
                a = ip_from_name(rel)
                e = m.ip_match(a) if a is not None else None
            txt = m.value(e)[1] if e is not None else None
            if txt is not None and "$" in txt:
                out.add(txt.replace("$", e.key if m.type == "name" else str(e.net)))
        return out


def ip_name(addr):
    """The reversed name of an address below a zone (without the zone)."""
    if addr.version == 4:
        return ".".join(reversed(str(addr).split(".")))
    return addr.reverse_pointer[: -len(".ip6.arpa")]


def ip_from_name(rel):
    """The address a full reversed name stands for, None for other names."""
    labels = rel.split(".")
    try:
        if len(labels) == 4:
            return ipaddress.IPv4Address(".".join(reversed(labels)))
        if len(labels) == 32 and all(len(x) == 1 for x in labels):
            return ipaddress.IPv6Address(int("".join(reversed(labels)), 16))
    except ValueError:
        return None
    return None
