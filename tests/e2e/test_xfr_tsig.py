"""TSIG (RFC 8945) on zone transfers and signed queries, against a running dnsbld.

A zone with transfer_key answers AXFR/IXFR only to a request signed with that key
(and from allow_transfer), and signs every message; dnspython checks each message's
MAC, and dig and kdig check theirs. Wrong secret, wrong key name, no TSIG and a clock
far off each get their RFC 8945 answer, read from the raw response. Signed SOA
queries over UDP and TCP (what secondaries send) get signed answers.
"""

import base64
import re
import hashlib
import socket
import struct
import subprocess
import time

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import pytest

import dnsbltest as t

ALGORITHMS = {
    "hmac-md5": dns.tsig.HMAC_MD5,
    "hmac-sha1": dns.tsig.HMAC_SHA1,
    "hmac-sha224": dns.tsig.HMAC_SHA224,
    "hmac-sha256": dns.tsig.HMAC_SHA256,
    "hmac-sha384": dns.tsig.HMAC_SHA384,
    "hmac-sha512": dns.tsig.HMAC_SHA512,
}
MAC_SIZE = {"hmac-md5": 16, "hmac-sha1": 20, "hmac-sha224": 28, "hmac-sha256": 32,
            "hmac-sha384": 48, "hmac-sha512": 64}
BADSIG, BADKEY, BADTIME = 16, 17, 18
NOTAUTH = 9
N_ENTRIES = 3000  # enough records for several 16 KiB transfer messages
REJECTED_SENT = [0]  # signed queries sent that the query path must turn away


def secret_for(name):
    """A fixed 32-byte secret per key name, base64."""
    return base64.b64encode(hashlib.sha256(name.encode()).digest()).decode()


def key_of(name, alg="hmac-sha256", secret=None):
    return dns.tsig.Key(name, secret or secret_for(name), ALGORITHMS[alg])


def zone_section(name):
    return {"type": "ip", "policy": "block", "ttl": 300, "a": "127.0.0.2",
            "txt": "Listed: $", "soa": f"ns1.{name}. hostmaster.{name}. 3600 600 86400 120", "ns": f"ns1.{name}."}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    zones = {
        "bl.example": zone_section("bl.example"),
        "open.example": zone_section("open.example"),
        "far.example": zone_section("far.example"),
    }
    for alg in ALGORITHMS:
        zones[f"{alg}.example"] = zone_section(f"{alg}.example")
    s = t.Dnsbl(tmp_path_factory.mktemp("xfrtsig"), zones=zones,
                server_opts={"allow_transfer": "127.0.0.1 ::1"})
    # config_text writes the zone keys in a fixed order: add transfer_key and ACLs by
    # rewriting the sections
    text = s.config.read_text()
    text = text.replace("[zone bl.example]\n", "[zone bl.example]\ntransfer_key = xfr\n")
    text = text.replace("[zone far.example]\n",
                        "[zone far.example]\ntransfer_key = xfr\nallow_transfer = 10.9.9.9\n")
    for alg in ALGORITHMS:
        text = text.replace(f"[zone {alg}.example]\n",
                            f"[zone {alg}.example]\ntransfer_key = k-{alg}\n")
    text += f"\n[key xfr]\nalgorithm = hmac-sha256\nsecret = {secret_for('xfr')}\n"
    for alg in ALGORITHMS:
        text += f"\n[key k-{alg}]\nalgorithm = {alg}\nsecret = {secret_for('k-' + alg)}\n"
    s.config.write_text(text)
    data = "".join(f"10.{i // 250}.{i % 250}.1\n" for i in range(N_ENTRIES))
    s.load("bl.example", data)
    s.load("open.example", "192.0.2.1\n")
    s.start()
    yield s
    rc = s.stop()
    assert rc == 0, s.stderr_text()
    # the query path counts the signed queries it turned away (test_signed_query_errors
    # sends 4 per run; the secondaries' may add theirs), and logs the count at the end
    m = re.search(r"(\d+) signed queries rejected \(TSIG\)", s.stderr_text())
    assert m and int(m.group(1)) >= REJECTED_SENT[0], s.stderr_text()[-2000:]


# ---- raw helpers


def tcp_exchange(srv, wire, want=1, timeout=5.0):
    """Sends wire over TCP and reads messages until want arrived or the server
    closes (want=None: until close)."""
    out = []
    with socket.create_connection((srv.host, srv.port), timeout=timeout) as sock:
        t.tcp_send(sock, wire)
        while want is None or len(out) < want:
            try:
                m = t.tcp_recv(sock)
            except OSError:
                break
            if m is None:
                break
            out.append(m)
    return out


def udp_exchange(srv, wire, timeout=2.0):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(wire, (srv.host, srv.port))
        return s.recv(65535)


def skip_name(w, p):
    while True:
        n = w[p]
        if n & 0xC0 == 0xC0:
            return p + 2
        p += 1 + n
        if n == 0:
            return p


def read_name(w, p):
    """The (uncompressed) name at p as text, and the offset after it."""
    labels, end = [], None
    while True:
        n = w[p]
        if n & 0xC0 == 0xC0:
            end = end or p + 2
            p = ((n & 0x3F) << 8) | w[p + 1]
            continue
        if n == 0:
            return ".".join(labels) + ".", end or p + 1
        labels.append(w[p + 1:p + 1 + n].decode())
        p += 1 + n


def parse_tsig(w):
    """The response's rcode and its last record when it is a TSIG (else None), read
    without dnspython's checks (which stop at a TSIG error)."""
    qd, an, ns, ar = struct.unpack("!4H", w[4:12])
    rcode = w[3] & 0xF
    p = 12
    for _ in range(qd):
        p = skip_name(w, p) + 4
    last = None
    for _ in range(an + ns + ar):
        start = p
        p = skip_name(w, p)
        rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", w[p:p + 10])
        last = (start, rtype, rclass, ttl, p + 10, rdlen)
        p += 10 + rdlen
    assert p == len(w), "trailing bytes"
    if last is None or last[1] != dns.rdatatype.TSIG:
        return rcode, None
    start, _, rclass, ttl, rd, rdlen = last
    owner, _ = read_name(w, start)
    alg, q = read_name(w, rd)
    hi, lo, fudge, maclen = struct.unpack("!HIHH", w[q:q + 10])
    mac = w[q + 10:q + 10 + maclen]
    q += 10 + maclen
    orig_id, error, olen = struct.unpack("!HHH", w[q:q + 6])
    other = w[q + 6:q + 6 + olen]
    assert q + 6 + olen == rd + rdlen
    return rcode, {"owner": owner, "class": rclass, "ttl": ttl, "algorithm": alg,
                   "time": hi << 32 | lo, "fudge": fudge, "mac": mac, "orig_id": orig_id,
                   "error": error, "other": other}


def signed_query(zone, rdtype, key, time_offset=0):
    """A query signed with key; time_offset moves the signer's clock."""
    q = dns.message.make_query(zone, rdtype)
    q.use_tsig(key)
    if time_offset == 0:
        return q, q.to_wire()
    real = time.time
    time.time = lambda: real() + time_offset  # dnspython's renderer signs with time.time()
    try:
        return q, q.to_wire()
    finally:
        time.time = real


def axfr_messages(srv, zone, key):
    """AXFR of zone signed with key; every message parsed and its MAC verified by
    dnspython, chained as RFC 8945 5.3.1 has it. Returns the messages."""
    q, wire = signed_query(zone, "AXFR", key)
    raw = tcp_exchange(srv, wire, want=None)
    assert raw, "no answer"
    msgs, ctx, soas = [], None, 0
    for w in raw:
        m = dns.message.from_wire(w, keyring=key, request_mac=q.mac, xfr=True,
                                  origin=dns.name.from_text(zone), tsig_ctx=ctx, multi=True)
        # dnspython lets unsigned messages through inside a transfer: we sign every one
        assert m.had_tsig, f"message {len(msgs)} of {len(raw)} is not signed"
        ctx = m.tsig_ctx
        msgs.append(m)
        soas += sum(1 for rr in m.answer if rr.rdtype == dns.rdatatype.SOA)
        if soas >= 2:
            break
    assert soas == 2, "the transfer did not end with the SOA"
    return msgs


# ---- transfers


def test_axfr_good_key_every_message_signed(srv):
    msgs = axfr_messages(srv, "bl.example", key_of("xfr"))
    assert len(msgs) > 1, "expected a multi-message transfer"
    origin = dns.name.from_text("bl.example")
    names = {rr.name.derelativize(origin).to_text() for m in msgs for rr in m.answer}
    # every entry made it: one A (and TXT) owner per address
    assert sum(1 for n in names if n.endswith(".10.bl.example.")) == N_ENTRIES
    # the library's own transfer (dns.query.xfr) agrees
    n = 0
    for m in dns.query.xfr(srv.host, "bl.example", port=srv.port, keyring=key_of("xfr"),
                           timeout=10, lifetime=30):
        assert m.had_tsig
        n += 1
    assert n == len(msgs)


@pytest.mark.parametrize("alg", list(ALGORITHMS))
def test_axfr_each_algorithm(srv, alg):
    zone = f"{alg}.example"
    axfr_messages(srv, zone, key_of(f"k-{alg}", alg))
    # what goes on the wire: the algorithm's name and a full-length MAC
    raw = tcp_exchange(srv, signed_query(zone, "AXFR", key_of(f"k-{alg}", alg))[1])
    rc, ts = parse_tsig(raw[0])
    assert rc == 0
    assert ts["algorithm"] == alg + (".sig-alg.reg.int." if alg == "hmac-md5" else ".")
    assert len(ts["mac"]) == MAC_SIZE[alg]
    # the same key name and secret under another algorithm is another key: BADKEY
    other = "hmac-sha512" if alg != "hmac-sha512" else "hmac-sha1"
    rc, ts = parse_tsig(tcp_exchange(
        srv, signed_query(zone, "AXFR", key_of(f"k-{alg}", other, secret_for(f"k-{alg}")))[1])[0])
    assert (rc, ts["error"], len(ts["mac"])) == (NOTAUTH, BADKEY, 0)
    assert wait_log(srv, f"refused: TSIG BADKEY (key k-{alg} {other}, expected k-{alg} {alg})")


def test_ixfr_signed(srv):
    key = key_of("xfr")
    serial = (t.soa_serial(srv, "bl.example") - 1) % 2**32  # behind: the whole zone comes
    q = dns.message.make_query("bl.example", "IXFR")
    q.authority.append(dns.rrset.from_text("bl.example.", 0, "IN", "SOA",
                                           f"ns1. h. {serial} 1 1 1 1"))
    q.use_tsig(key)
    raw = tcp_exchange(srv, q.to_wire(), want=None)
    ctx = None
    for w in raw:
        m = dns.message.from_wire(w, keyring=key, request_mac=q.mac, xfr=True,
                                  origin=dns.name.from_text("bl.example"), tsig_ctx=ctx,
                                  multi=True)
        assert m.had_tsig
        ctx = m.tsig_ctx
    assert len(raw) > 1
    # a current secondary gets the SOA alone, signed too
    q = dns.message.make_query("bl.example", "IXFR")
    q.authority.append(dns.rrset.from_text("bl.example.", 0, "IN", "SOA",
                                           f"ns1. h. {(serial + 1) % 2**32} 1 1 1 1"))
    q.use_tsig(key)
    raw = tcp_exchange(srv, q.to_wire(), want=None)
    assert len(raw) == 1
    m = dns.message.from_wire(raw[0], keyring=key, request_mac=q.mac, xfr=True,
                              origin=dns.name.from_text("bl.example"))
    assert m.had_tsig and [rr.rdtype for rr in m.answer] == [dns.rdatatype.SOA]


def test_axfr_wrong_secret_badsig(srv):
    bad = key_of("xfr", secret=base64.b64encode(b"\x01" * 32).decode())
    q, wire = signed_query("bl.example", "AXFR", bad)
    raw = tcp_exchange(srv, wire)
    assert len(raw) == 1
    rc, ts = parse_tsig(raw[0])
    assert rc == NOTAUTH
    assert ts is not None, "a BADSIG answer carries a TSIG record"
    assert ts["error"] == BADSIG and ts["mac"] == b"" and ts["owner"] == "xfr."
    assert ts["orig_id"] == q.id
    assert wait_log(srv, "transfer of bl.example to 127.0.0.1 refused: TSIG BADSIG (key xfr)")


def test_axfr_wrong_key_name_badkey(srv):
    q, wire = signed_query("bl.example", "AXFR", key_of("not-the-key", secret=secret_for("xfr")))
    rc, ts = parse_tsig(tcp_exchange(srv, wire)[0])
    assert (rc, ts["error"], ts["mac"], ts["owner"]) == (NOTAUTH, BADKEY, b"", "not-the-key.")
    assert wait_log(srv, "refused: TSIG BADKEY (key not-the-key hmac-sha256, expected xfr "
                         "hmac-sha256)")


def test_axfr_without_tsig_refused(srv):
    q = dns.message.make_query("bl.example", "AXFR")
    rc, ts = parse_tsig(tcp_exchange(srv, q.to_wire())[0])
    assert (rc, ts) == (dns.rcode.REFUSED, None)
    assert wait_log(srv, "transfer of bl.example to 127.0.0.1 refused: no TSIG (transfer_key xfr)")


def test_axfr_time_far_off_badtime(srv):
    q, wire = signed_query("bl.example", "AXFR", key_of("xfr"), time_offset=-3600)
    before = int(time.time())
    rc, ts = parse_tsig(tcp_exchange(srv, wire)[0])
    after = int(time.time())
    assert (rc, ts["error"]) == (NOTAUTH, BADTIME)
    # signed (RFC 8945 5.2.3): the request's time back, ours in Other Data
    assert len(ts["mac"]) == 32
    assert abs(ts["time"] - (before - 3600)) <= 2
    server_time = int.from_bytes(ts["other"], "big")
    assert len(ts["other"]) == 6 and before - 1 <= server_time <= after + 1
    assert wait_log(srv, "refused: TSIG BADTIME (key xfr")
    # inside the fudge (300 s) it is fine
    q, wire = signed_query("bl.example", "SOA", key_of("xfr"), time_offset=-200)
    r = dns.message.from_wire(udp_exchange(srv, wire), keyring=key_of("xfr"), request_mac=q.mac)
    assert r.rcode() == dns.rcode.NOERROR and r.had_tsig


def test_keyed_zone_acl_still_applies(srv):
    """far.example has the key but allows only 10.9.9.9: refused, signed."""
    key = key_of("xfr")
    q, wire = signed_query("far.example", "AXFR", key)
    raw = tcp_exchange(srv, wire)
    r = dns.message.from_wire(raw[0], keyring=key, request_mac=q.mac)
    assert r.rcode() == dns.rcode.REFUSED and r.had_tsig
    assert wait_log(srv, "transfer of far.example to 127.0.0.1 refused: not in allow_transfer")


def test_keyless_zone(srv):
    """A zone without transfer_key transfers unsigned; a signed request for it gets
    BADKEY (the key is not one it knows)."""
    msgs = list(dns.query.xfr(srv.host, "open.example", port=srv.port, timeout=10))
    assert msgs and not any(m.had_tsig for m in msgs)
    q, wire = signed_query("open.example", "AXFR", key_of("xfr"))
    rc, ts = parse_tsig(tcp_exchange(srv, wire)[0])
    assert (rc, ts["error"], ts["mac"]) == (NOTAUTH, BADKEY, b"")


# ---- signed queries (the secondaries' SOA checks)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_signed_soa_query_signed_answer(srv, transport):
    key = key_of("xfr")
    q, wire = signed_query("bl.example", "SOA", key)
    w = udp_exchange(srv, wire) if transport == "udp" else tcp_exchange(srv, wire)[0]
    r = dns.message.from_wire(w, keyring=key, request_mac=q.mac)
    assert r.had_tsig and r.rcode() == dns.rcode.NOERROR
    assert r.answer[0].rdtype == dns.rdatatype.SOA
    # the same answer as unsigned, plus the TSIG
    u = srv.ask("bl.example", "SOA", transport)
    assert r.answer == u.answer
    # dnspython's own query path checks it too
    q = dns.message.make_query("bl.example", "SOA")
    q.use_tsig(key)
    r = (dns.query.udp if transport == "udp" else dns.query.tcp)(q, srv.host, port=srv.port,
                                                                  timeout=2)
    assert r.had_tsig


def test_signed_ixfr_over_udp(srv):
    """NSD's first probe: IXFR over UDP gets the SOA alone (RFC 1995 2), signed."""
    key = key_of("xfr")
    q = dns.message.make_query("bl.example", "IXFR")
    q.authority.append(dns.rrset.from_text("bl.example.", 0, "IN", "SOA", "ns1. h. 1 1 1 1 1"))
    q.use_tsig(key)
    r = dns.message.from_wire(udp_exchange(srv, q.to_wire()), keyring=key, request_mac=q.mac)
    assert r.had_tsig and r.rcode() == dns.rcode.NOERROR
    assert [rr.rdtype for rr in r.answer] == [dns.rdatatype.SOA]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_signed_query_errors(srv, transport):
    def ask(zone, rdtype, key):
        q, wire = signed_query(zone, rdtype, key)
        return parse_tsig(udp_exchange(srv, wire) if transport == "udp"
                          else tcp_exchange(srv, wire)[0])
    bad = key_of("xfr", secret=base64.b64encode(b"\x02" * 32).decode())
    assert ask("bl.example", "SOA", bad)[0] == NOTAUTH
    assert ask("bl.example", "SOA", bad)[1]["error"] == BADSIG
    rc, ts = ask("bl.example", "SOA", key_of("unknown"))
    assert (rc, ts["error"], ts["mac"]) == (NOTAUTH, BADKEY, b"")
    # a zone without a transfer key knows no key
    rc, ts = ask("open.example", "SOA", key_of("xfr"))
    assert (rc, ts["error"]) == (NOTAUTH, BADKEY)
    REJECTED_SENT[0] += 4
    # a listed address, signed: the usual answer, signed
    key = key_of("xfr")
    q, wire = signed_query("1.5.0.10.bl.example", "A", key)
    w = udp_exchange(srv, wire) if transport == "udp" else tcp_exchange(srv, wire)[0]
    r = dns.message.from_wire(w, keyring=key, request_mac=q.mac)
    assert r.had_tsig and r.rcode() == dns.rcode.NOERROR
    assert [rd.address for rd in r.answer[0]] == ["127.0.0.2"]


def test_malformed_tsig_formerr(srv):
    q, wire = signed_query("bl.example", "SOA", key_of("xfr"))
    # the TSIG record's rdlength one short: malformed, FORMERR and no TSIG back
    rc, ts = parse_tsig(udp_exchange(srv, wire[:-1]))
    assert (rc, ts) == (dns.rcode.FORMERR, None)


# ---- other clients


def wait_log(srv, text, timeout=2.0):
    return t.wait_for(lambda: text in srv.stderr_text(), timeout=timeout)


def test_dig_axfr(srv):
    y = f"hmac-sha256:xfr:{secret_for('xfr')}"
    r = subprocess.run(["dig", "+tcp", "-p", str(srv.port), f"@{srv.host}", "-y", y,
                        "bl.example", "AXFR"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "Transfer failed" not in r.stdout and "verify" not in r.stdout.lower()
    assert "TSIG" in r.stdout and "NOERROR" in r.stdout
    assert r.stdout.count("\tA\t127.0.0.2") >= N_ENTRIES
    r = subprocess.run(["dig", "+tcp", "-p", str(srv.port), f"@{srv.host}", "-y",
                        "hmac-sha256:xfr:" + base64.b64encode(b"x" * 32).decode(),
                        "bl.example", "AXFR"], capture_output=True, text=True, timeout=30)
    assert "BADSIG" in r.stdout and "Transfer failed" in r.stdout


def test_kdig_axfr_and_soa(srv):
    y = f"hmac-sha256:xfr:{secret_for('xfr')}"
    r = subprocess.run(["kdig", "-p", str(srv.port), f"@{srv.host}", "-y", y, "AXFR",
                        "bl.example"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "WARNING" not in r.stdout + r.stderr, r.stdout + r.stderr
    assert r.stdout.count("\tA\t127.0.0.2") >= N_ENTRIES
    for extra in ([], ["+tcp"]):
        r = subprocess.run(["kdig", "-p", str(srv.port), f"@{srv.host}", "-y", y, *extra,
                            "SOA", "bl.example"], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0 and "NOERROR" in r.stdout, r.stdout + r.stderr
        assert "WARNING" not in r.stdout + r.stderr, r.stdout + r.stderr
        assert "TSIG PSEUDOSECTION" in r.stdout


# ---- Knot as a secondary


def knot_conf(d, port, primary_port, secret):
    return f"""server:
    rundir: {d}/run
    listen: 127.0.0.1@{port}
database:
    storage: {d}/db
key:
  - id: xfr
    algorithm: hmac-sha256
    secret: {secret}
remote:
  - id: primary
    address: 127.0.0.1@{primary_port}
    key: xfr
template:
  - id: default
    storage: {d}/zones
    zonefile-sync: -1
    zonefile-load: none
    journal-content: none
zone:
  - domain: bl.example
    master: primary
log:
  - target: stderr
    any: info
"""


class Knot:
    """knotd on a high port with its own rundir, storage and config (foreground)."""

    def __init__(self, d, primary_port, secret):
        self.dir = d
        for sub in ("run", "db", "zones"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        self.port = t.free_port()
        self.conf = d / "knot.conf"
        self.conf.write_text(knot_conf(d, self.port, primary_port, secret))
        self.log = d / "knotd.log"
        self.proc = None

    def __enter__(self):
        self._logf = open(self.log, "wb")
        self.proc = subprocess.Popen(["knotd", "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                     stdout=self._logf, stderr=self._logf)
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._logf.close()

    def log_text(self):
        return self.log.read_text(errors="replace")

    def ask(self, name, rdtype):
        q = dns.message.make_query(name, rdtype)
        return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=2)

    def knotc(self, *args):
        return subprocess.run(["knotc", "-c", str(self.conf), *args], capture_output=True,
                              text=True, timeout=10)


def test_knot_secondary_transfers_with_key(srv, tmp_path):
    serial = t.soa_serial(srv, "bl.example")
    with Knot(tmp_path / "knot", srv.port, secret_for("xfr")) as k:
        assert t.wait_for(lambda: "zone updated" in k.log_text(), timeout=20), k.log_text()
        r = k.ask("bl.example", "SOA")
        assert r.rcode() == dns.rcode.NOERROR and r.answer[0][0].serial == serial
        # the records came over: Knot answers a listed address as we do
        for i in (0, 1234, N_ENTRIES - 1):
            name = f"1.{i % 250}.{i // 250}.10.bl.example"
            ours, theirs = srv.ask(name, "A"), k.ask(name, "A")
            assert theirs.rcode() == ours.rcode() == dns.rcode.NOERROR
            assert t.a_values(theirs) == t.a_values(ours) == {"127.0.0.2"}
        # a refresh is a signed SOA query: Knot accepts our signed answer
        mark = len(k.log_text())
        assert k.knotc("zone-refresh", "bl.example").returncode == 0
        assert t.wait_for(lambda: "is up-to-date" in k.log_text()[mark:], timeout=10), \
            k.log_text()[mark:]


def test_knot_secondary_wrong_secret(srv, tmp_path):
    bad = base64.b64encode(b"\x03" * 32).decode()
    with Knot(tmp_path / "knot", srv.port, bad) as k:
        assert t.wait_for(lambda: "failed" in k.log_text(), timeout=20), k.log_text()
        assert "zone updated" not in k.log_text()
        assert k.ask("bl.example", "SOA").rcode() == dns.rcode.SERVFAIL
    assert wait_log(srv, "transfer of bl.example to 127.0.0.1 refused: TSIG BADSIG (key xfr)")


# ---- NSD as a secondary


class Nsd:
    """nsd -d on a high port, no chroot or user switch, everything in its directory."""

    def __init__(self, d, primary_port, secret, first="AXFR "):
        d.mkdir(parents=True, exist_ok=True)
        self.dir = d
        self.port = t.free_port()
        self.conf = d / "nsd.conf"
        self.log = d / "nsd.log"
        self.conf.write_text(f"""server:
    port: {self.port}
    ip-address: 127.0.0.1
    username: ""
    chroot: ""
    zonesdir: {d}
    database: ""
    pidfile: {d}/nsd.pid
    xfrdfile: {d}/xfrd.state
    xfrdir: {d}
    zonelistfile: {d}/zone.list
    logfile: {self.log}
    verbosity: 2
remote-control:
    control-enable: no
key:
    name: xfr
    algorithm: hmac-sha256
    secret: "{secret}"
zone:
    name: bl.example
    zonefile: bl.example.zone
    request-xfr: {first}127.0.0.1@{primary_port} xfr
""")
        self.proc = None

    def __enter__(self):
        self._out = open(self.dir / "nsd.out", "wb")
        self.proc = subprocess.Popen(["nsd", "-d", "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._out)
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def ask(self, name, rdtype):
        return dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=self.port,
                             timeout=2)


# "": NSD's default, an IXFR probe over UDP (signed) before the transfer over TCP
@pytest.mark.parametrize("first", ["AXFR ", ""])
def test_nsd_secondary_transfers_with_key(srv, tmp_path, first):
    serial = t.soa_serial(srv, "bl.example")
    with Nsd(tmp_path / "nsd", srv.port, secret_for("xfr"), first) as n:
        assert t.wait_for(lambda: "TSIG verified with key xfr" in n.log_text(), timeout=20), \
            n.log_text()
        assert t.wait_for(lambda: n.ask("bl.example", "SOA").rcode() == dns.rcode.NOERROR,
                          timeout=5), n.log_text()
        assert n.ask("bl.example", "SOA").answer[0][0].serial == serial
        for i in (0, 777, N_ENTRIES - 1):
            name = f"1.{i % 250}.{i // 250}.10.bl.example"
            assert t.a_values(n.ask(name, "A")) == t.a_values(srv.ask(name, "A")) == {"127.0.0.2"}


def test_nsd_secondary_wrong_secret(srv, tmp_path):
    mark = len(srv.stderr_text())
    bad = base64.b64encode(b"\x04" * 32).decode()
    with Nsd(tmp_path / "nsd", srv.port, bad) as n:
        assert t.wait_for(lambda: "refused: TSIG BADSIG (key xfr)" in srv.stderr_text()[mark:],
                          timeout=20), n.log_text()
        assert "TSIG verified" not in n.log_text()
        assert n.ask("bl.example", "SOA").rcode() == dns.rcode.SERVFAIL
