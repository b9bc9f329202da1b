"""Expired entries answer as not listed, before any sweep removes them.

No loader option sets an expiry time yet, so these tests set an entry's `expires`
field directly in the store with mdb_dump/mdb_load (lmdb-utils), following the
schema documented in lib/store.h:
  meta     "zone:" NAME -> id u16 (host order), ...
  entries  key   = zone id (u16 BE) | family (4) | prefix length | address
           value = flags u8 | reason len u8 | source u16 | A u32 | first seen u32
                   | last seen u32 | hits u32 | expires u32 (host order) | ...
Each test has a control entry patched to expire in the future, which must stay listed
(so a broken patch shows up as a test failure, not as a false "bug").
"""

import ipaddress
import shutil
import struct
import subprocess
import sys
import time

import dnsbltest as t
from dnsbltest import rev

BL = "bl.example"
EXPIRES_OFFSET = 20
HOST = "<" if sys.byteorder == "little" else ">"


def _dump(db, subdb):
    out = subprocess.run(["mdb_dump", "-s", subdb, str(db)], capture_output=True, text=True)
    assert out.returncode == 0, f"mdb_dump -s {subdb}: {out.stderr}"
    lines = out.stdout.splitlines()
    end = lines.index("HEADER=END")
    head = lines[:end + 1]
    body = [ln[1:] for ln in lines[end + 1:] if ln.startswith(" ")]
    records = {bytes.fromhex(body[i]): bytes.fromhex(body[i + 1]) for i in range(0, len(body), 2)}
    return head, records


def _load(db, subdb, head, records):
    text = "\n".join(head) + "\n"
    for k, v in records.items():
        text += " " + k.hex() + "\n " + v.hex() + "\n"
    text += "DATA=END\n"
    out = subprocess.run(["mdb_load", "-s", subdb, str(db)], input=text, capture_output=True,
                         text=True)
    assert out.returncode == 0, f"mdb_load -s {subdb}: {out.stderr}"


def _zone_id(db, zone):
    _, meta = _dump(db, "meta")
    rec = meta.get(b"zone:" + zone.encode())
    assert rec is not None, f"no 'zone:{zone}' record in meta: {sorted(meta)}"
    return struct.unpack(HOST + "H", rec[:2])[0]


def set_expires(db, zone, prefix, when):
    """Sets the expires field of zone's entry for exactly prefix (e.g. "192.0.2.1/32")."""
    net = ipaddress.ip_network(prefix)
    zid = _zone_id(db, zone)
    key = struct.pack(">HBB", zid, net.version, net.prefixlen) + net.network_address.packed
    head, entries = _dump(db, "entries")
    assert key in entries, f"entry {prefix} (key {key.hex()}) not in the store"
    val = entries[key]
    assert len(val) >= 24, val.hex()
    new = val[:EXPIRES_OFFSET] + struct.pack(HOST + "I", when) + val[EXPIRES_OFFSET + 4:]
    _load(db, "entries", head, {key: new})
    _, check = _dump(db, "entries")
    assert check[key] == new


def _require_tools():
    for tool in ("mdb_dump", "mdb_load"):
        assert shutil.which(tool), f"{tool} missing (Debian package lmdb-utils)"


def test_expired_entries_are_not_listed(make_server, transport):
    _require_tools()
    srv = make_server()
    srv.load(BL, "192.0.2.1\n192.0.2.2\n233.252.0.5\n")
    srv.load(BL, "198.51.100.0/24 :127.0.0.3:Range\n198.51.100.9 :127.0.0.9:Host $\n",
             fmt="rbldnsd", source="r")
    now = int(time.time())
    set_expires(srv.db, BL, "192.0.2.1/32", now - 3600)
    set_expires(srv.db, BL, "233.252.0.5/32", now - 10)
    set_expires(srv.db, BL, "198.51.100.9/32", now - 3600)
    set_expires(srv.db, BL, "192.0.2.2/32", now + 3600)  # control: not yet expired
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
    _require_tools()
    srv = make_server()
    srv.load(BL, "192.0.2.1\n192.0.2.2\n")
    when = int(time.time()) + 2
    set_expires(srv.db, BL, "192.0.2.1/32", when)
    srv.start()
    t.assert_listed_a(srv.ask(rev("192.0.2.1", BL), "A"), BL, rev("192.0.2.1", BL), "127.0.0.2")
    while time.time() < when + 1.2:
        time.sleep(0.1)
    for transport in t.TRANSPORTS:
        t.assert_nxdomain(srv.ask(rev("192.0.2.1", BL), "A", transport), BL)
        t.assert_listed_a(srv.ask(rev("192.0.2.2", BL), "A", transport), BL,
                          rev("192.0.2.2", BL), "127.0.0.2")
