"""Writes by dnsbl-loader while dnsbld runs are answered at once (no restart, no
signal); SOA serials; clean shutdown."""

import signal
import subprocess
import threading
import time

import dns.exception
import dns.rcode
import pytest

import dnsbltest as t
from dnsbltest import rev

BL = "bl.example"
LIVE = 1.0  # seconds within which a committed import must be answered


def _rcode(srv, ip, zone=BL, qtype="A", transport="udp"):
    return srv.ask(rev(ip, zone), qtype, transport).rcode()


def _becomes(srv, ip, rcode, zone=BL, transport="udp"):
    start = time.monotonic()
    ok = t.wait_for(lambda: _rcode(srv, ip, zone, transport=transport) == rcode, LIVE)
    return ok, time.monotonic() - start


def test_import_while_running_is_answered(make_server, transport):
    srv = make_server(standard=True, start=True)
    ip = "192.0.2.77"
    t.assert_nxdomain(srv.ask(rev(ip, BL), "A", transport), BL)
    srv.load(BL, f"{ip} :127.0.0.3:Live $\n", fmt="rbldnsd", source="live")
    ok, took = _becomes(srv, ip, dns.rcode.NOERROR, transport=transport)
    assert ok, f"{ip} not listed {LIVE}s after the import"
    t.assert_listed_a(srv.ask(rev(ip, BL), "A", transport), BL, rev(ip, BL), "127.0.0.3")
    t.assert_listed_txt(srv.ask(rev(ip, BL), "TXT", transport), BL, rev(ip, BL),
                        f"Live {ip}")
    # the standard data is still there
    t.assert_listed_a(srv.ask(rev("192.0.2.2", BL), "A", transport), BL,
                      rev("192.0.2.2", BL), "127.0.0.3")


def test_start_with_empty_store_then_import(make_server):
    srv = make_server(start=True)  # no import yet: no store at all
    for zone in t.ZONES:
        t.assert_listed_a(srv.ask(rev("127.0.0.2", zone), "A"), zone, rev("127.0.0.2", zone),
                          t.ZONES[zone]["a"])
        t.assert_nxdomain(srv.ask(rev("127.0.0.1", zone), "A"), zone)
        t.assert_nodata(srv.ask("0.0.127." + zone, "A"), zone)
    t.assert_nxdomain(srv.ask(rev("192.0.2.1", BL), "A"), BL)
    t.assert_nxdomain(srv.ask("2.0.192.bl.example", "A"), BL)
    srv.load(BL, "192.0.2.1\n")
    ok, took = _becomes(srv, "192.0.2.1", dns.rcode.NOERROR)
    assert ok, f"import into a store created after dnsbld started not answered within {LIVE}s"
    t.assert_listed_a(srv.ask(rev("192.0.2.1", BL), "A"), BL, rev("192.0.2.1", BL), "127.0.0.2")
    t.assert_nodata(srv.ask("2.0.192.bl.example", "A"), BL)
    t.assert_nxdomain(srv.ask(rev("192.0.2.1", "pbl.example"), "A"), "pbl.example")


def test_replace_delists_live(make_server, transport):
    srv = make_server(standard=True, start=True)
    srv.load(BL, "192.0.2.170\n192.0.2.171\n192.0.2.172\n233.252.0.0/24\n", source="feed")
    for ip in ("192.0.2.170", "192.0.2.171", "192.0.2.172", "233.252.0.9"):
        ok, _ = _becomes(srv, ip, dns.rcode.NOERROR, transport=transport)
        assert ok, ip
    t.assert_nodata(srv.ask("0.252.233.bl.example", "A", transport), BL)
    srv.load(BL, "192.0.2.170\n192.0.2.172\n", source="feed", replace=True)
    for ip in ("192.0.2.171", "233.252.0.9"):
        ok, took = _becomes(srv, ip, dns.rcode.NXDOMAIN, transport=transport)
        assert ok, f"{ip} still listed {LIVE}s after --replace dropped it"
    t.assert_nxdomain(srv.ask(rev("192.0.2.171", BL), "A", transport), BL)
    t.assert_nxdomain(srv.ask("0.252.233.bl.example", "A", transport), BL)
    assert _rcode(srv, "192.0.2.170", transport=transport) == dns.rcode.NOERROR
    assert _rcode(srv, "192.0.2.172", transport=transport) == dns.rcode.NOERROR
    # entries of the "default" source are untouched
    t.assert_listed_a(srv.ask(rev("192.0.2.3", BL), "A", transport), BL,
                      rev("192.0.2.3", BL), "127.0.0.4")


def test_exclusion_and_value_change_live(make_server):
    srv = make_server(standard=True, start=True)
    assert _rcode(srv, "198.51.100.44") == dns.rcode.NOERROR
    srv.load(BL, "!198.51.100.44\n198.51.100.45 :127.0.0.8:Changed $\n", fmt="rbldnsd",
             source="fix")
    ok, _ = _becomes(srv, "198.51.100.44", dns.rcode.NXDOMAIN)
    assert ok, "a new exclusion is not answered"
    assert t.wait_for(lambda: t.a_values(srv.ask(rev("198.51.100.45", BL), "A")) == {"127.0.0.8"},
                      LIVE), "a new more-specific value is not answered"
    assert t.txt_values(srv.ask(rev("198.51.100.45", BL), "TXT")) == ["Changed 198.51.100.45"]
    assert t.a_values(srv.ask(rev("198.51.100.46", BL), "A")) == {"127.0.0.3"}
    # update an existing entry's value by merging
    srv.load(BL, "192.0.2.2 :127.0.0.9:Updated $\n", fmt="rbldnsd")
    assert t.wait_for(lambda: t.a_values(srv.ask(rev("192.0.2.2", BL), "A")) == {"127.0.0.9"},
                      LIVE), "a merged value change is not answered"
    assert t.txt_values(srv.ask(rev("192.0.2.2", BL), "TXT")) == ["Updated 192.0.2.2"]


def test_soa_serial_grows_per_zone(make_server, transport):
    srv = make_server(standard=True, start=True)
    bl0 = t.soa_serial(srv, BL, transport)
    pbl0 = t.soa_serial(srv, "pbl.example", transport)
    srv.load(BL, "192.0.2.180\n")
    assert t.wait_for(lambda: t.soa_serial(srv, BL, transport) > bl0, LIVE), \
        "bl.example serial did not grow after an import into bl.example"
    bl1 = t.soa_serial(srv, BL, transport)
    assert t.soa_serial(srv, "pbl.example", transport) == pbl0, \
        "pbl.example serial changed by an import into bl.example"
    srv.load(BL, "192.0.2.181\n")
    assert t.wait_for(lambda: t.soa_serial(srv, BL, transport) > bl1, LIVE), \
        "bl.example serial did not grow after a second import"
    srv.load("pbl.example", "192.0.2.182\n")
    assert t.wait_for(lambda: t.soa_serial(srv, "pbl.example", transport) > pbl0, LIVE)
    # negative answers carry the same SOA
    r = srv.ask(rev("192.0.2.183", BL), "A", transport)
    assert t.rrsets(r, "authority", "SOA")[0][0].serial == t.soa_serial(srv, BL, transport)


def test_answers_continue_during_a_large_import(make_server):
    srv = make_server(standard=True, start=True)
    n = 60000
    lines = "".join(f"10.{100 + i // 65536}.{(i // 256) % 256}.{i % 256}\n" for i in range(n))
    path = srv.data_file(lines)
    stop = threading.Event()
    stats = {"ok": 0, "bad": 0, "errors": []}

    def hammer():
        qname = rev("192.0.2.2", BL)
        while not stop.is_set():
            try:
                r = srv.ask(qname, "A", timeout=1.0)
                if t.a_values(r) == {"127.0.0.3"}:
                    stats["ok"] += 1
                else:
                    stats["bad"] += 1
                    stats["errors"].append(r.to_text())
            except dns.exception.DNSException as e:
                stats["bad"] += 1
                stats["errors"].append(repr(e))

    th = threading.Thread(target=hammer)
    th.start()
    try:
        time.sleep(0.1)
        r = srv.loader(*srv.import_args(BL, path, source="bulk"))
        time.sleep(0.1)
    finally:
        stop.set()
        th.join()
    assert r.returncode == 0, r.stderr
    assert stats["bad"] == 0, f"{stats['bad']} failed queries during the import: {stats['errors'][:3]}"
    assert stats["ok"] > 0
    for i in (0, n // 2, n - 1):
        ip = f"10.{100 + i // 65536}.{(i // 256) % 256}.{i % 256}"
        assert t.wait_for(lambda: _rcode(srv, ip) == dns.rcode.NOERROR, LIVE), ip
    assert _rcode(srv, f"10.{100 + n // 65536}.{(n // 256) % 256}.{n % 256}") == dns.rcode.NXDOMAIN


def test_starts_while_an_import_holds_the_writer(make_server):
    """A current store is opened without a write transaction: dnsbld does not wait
    for an import that holds LMDB's writer lock, and answers from the last commit."""
    srv = make_server(standard=True, start=False)
    n = 1500000
    path = srv.data_file("".join(f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}\n"
                                 for i in range(n)))
    imp = subprocess.Popen([str(t.LOADER), "-c", str(srv.config),
                            *srv.import_args(BL, path, source="bulk")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=srv.cwd)
    try:
        time.sleep(0.3)  # the loader has begun its write transaction
        assert imp.poll() is None, "the import ended too soon to hold the writer lock"
        start = time.monotonic()
        srv.start()
        took = time.monotonic() - start
        still_importing = imp.poll() is None
        t.assert_listed_a(srv.ask(rev("192.0.2.2", BL), "A"), BL, rev("192.0.2.2", BL),
                          "127.0.0.3")
        t.assert_nxdomain(srv.ask(rev("10.0.1.1", BL), "A"), BL)
    finally:
        _, err = imp.communicate(timeout=120)
    assert imp.returncode == 0, err
    assert still_importing, f"dnsbld took {took:.2f}s: it waited for the import to end"
    assert t.wait_for(lambda: _rcode(srv, "10.0.1.1") == dns.rcode.NOERROR, LIVE)


@pytest.mark.parametrize("sig", [signal.SIGTERM])
def test_sigterm_exits_0_promptly(make_server, sig):
    srv = make_server(standard=True, start=True)
    srv.assert_alive()
    start = time.monotonic()
    srv.proc.send_signal(sig)
    rc = srv.proc.wait(5)
    took = time.monotonic() - start
    srv.stop()  # collects the state for the fixture
    assert rc == 0, f"exit code {rc}\n{srv.stderr_text()}"
    assert took < 3, f"took {took:.1f}s to exit"
