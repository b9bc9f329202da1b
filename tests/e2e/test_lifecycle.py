"""The listing lifecycle: expire_after and per-line ttl, `expire`, list_threshold /
list_window (pending addresses), merged facts, operator delistings with tombstones,
relist_after, and the history. Hit times are relative to now, so the tests do not
depend on the date; the few that need time to pass sleep about 2-3 s."""

import time

import dnsbltest as t
from dnsbltest import rev

BL = "bl.example"
PBL = "pbl.example"
DAY = 86400


def _hits(srv, rows, header="ip,timestamp", source=None, expect=0):
    """Imports csv rows (tuples) with the given header; returns the CompletedProcess."""
    return srv.load(BL, t.csv_text(header.split(","), rows), fmt="csv", source=source,
                    expect=expect)


def _wait_until(when):
    while time.time() < when:
        time.sleep(0.05)


def _facts(srv, key):
    rows = t.export_csv_rows(srv, BL)
    assert key in rows, f"{key} not in the csv export: {sorted(rows)}"
    return rows[key]


def _becomes_nx(srv, ip, transport="udp"):
    return t.wait_for(lambda: not t.listed(srv, ip, BL, transport), 1.0)


# ---- expire_after, ttl

def test_expire_after_and_ttl_column(make_server, transport):
    srv = make_server(**t.one_zone(expire_after="7d"), start=True)
    now = int(time.time())
    _hits(srv, [("192.0.2.1", now - 8 * DAY),      # expired a day ago
                ("192.0.2.2", now - 3600),         # listed
                ("192.0.2.5", now - 6 * DAY),      # listed for one more day
                ("198.51.100.0/24", now - 8 * DAY)])
    _hits(srv, [("192.0.2.3", now - 8 * DAY, "30d"),   # ttl longer than expire_after
                ("192.0.2.4", now - 3600, "30m"),      # ttl shorter than expire_after
                ("192.0.2.6", now - 3600, 1800 * 4)],  # seconds
          header="ip,timestamp,ttl")
    q = lambda ip: srv.ask(rev(ip, BL), "A", transport)  # noqa: E731
    for ip in ("192.0.2.2", "192.0.2.5", "192.0.2.3", "192.0.2.6"):
        t.assert_listed_a(q(ip), BL, rev(ip, BL), "127.0.0.2")
    for ip in ("192.0.2.1", "192.0.2.4", "198.51.100.9"):
        t.assert_nxdomain(q(ip), BL)
    # nothing listed below 100.51.198 any more: no empty non-terminal
    t.assert_nxdomain(srv.ask("100.51.198.bl.example", "A", transport), BL)
    assert t.parse_time(_facts(srv, "192.0.2.2/32")["expires"]) == now - 3600 + 7 * DAY
    assert t.parse_time(_facts(srv, "192.0.2.3/32")["expires"]) == now - 8 * DAY + 30 * DAY


def test_expire_deletes_expired_entries(make_server):
    # bl.example: expire_after; pbl.example: list_threshold 2 within 1h
    opts = t.one_zone(expire_after="7d")
    opts["extra"] += t.zone_section(PBL, list_threshold=2, list_window="1h")
    srv = make_server(**opts, start=True)
    now = int(time.time())
    # pending, with the only hit leaving the window two seconds from now
    srv.load(PBL, t.csv_text(["ip", "timestamp"], [("192.0.2.9", now - 3598)]), fmt="csv")
    # 192.0.2.1 and .3 expire two seconds from now
    _hits(srv, [("192.0.2.1", now, 2), ("192.0.2.2", now, "7d"), ("192.0.2.3", now - 3598, "1h")],
          header="ip,timestamp,ttl")
    assert t.stat(srv, PBL, "pending") == 1
    keys, _ = t.loader_stats(srv, BL)
    assert (int(keys["entries"]), int(keys["listed"]), int(keys["expired"])) == (3, 3, 0), keys
    serial = int(keys["serial"])
    _wait_until(now + 3.05)
    # answered as not listed at once, counted as expired, not yet deleted
    assert not t.listed(srv, "192.0.2.1") and not t.listed(srv, "192.0.2.3")
    assert t.listed(srv, "192.0.2.2")
    keys, _ = t.loader_stats(srv, BL)
    assert (int(keys["entries"]), int(keys["listed"]), int(keys["expired"])) == (3, 1, 2), keys
    # not exported
    assert set(t.export_csv_rows(srv, BL)) == {"192.0.2.2/32"}
    t.loader_ok(srv, "expire", BL)
    keys, _ = t.loader_stats(srv, BL)
    assert (int(keys["entries"]), int(keys["listed"]), int(keys["expired"])) == (1, 1, 0), keys
    assert int(keys["serial"]) > serial
    for ip in ("192.0.2.1", "192.0.2.3"):
        recs = t.history_records(srv, BL, ip)
        assert recs, f"no history for {ip}"
        _, event, prefix, actor, _ = recs[0]
        assert event.startswith("expir") and actor == "expire" and prefix == ip + "/32", recs
    assert t.listed(srv, "192.0.2.2")
    assert t.stat(srv, PBL, "entries") == 1, "expire bl.example changed pbl.example"
    # every zone: the pending address whose hit has left the window is dropped
    t.loader_ok(srv, "expire")
    keys, _ = t.loader_stats(srv, PBL)
    assert (int(keys["pending"]), int(keys["entries"])) == (0, 0), keys
    # as often as you like: nothing more to do, the zone does not change
    serial = t.stat(srv, BL, "serial")
    t.loader_ok(srv, "expire")
    t.loader_ok(srv, "expire", BL, PBL)
    assert t.stat(srv, BL, "serial") == serial
    assert t.stat(srv, BL, "entries") == 1


def test_hit_for_expired_entry_starts_fresh_listing(make_server):
    srv = make_server(**t.one_zone(expire_after="7d"), start=True)
    now = int(time.time())
    _hits(srv, [("192.0.2.1", now - 3598, "1h")], header="ip,timestamp,ttl")
    assert int(_facts(srv, "192.0.2.1/32")["hits"]) == 1
    _wait_until(now + 3.05)
    assert not t.listed(srv, "192.0.2.1")
    hit = int(time.time())
    _hits(srv, [("192.0.2.1", hit)])       # before any `expire`
    assert t.wait_for(lambda: t.listed(srv, "192.0.2.1"))
    f = _facts(srv, "192.0.2.1/32")
    assert int(f["hits"]) == 1, f"not a fresh listing: {f}"
    assert t.parse_time(f["first_seen"]) == hit, f
    assert t.parse_time(f["expires"]) == hit + 7 * DAY, f


def test_history_keep(make_server):
    srv = make_server(**t.one_zone(), server_opts={"history_keep": 1}, start=True)
    now = int(time.time())
    _hits(srv, [("192.0.2.1", now - 10), ("192.0.2.2", now - 10)], source="trap")
    t.loader_ok(srv, "delist", BL, "192.0.2.2", "--reason", "test", "--actor", "bob")
    assert t.stat(srv, BL, "history") >= 3
    newest = t.history_records(srv, BL)[0][0]
    _wait_until(newest + 2.05)   # every record is at least 2 s old: older than 1 s
    t.loader_ok(srv, "expire")
    assert t.stat(srv, BL, "history") == 0, t.history_records(srv, BL)
    assert t.history_records(srv, BL) == []
    assert t.listed(srv, "192.0.2.1"), "expire removed an entry that never expires"


# ---- list_threshold, list_window

def test_threshold_and_window(make_server, transport):
    srv = make_server(**t.one_zone(list_threshold=2, list_window="1h"), start=True)
    now = int(time.time())
    q = lambda ip: srv.ask(rev(ip, BL), "A", transport)  # noqa: E731
    _hits(srv, [("192.0.2.2", now - 300)])                       # one hit
    t.assert_nxdomain(q("192.0.2.2"), BL)
    keys, _ = t.loader_stats(srv, BL)
    assert (int(keys["pending"]), int(keys["listed"])) == (1, 0), keys
    _hits(srv, [("192.0.2.1", now - 600), ("192.0.2.1", now - 300),  # two hits in one file
                ("192.0.2.3", now - 3 * 3600), ("192.0.2.3", now - 60),  # 3h apart
                ("192.0.2.4", now - 600)])
    _hits(srv, [("192.0.2.4", now - 30)])                         # second hit, later import
    t.assert_listed_a(q("192.0.2.1"), BL, rev("192.0.2.1", BL), "127.0.0.2")
    t.assert_listed_a(q("192.0.2.4"), BL, rev("192.0.2.4", BL), "127.0.0.2")
    t.assert_nxdomain(q("192.0.2.2"), BL)
    t.assert_nxdomain(q("192.0.2.3"), BL)
    t.assert_nxdomain(srv.ask(rev("192.0.2.3", BL), "TXT", transport), BL)
    keys, _ = t.loader_stats(srv, BL)
    assert (int(keys["pending"]), int(keys["listed"])) == (2, 2), keys
    # pending addresses are not exported
    plain = t.export_text(srv, BL, "plain")
    assert "192.0.2.2" not in plain and "192.0.2.3" not in plain, plain
    assert "192.0.2.1" in plain and "192.0.2.4" in plain, plain


# ---- merging

def test_merge_updates_seen_hits_and_values(make_server):
    srv = make_server()
    now = int(time.time())
    _hits(srv, [("192.0.2.1", now - 3600, "first", 3)], header="ip,timestamp,reason,code",
          source="trap")
    f = _facts(srv, "192.0.2.1/32")
    assert (t.parse_time(f["first_seen"]), t.parse_time(f["last_seen"]), int(f["hits"])) == \
        (now - 3600, now - 3600, 1), f
    _hits(srv, [("192.0.2.1", now - 7200)], source="trap")         # earlier, no reason
    f = _facts(srv, "192.0.2.1/32")
    assert (t.parse_time(f["first_seen"]), t.parse_time(f["last_seen"]), int(f["hits"])) == \
        (now - 7200, now - 3600, 2), f
    assert f["reason"] == "first", f"a line without a reason changed it: {f}"
    _hits(srv, [("192.0.2.1", now - 60, "third", "127.0.0.4")],
          header="ip,timestamp,reason,code", source="trap")
    f = _facts(srv, "192.0.2.1/32")
    assert (t.parse_time(f["first_seen"]), t.parse_time(f["last_seen"]), int(f["hits"])) == \
        (now - 7200, now - 60, 3), f
    assert f["reason"] == "third", f
    assert f["code"] in ("127.0.0.4", "4"), f
    assert f["source"] == "trap", f
    srv.start()
    assert t.a_values(srv.ask(rev("192.0.2.1", BL), "A")) == {"127.0.0.4"}


# ---- operator delistings, tombstones, relisting

def test_delist_removes_and_records_history(make_server, transport):
    srv = make_server(start=True)
    now = int(time.time())
    _hits(srv, [("192.0.2.1", now - 60), ("192.0.2.2", now - 60), ("198.51.100.0/24", now - 60)],
          source="trap")
    assert t.listed(srv, "192.0.2.1", BL, transport)
    before = int(time.time())
    t.loader_ok(srv, "delist", BL, "192.0.2.1", "--reason", "complaint #123",
                "--actor", "alice")
    t.loader_ok(srv, "delist", BL, "198.51.100.0/24", "--actor", "bob")
    after = int(time.time())
    assert _becomes_nx(srv, "192.0.2.1", transport)
    t.assert_nxdomain(srv.ask(rev("192.0.2.1", BL), "A", transport), BL)
    t.assert_nxdomain(srv.ask(rev("192.0.2.1", BL), "TXT", transport), BL)
    t.assert_nxdomain(srv.ask(rev("198.51.100.9", BL), "A", transport), BL)
    t.assert_listed_a(srv.ask(rev("192.0.2.2", BL), "A", transport), BL,
                      rev("192.0.2.2", BL), "127.0.0.2")
    recs = t.history_records(srv, BL, "192.0.2.1")
    when, event, prefix, actor, reason = recs[0]
    assert (event, prefix, actor, reason) == \
        ("delist", "192.0.2.1/32", "operator:alice", "complaint #123"), recs
    assert before <= when <= after, recs
    assert all(r[2] == "192.0.2.1/32" for r in recs), recs
    assert any(r[3] == "source:trap" for r in recs[1:]), f"no listing record: {recs}"
    recs = t.history_records(srv, BL, "198.51.100.0/24")
    assert recs[0][1:4] == ("delist", "198.51.100.0/24", "operator:bob"), recs
    assert len(t.history_records(srv, BL, limit=1)) == 1
    keys, _ = t.loader_stats(srv, BL)
    assert int(keys["tombstones"]) == 2 and int(keys["listed"]) == 1, keys
    # not listed (any more): exit 1, nothing written
    serial = int(keys["serial"])
    for key in ("192.0.2.1", "192.0.2.99", "203.0.113.0/24"):
        r = srv.loader("delist", BL, key, "--actor", "alice")
        assert r.returncode == 1, f"delist {key}: exit {r.returncode}\n{r.stderr}"
    assert t.stat(srv, BL, "serial") == serial


def test_older_feed_hit_does_not_relist(make_server):
    srv = make_server(start=True)
    now = int(time.time())
    _hits(srv, [("192.0.2.1", now - 3600)], source="trap")
    t.loader_ok(srv, "delist", BL, "192.0.2.1", "--reason", "fp", "--actor", "alice")
    r = _hits(srv, [("192.0.2.1", now - 60), ("192.0.2.5", now - 60)], source="trap")
    assert t.summary_count(r.stderr + r.stdout, "suppressed") == 1, r.stderr
    assert _becomes_nx(srv, "192.0.2.1")
    assert t.listed(srv, "192.0.2.5")
    assert t.history_records(srv, BL, "192.0.2.1")[0][1] == "delist"
    assert t.stat(srv, BL, "tombstones") == 1


def _delist(srv, ip):
    """Delists ip as operator alice; returns the delisting's time from the history."""
    t.loader_ok(srv, "delist", BL, ip, "--actor", "alice")
    when, event, _, _, _ = t.history_records(srv, BL, ip)[0]
    assert event == "delist"
    return when


def test_relist_after_cooldown_not_passed(make_server):
    srv = make_server(**t.one_zone(relist_after="1d"), start=True)
    now = int(time.time())
    _hits(srv, [("192.0.2.1", now - 3600)], source="trap")
    delisted = _delist(srv, "192.0.2.1")
    # newer than the delisting, within the cooldown
    r = _hits(srv, [("192.0.2.1", delisted + 1)], source="trap")
    assert t.summary_count(r.stderr + r.stdout, "suppressed") == 1, r.stderr
    assert _becomes_nx(srv, "192.0.2.1")
    assert t.history_records(srv, BL, "192.0.2.1")[0][1] == "delist"


def test_relist_after_zero_newer_hit_relists(make_server, transport):
    srv = make_server(start=True)
    now = int(time.time())
    _hits(srv, [("192.0.2.1", now - 3600)], source="trap")
    delisted = _delist(srv, "192.0.2.1")
    assert _becomes_nx(srv, "192.0.2.1", transport)
    r = _hits(srv, [("192.0.2.1", delisted + 1)], source="trap")
    assert not t.summary_count(r.stderr + r.stdout, "suppressed"), r.stderr
    assert t.wait_for(lambda: t.listed(srv, "192.0.2.1", BL, transport))
    t.assert_listed_a(srv.ask(rev("192.0.2.1", BL), "A", transport), BL,
                      rev("192.0.2.1", BL), "127.0.0.2")
    recs = t.history_records(srv, BL, "192.0.2.1")
    assert recs[0][1:4] == ("relist", "192.0.2.1/32", "source:trap"), recs
    assert recs[1][1] == "delist", recs


def test_relist_after_cooldown_passed(make_server):
    srv = make_server(**t.one_zone(relist_after=2), start=True)
    now = int(time.time())
    _hits(srv, [("192.0.2.1", now - 3600)], source="trap")
    delisted = _delist(srv, "192.0.2.1")
    r = _hits(srv, [("192.0.2.1", delisted + 1)], source="trap")
    assert t.summary_count(r.stderr + r.stdout, "suppressed") == 1, r.stderr
    assert _becomes_nx(srv, "192.0.2.1")
    _wait_until(delisted + 3)
    # the cooldown has passed, but this hit is older than the delisting
    r = _hits(srv, [("192.0.2.1", delisted - 60)], source="trap")
    assert t.summary_count(r.stderr + r.stdout, "suppressed") == 1, r.stderr
    assert not t.listed(srv, "192.0.2.1")
    r = _hits(srv, [("192.0.2.1", int(time.time()))], source="trap")
    assert not t.summary_count(r.stderr + r.stdout, "suppressed"), r.stderr
    assert t.wait_for(lambda: t.listed(srv, "192.0.2.1"))
    recs = t.history_records(srv, BL, "192.0.2.1")
    assert recs[0][1] == "relist" and recs[0][3] == "source:trap", recs


def test_history_one_record_per_line(make_server):
    srv = make_server()
    srv.load(BL, "192.0.2.1\n192.0.2.2\n", source="trap")
    r = srv.loader("delist", BL, "192.0.2.1", "--reason", "first line\nsecond line",
                   "--actor", "alice")
    if r.returncode != 0:   # refusing such a reason is fine too
        assert r.returncode == 2 and r.stderr.strip(), r
        return
    r = t.loader_ok(srv, "history", BL, "--limit", "1")
    assert len(r.stdout.splitlines()) == 1, f"one record, several lines:\n{r.stdout}"
    r = t.loader_ok(srv, "history", BL)
    assert len(r.stdout.splitlines()) == t.stat(srv, BL, "history"), r.stdout


def test_history_newest_first_default_limit_50(make_server):
    srv = make_server()
    now = int(time.time())
    _hits(srv, [(f"192.0.2.{i}", now - 3600 + i) for i in range(1, 61)], source="trap")
    recs = t.history_records(srv, BL)
    assert len(recs) == 50, recs
    assert [r[0] for r in recs] == sorted((r[0] for r in recs), reverse=True), recs
    assert len(t.history_records(srv, BL, limit=60)) == 60


# ---- history of --replace

def test_replace_removal_recorded(make_server):
    srv = make_server()
    srv.load(BL, "192.0.2.1\n192.0.2.2\n", source="feed")
    n = len(t.history_records(srv, BL, "192.0.2.2"))
    srv.load(BL, "192.0.2.1\n", source="feed", replace=True)
    recs = t.history_records(srv, BL, "192.0.2.2")
    assert len(recs) == n + 1, recs
    assert recs[0][2:4] == ("192.0.2.2/32", "source:feed"), recs
    assert recs[0][1] not in ("list", "relist"), recs
    assert len(t.history_records(srv, BL, "192.0.2.1")) == 1
