"""Expired entries answer as not listed, before any sweep removes them.

An entry's expiry is set with a csv import that carries an `expires` column (the
recorded-facts form that `export --format csv` writes), so an entry can be made to
have expired already. Each test has a control entry set to expire in the future,
which must stay listed.
"""

import time

import dnsbltest as t
from dnsbltest import rev

BL = "bl.example"


def set_expires(srv, prefix, when, code="", txt="", source="default"):
    """Sets the expiry of zone BL's entry for exactly prefix (keeping the given values)."""
    srv.load(BL, f"ip,expires,code,txt,source\n{prefix},{when},{code},{txt},{source}\n",
             fmt="csv")
    out = srv.loader("export", BL, "--format", "csv")
    assert out.returncode == 0, out.stderr
    if when > time.time():
        assert any(line.startswith(prefix + ",") and line.endswith(f",{when}")
                   for line in out.stdout.splitlines()), out.stdout


def test_expired_entries_are_not_listed(make_server, transport):
    srv = make_server()
    srv.load(BL, "192.0.2.1\n192.0.2.2\n233.252.0.5\n")
    srv.load(BL, "198.51.100.0/24 :127.0.0.3:Range\n198.51.100.9 :127.0.0.9:Host $\n",
             fmt="rbldnsd", source="r")
    now = int(time.time())
    set_expires(srv, "192.0.2.1/32", now - 3600)
    set_expires(srv, "233.252.0.5/32", now - 10)
    set_expires(srv, "198.51.100.9/32", now - 3600, "127.0.0.9", "Host $", "r")
    set_expires(srv, "192.0.2.2/32", now + 3600)  # control: not yet expired
    srv.start()
    q = lambda ip, qt="A": srv.ask(rev(ip, BL), qt, transport)  # noqa: E731
    t.assert_listed_a(q("192.0.2.2"), BL, rev("192.0.2.2", BL), "127.0.0.2")
    t.assert_nxdomain(q("192.0.2.1"), BL)
    t.assert_nxdomain(q("192.0.2.1", "TXT"), BL)
    t.assert_nxdomain(q("233.252.0.5"), BL)
    # the covering /24 answers for the expired /32 inside it
    t.assert_listed_a(q("198.51.100.9"), BL, rev("198.51.100.9", BL), "127.0.0.3")
    t.assert_listed_txt(q("198.51.100.9", "TXT"), BL, rev("198.51.100.9", BL), "Range")
    # empty non-terminals only count entries that have not expired
    t.assert_nxdomain(srv.ask("0.252.233.bl.example", "A", transport), BL)
    t.assert_nodata(srv.ask("2.0.192.bl.example", "A", transport), BL)


def test_entry_expires_while_running(make_server):
    srv = make_server()
    srv.load(BL, "192.0.2.1\n192.0.2.2\n")
    when = int(time.time()) + 2
    set_expires(srv, "192.0.2.1/32", when)
    srv.start()
    t.assert_listed_a(srv.ask(rev("192.0.2.1", BL), "A"), BL, rev("192.0.2.1", BL), "127.0.0.2")
    while time.time() < when + 1.2:
        time.sleep(0.1)
    for transport in t.TRANSPORTS:
        t.assert_nxdomain(srv.ask(rev("192.0.2.1", BL), "A", transport), BL)
        t.assert_listed_a(srv.ask(rev("192.0.2.2", BL), "A", transport), BL,
                          rev("192.0.2.2", BL), "127.0.0.2")
