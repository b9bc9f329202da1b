"""NOTIFY out (RFC 1996): dnsbld announces every zone with `notify` targets at start
and after each serial change, to UDP sockets the tests hold, and resends with back-off
until a target answers."""

import socket
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring

import dnsbltest as t

BL, PBL, TL = "bl.example", "pbl.example", "tl.example"


class Target:
    """A UDP socket on 127.0.0.1 that records every NOTIFY it gets and answers them
    with rcode `answer` (None: stays silent)."""

    def __init__(self, answer=dns.rcode.NOERROR, keyring=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.keyring = keyring  # verify (and sign answers) with these TSIG keys
        self.bad = []           # what did not parse or verify
        self.got = []  # (monotonic time, dns.message)
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def _run(self):
        while not self.done:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                msg = dns.message.from_wire(data, keyring=self.keyring)
            except dns.exception.DNSException as e:
                with self.lock:
                    self.bad.append(repr(e))
                continue
            with self.lock:
                self.got.append((time.monotonic(), msg))
            if self.answer is not None:
                resp = dns.message.make_response(msg)
                resp.set_rcode(self.answer)
                self.sock.sendto(resp.to_wire(), peer)

    def notifies(self, zone=None):
        with self.lock:
            return [(ts, m) for ts, m in self.got
                    if zone is None or m.question[0].name.to_text() == zone + "."]

    def wait(self, count, zone=None, timeout=3.0):
        assert t.wait_for(lambda: len(self.notifies(zone)) >= count, timeout=timeout)
        got = self.notifies(zone)
        assert len(got) >= count, f"{len(got)} NOTIFY for {zone} in {timeout} s, wanted {count}"
        return got

    def close(self):
        self.done = True
        self.thread.join()
        self.sock.close()


def serial_of(msg):
    soa = [rr for rr in msg.answer if rr.rdtype == dns.rdatatype.SOA]
    assert len(soa) == 1, msg
    return soa[0][0].serial


def check_notify(msg, zone):
    """What RFC 1996 asks of a NOTIFY: opcode NOTIFY, AA, a query, the zone's SOA as
    the question."""
    assert msg.opcode() == dns.opcode.NOTIFY, msg
    assert msg.flags & dns.flags.AA and not msg.flags & dns.flags.QR, msg
    q = msg.question[0]
    assert (q.name.to_text(), q.rdtype) == (zone + ".", dns.rdatatype.SOA), msg


def test_notify_at_start_and_after_each_change(make_server):
    quiet = Target()
    silent = Target(answer=None)
    other = Target()
    try:
        zones = {BL: {**t.ZONES[BL], "notify": f"{quiet.addr} {silent.addr}"},
                 PBL: t.ZONES[PBL], TL: {**t.ZONES[TL], "notify": ""}}
        s = make_server(zones=zones, server_opts={"notify": other.addr})
        s.load(BL, "192.0.2.1\n")
        s.start()
        serial = t.soa_serial(s, BL)

        # at start: each target of each zone once, with the serial the SOA answers
        got = quiet.wait(1, BL)
        check_notify(got[0][1], BL)
        assert serial_of(got[0][1]) == serial
        pbl = other.wait(1, PBL)
        check_notify(pbl[0][1], PBL)
        assert serial_of(pbl[0][1]) == t.soa_serial(s, PBL)
        # the zone's own list replaces the server's; an empty one means nobody
        assert other.notifies(BL) == [] and other.notifies(TL) == []
        assert quiet.notifies(PBL) == [] and quiet.notifies(TL) == []

        # a silent target gets resends after about 1 s and then 2 s more; an
        # answering one gets nothing more
        resent = silent.wait(3, BL, timeout=5.0)
        times = [ts for ts, _ in resent[:3]]
        assert 0.8 <= times[1] - times[0] <= 1.6, times
        assert 1.8 <= times[2] - times[1] <= 2.6, times
        assert {serial_of(m) for _, m in resent} == {serial}
        assert len({m.id for _, m in resent}) == len(resent), "ids must not repeat"
        assert len(quiet.notifies(BL)) == 1

        # a change: a NOTIFY with the new serial within a second
        before = time.monotonic()
        s.load(BL, "192.0.2.2\n")
        new = t.soa_serial(s, BL)
        assert new != serial
        assert t.wait_for(lambda: any(serial_of(m) == new for _, m in quiet.notifies(BL)),
                   timeout=1.0)
        arrived = min(ts for ts, m in quiet.notifies(BL) if serial_of(m) == new)
        assert arrived - before < 1.0, arrived - before
        # and the silent target now hears of the new serial, not the old one
        assert t.wait_for(lambda: serial_of(silent.notifies(BL)[-1][1]) == new, timeout=1.0)
        assert other.notifies(BL) == []
    finally:
        for x in (quiet, silent, other):
            x.close()


def test_notify_refused_is_logged_and_not_resent(make_server):
    refusing = Target(answer=dns.rcode.REFUSED)
    try:
        s = make_server(zones={BL: {**t.ZONES[BL], "notify": refusing.addr}})
        s.load(BL, "192.0.2.1\n")
        s.start()
        refusing.wait(1, BL)
        time.sleep(1.5)
        assert len(refusing.notifies(BL)) == 1
        assert t.wait_for(lambda: "answered with rcode 5" in s.stderr_text(), timeout=1.0)
        assert f"NOTIFY of {BL} serial {t.soa_serial(s, BL)} to {refusing.addr}" in \
            s.stderr_text()
    finally:
        refusing.close()


def test_notify_after_delist_and_expire(make_server):
    """Every writer's change is announced: the loader's delist and expire too."""
    target = Target()
    try:
        s = make_server(zones={BL: {**t.ZONES[BL], "notify": target.addr}})
        s.load(BL, "192.0.2.1\n192.0.2.9\n")
        s.start()
        target.wait(1, BL)
        for args in (("delist", BL, "192.0.2.9"), ("expire",)):
            old = t.soa_serial(s, BL)
            t.loader_ok(s, *args)
            new = t.soa_serial(s, BL)
            if new == old:
                continue  # expire found nothing to sweep: no change, no NOTIFY
            assert t.wait_for(lambda: any(serial_of(m) == new for _, m in target.notifies(BL)),
                       timeout=1.0)
        assert serial_of(target.notifies(BL)[-1][1]) == t.soa_serial(s, BL)
    finally:
        target.close()


def test_notify_signed_with_the_transfer_key(make_server):
    """A zone with a transfer_key signs its NOTIFY with it (a secondary that takes
    transfers with the key takes NOTIFY with it too): the TSIG verifies with the key,
    and with another secret it does not; a zone without a key sends it unsigned."""
    secret = "c2lnbmVkLW5vdGlmeS1zZWNyZXQtMDEyMzQ1Njc4OQ=="
    good = Target(keyring=dns.tsigkeyring.from_text({"nk.": ("hmac-sha256", secret)}))
    wrong = Target(keyring=dns.tsigkeyring.from_text(
        {"nk.": ("hmac-sha256", "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC0wMTIz")}))
    plain = Target()
    try:
        zones = {BL: {**t.ZONES[BL], "notify": f"{good.addr} {wrong.addr}",
                      "transfer_key": "nk"},
                 PBL: {**t.ZONES[PBL], "notify": plain.addr}}
        s = make_server(zones=zones,
                        extra=f"\n[key nk]\nalgorithm = hmac-sha256\nsecret = {secret}\n")
        s.load(BL, "192.0.2.1\n")
        s.start()
        got = good.wait(1, BL)
        msg = got[0][1]
        check_notify(msg, BL)
        assert msg.had_tsig and msg.keyname.to_text() == "nk.", msg
        assert msg.keyalgorithm == dns.tsig.HMAC_SHA256
        assert serial_of(msg) == t.soa_serial(s, BL)
        assert good.bad == []
        # the wrong secret: dnspython rejects the signature (and so does not answer,
        # and dnsbld sends again)
        assert t.wait_for(lambda: len(wrong.bad) >= 2, timeout=3.0), wrong.bad
        assert all("BadSignature" in b or "PeerBadSignature" in b for b in wrong.bad), wrong.bad
        unsigned = plain.wait(1, PBL)[0][1]
        assert not unsigned.had_tsig
        # the signed answer stopped the resends
        time.sleep(1.5)
        assert len(good.notifies(BL)) == 1
    finally:
        for x in (good, wrong, plain):
            x.close()


def test_knot_takes_the_signed_notify(make_server, tmp_path):
    """Knot, told to take NOTIFY for a zone only signed with its transfer key, takes
    dnsbld's and fetches the new serial without being asked to refresh."""
    import secondaries as sec
    key = sec.TsigKey("nk", "hmac-sha256", "a25vdC1ub3RpZnkta2V5LXNlY3JldC0wMTIzNDU2Nzg5")
    with sec.Fleet() as fleet:
        s = make_server(zones={BL: {**t.ZONES[BL], "transfer_key": "nk"}},
                        server_opts={"allow_transfer": "127.0.0.1/32"},
                        extra=f"\n[key nk]\nalgorithm = hmac-sha256\nsecret = {key.secret_b64}\n")
        knot = fleet.add(sec.Knot(tmp_path / "knot", [BL], primary=(s.host, s.port), tsig=key))
        text = s.config.read_text().replace(f"[zone {BL}]\n",
                                            f"[zone {BL}]\nnotify = 127.0.0.1:{knot.port}\n")
        s.config.write_text(text)
        s.load(BL, "192.0.2.1\n")
        s.start()
        knot.start()
        serial = t.soa_serial(s, BL)
        assert knot.wait_serial(BL, serial, 15) == serial, knot.output()[-3000:]
        mark = knot.log_mark()
        s.load(BL, "192.0.2.2\n")
        new = t.soa_serial(s, BL)
        assert knot.wait_serial(BL, new, 5) == new, knot.log_since(mark)
        log = knot.log_since(mark)
        assert "notify, incoming" in log and "TSIG" not in log.split("notify, incoming")[0], log
        r = knot.query("2.2.0.192." + BL, "A")
        assert r.rcode() == dns.rcode.NOERROR, r
        s.stop()
