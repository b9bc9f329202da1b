"""dnsbl-loader export (rbldnsd, plain, csv) and stats. An export imported with
--replace into another server's zone gives the same answers (and, for csv, the same
export). The session server `std` is only read here."""

import ipaddress
import os
import time

import pytest

import dnsbltest as t

BL = "bl.example"
ZONE_TXT = t.ZONES[BL]["txt"]

# what the standard data (BL_DATA + BL_NODEFAULT) holds in bl.example
EXPECTED = {
    "192.0.2.1/32", "192.0.2.2/32", "192.0.2.3/32", "192.0.2.4/32", "192.0.2.5/32",
    "198.51.100.0/24", "!198.51.100.7/32", "198.51.100.9/32", "203.0.113.0/24",
    "198.18.0.0/28", "10.20.0.0/16", "10.20.30.0/24", "!10.20.30.40/32", "10.20.30.41/32",
    "192.0.2.200/32", "192.0.2.130/32", "192.0.2.131/32", "192.0.2.132/32",
}

LISTED = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.200",
          "192.0.2.130", "192.0.2.131", "192.0.2.132", "198.51.100.0", "198.51.100.9",
          "198.51.100.255", "203.0.113.5", "198.18.0.0", "198.18.0.15", "10.20.1.1",
          "10.20.30.1", "10.20.30.41", "127.0.0.2"]
EXCLUDED = ["198.51.100.7", "10.20.30.40"]
UNLISTED = ["192.0.2.6", "192.0.2.129", "192.0.2.250", "198.18.0.16", "10.21.0.1",
            "203.0.114.0", "127.0.0.1"]
SAMPLE = LISTED + EXCLUDED + UNLISTED


def _prefixes(text, fmt):
    """The set of prefixes ("!" for exclusions) of an rbldnsd or plain export."""
    out = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if fmt == "rbldnsd" and line.startswith(":"):
            continue
        key = line.split()[0]
        if fmt == "rbldnsd" and ":" in key:
            key = key.split(":")[0]
        neg = key.startswith("!")
        net = ipaddress.ip_network(key.lstrip("!"))
        out.add(("!" if neg else "") + str(net))
    return out


def _data_lines(text):
    return [ln for ln in text.splitlines() if not ln.startswith("#")]


def _code(text):
    return text if text in ("", None) or "." in text else f"127.0.0.{text}"


# ---- what the exports hold

def test_export_rbldnsd(std):
    text = t.export_text(std, BL, "rbldnsd")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    first = lines[0]
    assert first.startswith(":"), f"first line is not the ':A:TXT' default line: {first!r}"
    a, _, txt = first[1:].partition(":")
    assert _code(a) == "127.0.0.2" and txt == ZONE_TXT, first
    assert _prefixes(text, "rbldnsd") == EXPECTED
    assert "/32" not in text, "a /32 not written as a bare address"
    assert "192.0.2.132" in lines, "an entry without own values is not a bare address"
    assert "!198.51.100.7" in lines and "!10.20.30.40" in lines
    assert any(ln.startswith("192.0.2.2 ") and ln.endswith(":Open relay at $")
               for ln in lines), lines
    assert any(ln.startswith("198.51.100.0/24 ") for ln in lines), lines


def test_export_plain(std):
    text = t.export_text(std, BL, "plain")
    assert _prefixes(text, "plain") == EXPECTED
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            assert ":" not in line and " " not in line.strip(), f"not a bare prefix: {line!r}"


def test_export_csv(std):
    text = t.export_text(std, BL, "csv")
    header = next(ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))
    assert header == "ip,code,txt,no_txt,reason,source,first_seen,last_seen,hits,expires", header
    rows = t.export_csv_rows(std, BL)
    assert set(rows) == EXPECTED
    r = rows["192.0.2.2/32"]
    assert (_code(r["code"]), r["txt"], r["source"]) == ("127.0.0.3", "Open relay at $", "default"), r
    r = rows["192.0.2.1/32"]
    assert (_code(r["code"]), r["txt"]) == ("127.0.0.7", "Default text for $ from the file"), r
    r = rows["192.0.2.4/32"]   # rbldnsd ":5:": own A, no TXT at all
    assert (_code(r["code"]), r["txt"], r["no_txt"]) == ("127.0.0.5", "", "1"), r
    assert rows["192.0.2.130/32"]["no_txt"] in ("", "0"), rows["192.0.2.130/32"]
    r = rows["192.0.2.132/32"]
    assert (r["code"], r["txt"], r["source"]) == ("", "", "nodefault"), r
    r = rows["192.0.2.200/32"]
    assert r["txt"] == t.LONG_TXT, r
    for key, r in rows.items():
        assert int(r["hits"]) >= 1 and t.parse_time(r["expires"]) == 0, (key, r)
        assert t.parse_time(r["first_seen"]) <= t.parse_time(r["last_seen"]) <= time.time() + 1


def test_export_to_file(std, tmp_path):
    for fmt in ("rbldnsd", "plain", "csv"):
        out = tmp_path / fmt / "bl.export"
        out.parent.mkdir()
        out.write_text("old content\n")
        r = t.loader_ok(std, "export", BL, "--format", fmt, "-o", out)
        assert "192.0.2" not in r.stdout, f"-o {out}: data on stdout too"
        # the same as on stdout (but for a comment that may hold the time)
        assert _data_lines(out.read_text()) == _data_lines(t.export_text(std, BL, fmt)), fmt
        assert os.listdir(out.parent) == ["bl.export"], f"left behind: {os.listdir(out.parent)}"


def test_export_unknown_zone_fails(std):
    r = std.loader("export", "nosuch.example", "--format", "csv")
    assert r.returncode != 0 and r.stderr.strip(), r
    assert not r.stdout.strip(), r


# ---- an export imported elsewhere reproduces the zone

@pytest.mark.parametrize("fmt", ["rbldnsd", "plain", "csv"])
def test_export_reimport_same_answers(std, make_server, transport, fmt):
    dst = make_server(start=True)
    dst.load(BL, "192.0.2.250\n")   # a stale entry of source "default"
    path = dst.dir / f"export.{fmt}"
    t.loader_ok(std, "export", BL, "--format", fmt, "-o", path)
    dst.load(BL, path=path, fmt=fmt, replace=True)
    want = t.answers(std, SAMPLE, BL, transport)
    got = t.answers(dst, SAMPLE, BL, transport)
    for ip in SAMPLE:
        assert want[ip][0] == ("NOERROR" if ip in LISTED else "NXDOMAIN"), (ip, want[ip])
    if fmt == "plain":  # bare prefixes: listed or not, with the zone's defaults
        want = {ip: v[0] for ip, v in want.items()}
        got = {ip: v[0] for ip, v in got.items()}
    diff = {ip: (want[ip], got[ip]) for ip in SAMPLE if want[ip] != got[ip]}
    assert not diff, f"answers differ after importing the {fmt} export (want, got): {diff}"
    if fmt == "csv":
        assert t.export_text(dst, BL, "csv") == t.export_text(std, BL, "csv")
    else:
        assert _prefixes(t.export_text(dst, BL, fmt), fmt) == EXPECTED


def test_csv_export_reimport_keeps_facts(make_server):
    src = make_server()
    now = int(time.time())
    src.load(BL, t.csv_text(
        ["ip", "timestamp", "reason", "source", "code", "txt", "ttl"], [
            ("192.0.2.1", now - 7200, 'said "hi", twice', "trapA", 3, 'Hit "$", see x', "30d"),
            ("192.0.2.1", now - 60, 'said "hi", twice', "trapA", 3, 'Hit "$", see x', "30d"),
            ("198.51.100.0/24", now - 600, "range", "trapB", "127.0.0.9", "", "2w"),
            ("192.0.2.3", now - 5, "plain", "trapB", "", "Only txt $", "1h"),
            ("192.0.2.4", now - 5, "with\ttab", "trapB", "", "Tab\there $", "1h"),
        ]), fmt="csv")
    src.load(BL, "ip,source\n!198.51.100.7,trapB\n", fmt="csv")
    before = t.export_text(src, BL, "csv")
    rows = t.export_csv_rows(src, BL)
    r = rows["192.0.2.1/32"]
    assert (int(r["hits"]), t.parse_time(r["first_seen"]), t.parse_time(r["last_seen"])) == \
        (2, now - 7200, now - 60), r
    assert t.parse_time(r["expires"]) == now - 60 + 30 * 86400, r
    assert r["reason"] == 'said "hi", twice' and r["txt"] == 'Hit "$", see x', r
    r = rows["192.0.2.4/32"]
    assert (r["reason"], r["txt"]) == ("with\ttab", "Tab\there $"), r

    dst = make_server(start=True)
    dst.load(BL, "ip\n192.0.2.99\n", fmt="csv")
    path = dst.data_file(before, "export.csv")
    dst.load(BL, path=path, fmt="csv", replace=True)
    assert t.export_text(dst, BL, "csv") == before
    src.start()
    ips = ["192.0.2.1", "192.0.2.3", "192.0.2.4", "198.51.100.1", "198.51.100.7", "192.0.2.99"]
    assert t.answers(dst, ips) == t.answers(src, ips)
    _, sources = t.loader_stats(dst, BL)
    assert (sources.get("trapA"), sources.get("trapB")) == (1, 4), sources


def test_csv_export_reimport_reason_with_newline(make_server):
    """A reason may hold a line break (jsonl "\\n"); the csv export quotes it (RFC 4180)
    and its import reads it back."""
    src = make_server()
    r = src.load(BL, t.jsonl_text([{"ip": "192.0.2.1", "reason": "line one\nline two, \"q\""},
                                   {"ip": "192.0.2.2", "reason": "one line"}]),
                 fmt="jsonl", expect=None)
    assert r.returncode in (0, 1), r.stderr
    before = t.export_text(src, BL, "csv")
    dst = make_server()
    path = dst.data_file(before, "export.csv")
    r = dst.load(BL, path=path, fmt="csv", replace=True, expect=None)
    assert r.returncode == 0, f"the csv export does not import:\n{before}\n{r.stderr}"
    assert t.export_text(dst, BL, "csv") == before


def test_rbldnsd_export_reimport_texts_with_edge_characters(make_server):
    """TXT templates (trimmed at import) with '#', ';', ':' and '!' come back the same
    through an rbldnsd export."""
    src = make_server(start=True)
    texts = ["  padded $  ", "Listed #5; see x", ":colon:start $", "!bang", "tab\there"]
    src.load(BL, t.csv_text(["ip", "code", "txt"],
                            [(f"192.0.2.{i + 1}", 3, txt) for i, txt in enumerate(texts)]),
             fmt="csv")
    ips = [f"192.0.2.{i + 1}" for i in range(len(texts))]
    want = t.answers(src, ips)
    assert [want[ip][3] for ip in ips] == [[x.strip().replace("$", ip)] for x, ip in zip(texts, ips)]  # txt is trimmed
    dst = make_server(start=True)
    path = dst.dir / "export.rbldnsd"
    t.loader_ok(src, "export", BL, "--format", "rbldnsd", "-o", path)
    dst.load(BL, path=path, fmt="rbldnsd", replace=True)
    got = t.answers(dst, ips)
    diff = {ip: (want[ip], got[ip]) for ip in ips if want[ip] != got[ip]}
    assert not diff, f"answers differ (want, got): {diff}\n{path.read_text()}"


# ---- stats

def test_stats_keys(std):
    keys, sources = t.loader_stats(std, BL)
    for k in ("zone", "serial", "entries", "listed", "pending", "excluded", "expired",
              "tombstones", "history", "store_bytes"):
        assert k in keys, f"stats has no '{k}:' line: {keys}"
    assert keys["zone"] == BL
    assert int(keys["serial"]) == t.soa_serial(std, BL)
    assert (int(keys["entries"]), int(keys["listed"]), int(keys["excluded"])) == (18, 16, 2), keys
    assert (int(keys["pending"]), int(keys["expired"]), int(keys["tombstones"])) == (0, 0, 0), keys
    assert int(keys["history"]) >= 0
    assert int(keys["store_bytes"]) > 0
    assert sources == {"default": 15, "nodefault": 3}, sources
    keys, sources = t.loader_stats(std, "pbl.example")
    assert keys["zone"] == "pbl.example"
    assert (int(keys["entries"]), int(keys["excluded"])) == (4, 1), keys
    assert sources == {"default": 4}, sources


def test_stats_unknown_zone_fails(std):
    r = std.loader("stats", "nosuch.example")
    assert r.returncode != 0 and r.stderr.strip(), r
