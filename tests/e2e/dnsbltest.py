"""Shared helpers for the dnsbld end-to-end tests: binaries, ports, configs, a
running server, queries (dnspython and raw wire) and answer checks.

Everything runs on loopback. The binaries come from $DNSBL_BIN (default <repo>/bin).
"""

import os
import pathlib
import signal
import socket
import struct
import subprocess
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("DNSBL_BIN") or (REPO / "bin"))
DNSBLD = BIN / "dnsbld"
LOADER = BIN / "dnsbl-loader"
DEMO_ZONES = REPO / "zones"

TIMEOUT = 2.0          # per query
START_TIMEOUT = 5.0    # dnsbld start-up until it answers
STOP_TIMEOUT = 5.0     # SIGTERM until exit
TRANSPORTS = ("udp", "tcp")
OUR_EDNS_SIZE = 1232

# --------------------------------------------------------------------------------------
# Zones and data used by most tests.

ZONES = {
    "bl.example": {
        "type": "ip",
        "policy": "block",
        "ttl": 300,
        "a": "127.0.0.2",
        "txt": "Listed, see https://bl.example/lookup?ip=$",
        "soa": "ns1.bl.example. hostmaster.bl.example. 3600 600 86400 120",
        "ns": "ns1.bl.example. ns2.bl.example.",
    },
    "pbl.example": {
        "type": "ip",
        "policy": "block",
        "ttl": 600,
        "a": "127.0.0.10",
        "txt": "$ is in a dynamic range, see https://pbl.example/",
        "soa": "ns1.pbl.example. hostmaster.pbl.example. 3600 600 86400 300",
        "ns": "ns1.pbl.example.",
    },
    # never loaded: only the RFC 5782 test points answer; ttl < SOA minimum
    "tl.example": {
        "type": "ip",
        "policy": "block",
        "ttl": 60,
        "a": "127.0.0.20",
        "txt": "tl $ listed, cost $$5",
        "soa": "ns.tl.example. admin.tl.example. 7200 900 604800 3600",
        "ns": "ns.tl.example.",
    },
}

# 600 bytes of text without "$", "#" or ";"
LONG_TXT = "".join("abcdefghijklmnopqrstuvwxyz0123456789"[i % 36] for i in range(600))

# bl.example, rbldnsd syntax, source "default".
BL_DATA = f"""\
# bl.example test data (rbldnsd ip4set / ip4trie syntax)
$SOA 3600 ns1.bl.example. hostmaster.bl.example. 0 3600 600 86400 120
$TTL 300
:127.0.0.7:Default text for $ from the file
192.0.2.1
192.0.2.2 :127.0.0.3:Open relay at $
192.0.2.3 :4
192.0.2.4 :5:
192.0.2.5 Trap hit, ask $$ about $
198.51.100.0/24 :127.0.0.3:Snowshoe range
!198.51.100.7
198.51.100.9 :127.0.0.9:Single host $ inside the range
203.0.113
198.18.0.0-198.18.0.15

10.20.0.0/16 :127.0.0.11:Wide $
10.20.30.0/24 :127.0.0.12:Narrow $
!10.20.30.40
10.20.30.41 :127.0.0.13:Host $
# a TXT longer than 255 bytes
192.0.2.200 :127.0.0.2:{LONG_TXT}
"""

# bl.example, rbldnsd syntax without a default line, source "nodefault".
BL_NODEFAULT = """\
192.0.2.130 :6
192.0.2.131 Own text only for $
192.0.2.132
"""

# pbl.example, plain format.
PBL_DATA = """\
# pbl.example test data (plain)
10.0.0.0/8
172.16.0.0/12
!172.16.0.1
; another comment style
   100.64.0.1   
"""


def load_standard(srv):
    """Loads the standard data into srv's store (each import must exit 0)."""
    srv.load("bl.example", BL_DATA, fmt="rbldnsd")
    srv.load("bl.example", BL_NODEFAULT, fmt="rbldnsd", source="nodefault")
    srv.load("pbl.example", PBL_DATA)


# --------------------------------------------------------------------------------------
# Ports

_used_ports = set()


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(hosts=("127.0.0.1",)):
    """Returns a port that is free for both UDP and TCP on every host given."""
    for _ in range(500):
        first = socket.socket(_family(hosts[0]), socket.SOCK_STREAM)
        socks = [first]
        try:
            first.bind((hosts[0], 0))
            port = first.getsockname()[1]
            if port in _used_ports:
                continue
            for host in hosts:
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    if host == hosts[0] and kind == socket.SOCK_STREAM:
                        continue
                    s = socket.socket(_family(host), kind)
                    socks.append(s)
                    s.bind((host, port))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        _used_ports.add(port)
        return port
    raise RuntimeError("no free port found")


# --------------------------------------------------------------------------------------
# Config

def config_text(db, listen, zones, server_opts=None, extra=""):
    lines = ["; written by tests/e2e", "[server]", f"db = {db}", f"listen = {' '.join(listen)}"]
    opts = {"threads": 2}
    opts.update(server_opts or {})
    for k, v in opts.items():
        if v is not None:
            lines.append(f"{k} = {v}")
    for name, z in zones.items():
        lines.append("")
        lines.append(f"[zone {name}]")
        std = ("type", "policy", "ttl", "a", "txt", "soa", "ns")
        for k in std + tuple(k for k in z if k not in std):
            if k in z and z[k] is not None:
                lines.append(f"{k} = {z[k]}")
    text = "\n".join(lines) + "\n"
    return text + extra


# --------------------------------------------------------------------------------------
# A dnsbld instance with its own config and store

class Dnsbl:
    def __init__(self, workdir, zones=None, server_opts=None, v6=False, extra=""):
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        # binaries run from an unrelated directory: relative paths in the config must
        # be taken relative to the config file, not to the working directory
        self.cwd = self.dir / "cwd"
        self.cwd.mkdir(exist_ok=True)
        self.zones = dict(zones if zones is not None else ZONES)
        self.host = "127.0.0.1"
        hosts = ("127.0.0.1", "::1") if v6 else ("127.0.0.1",)
        self.port = free_port(hosts)
        self.listen = [f"127.0.0.1:{self.port}"]
        if v6:
            self.listen.append(f"[::1]:{self.port}")
        self.config = self.dir / "dnsbl.conf"
        self.db = self.dir / "db"
        self.config.write_text(config_text("db", self.listen, self.zones, server_opts, extra))
        self.proc = None
        self.returncode = None
        self.stderr_path = self.dir / "dnsbld.stderr"
        self._nfiles = 0

    # ---- loader
    def loader(self, *args, input=None, timeout=60):
        return subprocess.run([str(LOADER), "-c", str(self.config), *map(str, args)],
                              input=input, capture_output=True, text=True,
                              cwd=self.cwd, timeout=timeout)

    def data_file(self, text, name=None):
        self._nfiles += 1
        path = self.dir / (name or f"data{self._nfiles}.txt")
        path.write_text(text)
        return path

    def import_args(self, zone, path, fmt=None, source=None, replace=False, strict=False):
        args = ["import", zone, str(path)]
        if fmt:
            args += ["--format", fmt]
        if source:
            args += ["--source", source]
        if replace:
            args.append("--replace")
        if strict:
            args.append("--strict")
        return args

    def load(self, zone, text=None, path=None, expect=0, **kw):
        """Imports text (written to a file) or path into zone. Checks the exit code
        unless expect is None. Returns the CompletedProcess."""
        if text is not None:
            path = self.data_file(text)
        r = self.loader(*self.import_args(zone, path, **kw))
        if expect is not None:
            assert r.returncode == expect, (
                f"dnsbl-loader import {zone} {path} {kw}: exit {r.returncode}, "
                f"expected {expect}\nstderr:\n{r.stderr}\nstdout:\n{r.stdout}")
        return r

    # ---- daemon
    def start(self, wait=True):
        assert self.proc is None
        self._errf = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([str(DNSBLD), "-c", str(self.config), "-f"],
                                     stdin=subprocess.DEVNULL, stdout=self._errf,
                                     stderr=self._errf, cwd=self.cwd)
        if wait:
            self.wait_ready()
        return self

    def stderr_text(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_ready(self, timeout=START_TIMEOUT):
        zone = next(iter(self.zones))
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"dnsbld exited with {self.proc.returncode} at start-up"
                                     f"\nstderr:\n{self.stderr_text()}")
            try:
                q = dns.message.make_query(zone, "SOA")
                dns.query.udp(q, self.host, port=self.port, timeout=0.2)
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
                return
            except (OSError, dns.exception.DNSException) as e:
                last = e
                time.sleep(0.05)
        raise AssertionError(f"dnsbld did not answer within {timeout}s ({last!r})"
                             f"\nstderr:\n{self.stderr_text()}")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        """Sends SIGTERM, waits, returns the exit code (None if it had to be killed)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = None
                self.proc = None
                self._errf.close()
                return None
        self.returncode = self.proc.returncode
        self.proc = None
        self._errf.close()
        return self.returncode

    # ---- queries
    def send(self, q, transport="udp", timeout=TIMEOUT):
        if transport == "udp":
            return dns.query.udp(q, self.host, port=self.port, timeout=timeout)
        if transport == "tcp":
            return dns.query.tcp(q, self.host, port=self.port, timeout=timeout)
        raise ValueError(transport)

    def ask(self, qname, rdtype="A", transport="udp", rdclass="IN", timeout=TIMEOUT, **kw):
        q = dns.message.make_query(qname, rdtype, rdclass, **kw)
        return self.send(q, transport, timeout)

    def raw_udp(self, data, timeout=TIMEOUT):
        """Sends data in one datagram; returns the reply bytes or None on timeout."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(data, (self.host, self.port))
            try:
                return s.recv(65535)
            except socket.timeout:
                return None

    def raw_tcp(self, data, timeout=TIMEOUT):
        """Sends one length-prefixed message; returns the reply bytes or None (EOF or
        timeout)."""
        with self.tcp_connect(timeout) as s:
            tcp_send(s, data)
            try:
                return tcp_recv(s)
            except (socket.timeout, ConnectionError):
                return None

    def raw(self, data, transport, timeout=TIMEOUT):
        return self.raw_udp(data, timeout) if transport == "udp" else self.raw_tcp(data, timeout)

    def tcp_connect(self, timeout=TIMEOUT):
        return socket.create_connection((self.host, self.port), timeout=timeout)

    def assert_alive(self):
        """The server still answers a listed test point over UDP and TCP."""
        zone = next(iter(self.zones))
        for transport in TRANSPORTS:
            r = self.ask(rev("127.0.0.2", zone), "A", transport)
            assert r.rcode() == dns.rcode.NOERROR
            assert a_values(r) == {self.zones[zone]["a"]}
        assert self.running(), f"dnsbld died\nstderr:\n{self.stderr_text()}"


# --------------------------------------------------------------------------------------
# Wire helpers

def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_send(sock, wire):
    sock.sendall(struct.pack("!H", len(wire)) + wire)


def tcp_recv(sock):
    """Reads one length-prefixed message; None on EOF."""
    hdr = recv_exact(sock, 2)
    if hdr is None:
        return None
    (n,) = struct.unpack("!H", hdr)
    return recv_exact(sock, n)


def header(wire):
    """(id, flags, qdcount, ancount, nscount, arcount) of a DNS message."""
    return struct.unpack("!HHHHHH", wire[:12])


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def question(name, qtype=1, qclass=1):
    return encode_name(name) + struct.pack("!HH", qtype, qclass)


def opt_rr(payload=1232, version=0, ext_rcode=0, do=False, owner=b"\x00", rdata=b""):
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
    return owner + struct.pack("!HHIH", 41, payload, ttl, len(rdata)) + rdata


def raw_query(qid, body, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar) + body


# --------------------------------------------------------------------------------------
# Names and answers

def rev(ip, zone):
    return ".".join(reversed(ip.split("."))) + "." + zone


def rev6(addr, zone):
    import ipaddress
    nibbles = ipaddress.IPv6Address(addr).exploded.replace(":", "")
    return ".".join(reversed(nibbles)) + "." + zone


def neg_ttl(zone):
    z = ZONES[zone]
    return min(z["ttl"], int(z["soa"].split()[5]))


def rrsets(resp, section, rdtype):
    return [r for r in getattr(resp, section) if r.rdtype == dns.rdatatype.from_text(rdtype)]


def a_values(resp):
    return {rd.address for rs in rrsets(resp, "answer", "A") for rd in rs}


def txt_values(resp):
    return [b"".join(rd.strings).decode("utf-8", "replace")
            for rs in rrsets(resp, "answer", "TXT") for rd in rs]


def n_records(resp, section="answer"):
    return sum(len(rs) for rs in getattr(resp, section))


def describe(resp):
    return f"\n{resp.to_text()}"


def check_soa_rdata(rd, zone):
    mname, rname, refresh, retry, expire, minimum = ZONES[zone]["soa"].split()
    assert rd.mname == dns.name.from_text(mname)
    assert rd.rname == dns.name.from_text(rname)
    assert (rd.refresh, rd.retry, rd.expire, rd.minimum) == (
        int(refresh), int(retry), int(expire), int(minimum))


def check_negative_soa(resp, zone):
    """The authority section holds exactly the zone's SOA with the RFC 2308 TTL."""
    soas = rrsets(resp, "authority", "SOA")
    assert len(soas) == 1 and len(soas[0]) == 1, "no single SOA in authority" + describe(resp)
    rs = soas[0]
    assert rs.name == dns.name.from_text(zone), describe(resp)
    assert rs.ttl == neg_ttl(zone), f"SOA TTL {rs.ttl} != {neg_ttl(zone)}" + describe(resp)
    check_soa_rdata(rs[0], zone)


def assert_nxdomain(resp, zone):
    assert resp.rcode() == dns.rcode.NXDOMAIN, describe(resp)
    assert resp.flags & dns.flags.AA, "AA not set" + describe(resp)
    assert n_records(resp) == 0, describe(resp)
    check_negative_soa(resp, zone)


def assert_nodata(resp, zone):
    assert resp.rcode() == dns.rcode.NOERROR, describe(resp)
    assert resp.flags & dns.flags.AA, "AA not set" + describe(resp)
    assert n_records(resp) == 0, describe(resp)
    check_negative_soa(resp, zone)


def assert_listed_a(resp, zone, qname, a):
    assert resp.rcode() == dns.rcode.NOERROR, describe(resp)
    assert resp.flags & dns.flags.AA, "AA not set" + describe(resp)
    rs = rrsets(resp, "answer", "A")
    assert len(rs) == 1 and len(rs[0]) == 1, describe(resp)
    assert rs[0].name == dns.name.from_text(qname), describe(resp)
    assert rs[0][0].address == a, describe(resp)
    assert rs[0].ttl == ZONES[zone]["ttl"], describe(resp)
    assert n_records(resp) == 1, describe(resp)


def assert_listed_txt(resp, zone, qname, txt):
    assert resp.rcode() == dns.rcode.NOERROR, describe(resp)
    assert resp.flags & dns.flags.AA, "AA not set" + describe(resp)
    rs = rrsets(resp, "answer", "TXT")
    assert len(rs) == 1 and len(rs[0]) == 1, describe(resp)
    assert rs[0].name == dns.name.from_text(qname), describe(resp)
    assert rs[0].ttl == ZONES[zone]["ttl"], describe(resp)
    assert all(len(s) <= 255 for s in rs[0][0].strings)
    assert txt_values(resp) == [txt], describe(resp)
    assert n_records(resp) == 1, describe(resp)


def wait_for(predicate, timeout=1.0, interval=0.02):
    """Polls predicate() until true or timeout; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def soa_serial(srv, zone, transport="udp"):
    r = srv.ask(zone, "SOA", transport)
    assert r.rcode() == dns.rcode.NOERROR, describe(r)
    rs = rrsets(r, "answer", "SOA")
    assert len(rs) == 1, describe(r)
    return rs[0][0].serial


# --------------------------------------------------------------------------------------
# Trap feeds, lifecycle and the loader's other commands (export, stats, delist, history,
# expire): helpers for test_feeds.py, test_lifecycle.py, test_export.py, test_kill.py.

def one_zone(zone="bl.example", **keys):
    """make_server() arguments for a server with the single zone `zone` (from ZONES)
    and extra keys in its section, e.g. one_zone(expire_after="7d")."""
    extra = "".join(f"{k} = {v}\n" for k, v in keys.items() if v is not None)
    return {"zones": {zone: ZONES[zone]}, "extra": extra}


def rfc3339(ts, offset_minutes=0):
    """Unix seconds -> RFC 3339 text ("Z", or +hh:mm / -hh:mm with offset_minutes)."""
    import datetime
    tz = datetime.timezone(datetime.timedelta(minutes=offset_minutes))
    d = datetime.datetime.fromtimestamp(int(ts), tz)
    if offset_minutes == 0:
        return d.strftime("%Y-%m-%dT%H:%M:%SZ")
    return d.isoformat()


def parse_time(text):
    """Unix seconds or RFC 3339 text -> unix seconds (int)."""
    import datetime
    text = text.strip()
    if text.isdigit():
        return int(text)
    d = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp())


def csv_text(header, rows):
    """A csv file (RFC 4180 quoting where needed, "\\n" line ends) from a header list
    and rows (lists)."""
    import csv
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow(row)
    return buf.getvalue()


def jsonl_text(objs):
    import json
    return "".join(json.dumps(o) + "\n" for o in objs)


def gzip_bytes(text):
    import gzip
    return gzip.compress(text.encode() if isinstance(text, str) else text)


def loader_bytes(srv, *args, input=b"", timeout=60):
    """Runs dnsbl-loader with binary stdin (e.g. gzip data); output as text."""
    r = subprocess.run([str(LOADER), "-c", str(srv.config), *map(str, args)],
                       input=input, capture_output=True, cwd=srv.cwd, timeout=timeout)
    return subprocess.CompletedProcess(r.args, r.returncode,
                                       r.stdout.decode("utf-8", "replace"),
                                       r.stderr.decode("utf-8", "replace"))


def loader_ok(srv, *args, expect=0, input=None):
    """Runs dnsbl-loader ARGS, checks the exit code; returns the CompletedProcess."""
    r = srv.loader(*args, input=input)
    assert r.returncode == expect, (
        f"dnsbl-loader {' '.join(map(str, args))}: exit {r.returncode}, expected {expect}"
        f"\nstderr:\n{r.stderr}\nstdout:\n{r.stdout}")
    return r


def loader_stats(srv, zone):
    """`dnsbl-loader stats ZONE` -> (dict of key -> value text, dict of source -> int)."""
    r = loader_ok(srv, "stats", zone)
    keys, sources = {}, {}
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        k, sep, v = line.rpartition(":")
        assert sep, f"stats line without ':': {line!r}\n{r.stdout}"
        k, v = k.strip(), v.strip()
        if k.startswith("source "):
            sources[k[len("source "):]] = int(v)
        else:
            keys[k] = v
    return keys, sources


def stat(srv, zone, key):
    """One numeric value of `stats ZONE`."""
    keys, _ = loader_stats(srv, zone)
    assert key in keys, f"no '{key}:' in stats {keys}"
    return int(keys[key])


def export_text(srv, zone, fmt):
    return loader_ok(srv, "export", zone, "--format", fmt).stdout


def export_csv_rows(srv, zone):
    """`export ZONE --format csv` as a dict: ip_network -> row dict (column -> text)."""
    import csv
    import io
    import ipaddress
    text = export_text(srv, zone, "csv")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    rows = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines) + "\n")):
        row = {(k or "").strip().lower(): v for k, v in row.items()}
        ip = row["ip"]
        net = ipaddress.ip_network(ip.lstrip("!"))
        rows[("!" if ip.startswith("!") else "") + str(net)] = row
    return rows


def history_records(srv, zone, key=None, limit=None):
    """`history ZONE [KEY] [--limit N]` -> list of (time, event, prefix, actor, reason),
    newest first."""
    args = ["history", zone] + ([key] if key else []) + (["--limit", limit] if limit else [])
    r = loader_ok(srv, *args)
    out = []
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        parts = line.split(" ", 4)
        assert len(parts) >= 4, f"history line not 'TIME EVENT PREFIX ACTOR REASON': {line!r}"
        parts += [""] * (5 - len(parts))
        out.append((parse_time(parts[0]), parts[1], parts[2], parts[3], parts[4]))
    return out


def summary_count(text, word):
    """The number next to `word` in an import summary ("3 rejected" or "rejected: 3");
    None when the word is not there."""
    import re
    m = re.search(rf"(\d+)\s+{word}\b", text) or re.search(rf"\b{word}\s*[:=]?\s*(\d+)", text)
    return int(m.group(1)) if m else None


def listed(srv, ip, zone="bl.example", transport="udp"):
    """True when ip answers NOERROR with an A record, False on NXDOMAIN."""
    r = srv.ask(rev(ip, zone), "A", transport)
    assert r.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN), describe(r)
    return r.rcode() == dns.rcode.NOERROR and bool(a_values(r))


def answers(srv, ips, zone="bl.example", transport="udp"):
    """{ip: (rcode, sorted A values, TXT values)} for each ip."""
    out = {}
    for ip in ips:
        ra = srv.ask(rev(ip, zone), "A", transport)
        rt = srv.ask(rev(ip, zone), "TXT", transport)
        out[ip] = (dns.rcode.to_text(ra.rcode()), sorted(a_values(ra)),
                   dns.rcode.to_text(rt.rcode()), txt_values(rt))
    return out


def zone_section(zone, **keys):
    """Config text of a whole [zone NAME] section: ZONES[zone] plus keys (for
    make_server(extra=...) when more than one zone needs keys of its own)."""
    z = dict(ZONES[zone])
    z.update(keys)
    lines = ["", f"[zone {zone}]"] + [f"{k} = {v}" for k, v in z.items() if v is not None]
    return "\n".join(lines) + "\n"
