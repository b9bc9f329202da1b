"""dnsbl-loader import of trap feeds: csv and jsonl, gzip input (detected by content),
line reports and the summary, --strict, per-line sources, future timestamps and
--progress. Answers are checked through dnsbld."""

import os
import subprocess
import time

import pytest

import dnsbltest as t
from dnsbltest import rev

BL = "bl.example"
BL_DEFAULT_TXT = "Listed, see https://bl.example/lookup?ip={}"


def _assert_reported(stderr, path, bad, good=()):
    for n in bad:
        assert f"{path}:{n}: " in stderr, f"line {n} not reported as '{path}:{n}: ...':\n{stderr}"
    for n in good:
        assert f"{path}:{n}:" not in stderr, f"good line {n} reported:\n{stderr}"


def _check(srv, transport, ip, a, txt):
    qname = rev(ip, BL)
    t.assert_listed_a(srv.ask(qname, "A", transport), BL, qname, a)
    t.assert_listed_txt(srv.ask(qname, "TXT", transport), BL, qname, txt)


def _check_feed_answers(srv, transport):
    _check(srv, transport, "192.0.2.10", "127.0.0.3", 'Trap "A" hit 192.0.2.10, see x')
    _check(srv, transport, "192.0.2.11", "127.0.0.5", "Bot 192.0.2.11")
    _check(srv, transport, "198.51.100.20", "127.0.0.9", "Range 198.51.100.20")
    _check(srv, transport, "192.0.2.12", "127.0.0.2", BL_DEFAULT_TXT.format("192.0.2.12"))
    t.assert_nxdomain(srv.ask(rev("198.51.100.7", BL), "A", transport), BL)
    t.assert_nxdomain(srv.ask(rev("192.0.2.13", BL), "A", transport), BL)


def _check_feed_facts(srv, now):
    rows = t.export_csv_rows(srv, BL)
    r = rows.get("192.0.2.10/32")
    assert r is not None, f"192.0.2.10 not in the csv export: {sorted(rows)}"
    assert r["reason"] == "spam, lots of it", r
    assert r["source"] == "trapA", r
    assert t.parse_time(r["first_seen"]) == now - 3600, r
    assert t.parse_time(r["last_seen"]) == now - 3600, r
    # ttl 7d after the hit
    assert t.parse_time(r["expires"]) == now - 3600 + 7 * 86400, r
    r = rows["192.0.2.11/32"]
    assert t.parse_time(r["last_seen"]) == now - 60, r
    assert t.parse_time(r["expires"]) == now - 60 + 3600, r
    r = rows["198.51.100.0/24"]
    assert t.parse_time(r["last_seen"]) == now - 120, r   # +02:00 offset honoured
    assert r["source"] == "trapB", r
    assert "!198.51.100.7/32" in rows, sorted(rows)


# ---- csv

def test_csv_import_columns_quotes_values(make_server, transport):
    srv = make_server(start=True)
    now = int(time.time())
    # header in another order and case, an unknown column, RFC 4180 quoting
    text = (
        "# a trap feed\n"
        "\n"
        "Reason,TXT,ip,Code,comment,source,timestamp,TTL\n"
        f'"spam, lots of it","Trap ""A"" hit $, see x",192.0.2.10,127.0.0.3,whatever,trapA,'
        f'{t.rfc3339(now - 3600)},7d\n'
        f'bot,Bot $,"192.0.2.11","5","a, b",trapA,{now - 60},3600\n'
        f'range,"Range $",198.51.100.0/24,9,,trapB,{t.rfc3339(now - 120, 120)},12h\n')
    path = srv.data_file(text, "feed.csv")
    r = srv.load(BL, path=path, fmt="csv", expect=0)
    assert f"{path}:" not in r.stderr, r.stderr
    # only the columns that are needed: defaults for A and TXT, an exclusion
    srv.load(BL, "IP\n192.0.2.12\n!198.51.100.7\n", fmt="csv", expect=0)
    _check_feed_answers(srv, transport)
    # no_txt: own A, no TXT at all
    srv.load(BL, "ip,code,no_txt\n192.0.2.14,5,1\n192.0.2.15,5,0\n", fmt="csv", expect=0)
    qname = rev("192.0.2.14", BL)
    t.assert_listed_a(srv.ask(qname, "A", transport), BL, qname, "127.0.0.5")
    t.assert_nodata(srv.ask(qname, "TXT", transport), BL)
    _check(srv, transport, "192.0.2.15", "127.0.0.5", BL_DEFAULT_TXT.format("192.0.2.15"))
    _check_feed_facts(srv, now)


def test_csv_without_ip_column_imports_nothing(make_server):
    srv = make_server()
    srv.load(BL, "192.0.2.99\n")
    path = srv.data_file("addr,code\n192.0.2.1,3\n", "noip.csv")
    r = srv.load(BL, path=path, fmt="csv", expect=2)
    assert r.stderr.strip()
    srv.start()
    assert not t.listed(srv, "192.0.2.1")
    assert t.listed(srv, "192.0.2.99")


# ---- jsonl

def test_jsonl_import_fields_values(make_server, transport):
    srv = make_server(start=True)
    now = int(time.time())
    text = t.jsonl_text([
        {"ip": "192.0.2.10", "code": "127.0.0.3", "txt": 'Trap "A" hit $, see x',
         "reason": "spam, lots of it", "source": "trapA", "timestamp": t.rfc3339(now - 3600),
         "ttl": "7d", "extra": {"nested": [1, 2, "x"]}},
        {"ip": "192.0.2.11", "code": 5, "txt": "Bot $", "source": "trapA",
         "timestamp": now - 60, "ttl": 3600, "comment": None},
    ]) + "\n   \n" + t.jsonl_text([
        {"timestamp": t.rfc3339(now - 120, 120), "ip": "198.51.100.0/24", "code": "9",
         "txt": "Range $", "source": "trapB", "ttl": "12h"},
        {"ip": "192.0.2.12"},
        {"ip": "!198.51.100.7"},
    ])
    path = srv.data_file(text, "feed.jsonl")
    r = srv.load(BL, path=path, fmt="jsonl", expect=0)
    assert f"{path}:" not in r.stderr, r.stderr
    _check_feed_answers(srv, transport)
    _check_feed_facts(srv, now)


# ---- gzip, from a file and from stdin, recognised by content

GZ_DATA = {
    "plain": ("{ip}\n", "127.0.0.2"),
    "rbldnsd": ("{ip} :127.0.0.6:Gz $\n", "127.0.0.6"),
    "csv": ("ip,code,reason\n{ip},6,gz\n", "127.0.0.6"),
    "jsonl": ('{{"ip": "{ip}", "code": 6}}\n', "127.0.0.6"),
}


@pytest.mark.parametrize("fmt", sorted(GZ_DATA))
def test_gzip_input_file_and_stdin(make_server, fmt):
    srv = make_server(start=True)
    template, a = GZ_DATA[fmt]
    # a gzip file whose name does not say so
    path = srv.dir / f"feed-{fmt}.txt"
    path.write_bytes(t.gzip_bytes(template.format(ip="192.0.2.40")))
    r = srv.load(BL, path=path, fmt=fmt, expect=0)
    # gzip on stdin
    r = t.loader_bytes(srv, "import", BL, "-", "--format", fmt, "--source", "pipe",
                       input=t.gzip_bytes(template.format(ip="192.0.2.41")))
    assert r.returncode == 0, r.stderr
    # and a file named .gz that is not compressed is read as it is
    path = srv.dir / f"not-compressed-{fmt}.gz"
    path.write_text(template.format(ip="192.0.2.42"))
    srv.load(BL, path=path, fmt=fmt, source="plaintext", expect=0)
    for ip in ("192.0.2.40", "192.0.2.41", "192.0.2.42"):
        assert t.a_values(srv.ask(rev(ip, BL), "A")) == {a}, f"{fmt}: {ip}"


def test_gzip_bad_lines_reported_with_line_numbers(make_server):
    srv = make_server()
    path = srv.dir / "bad.csv"
    path.write_bytes(t.gzip_bytes("ip\n192.0.2.50\nnope\n192.0.2.51\n"))
    r = srv.load(BL, path=path, fmt="csv", expect=1)
    _assert_reported(r.stderr, path, bad=(3,), good=(1, 2, 4))
    srv.start()
    assert t.listed(srv, "192.0.2.50") and t.listed(srv, "192.0.2.51")


# ---- bad lines, summary, --strict

def test_csv_bad_lines_reported_and_counted(make_server):
    srv = make_server()
    now = int(time.time())
    ts = now - 60
    text = ("ip,code,timestamp,ttl\n"              # 1 header
            f"192.0.2.20,3,{ts},1h\n"              # 2
            f"300.1.2.3,3,{ts},1h\n"               # 3 bad address
            f"192.0.2.21,128.0.0.1,{ts},1h\n"      # 4 A outside 127/8
            f"192.0.2.22,3,yesterday,1h\n"         # 5 bad timestamp
            f"192.0.2.23,3,{ts}\n"                 # 6 a field missing
            f"192.0.2.24,3,{ts},forever\n"         # 7 bad ttl
            f"192.0.2.26,3,{ts},1h,extra\n"        # 8 a field too many
            f"192.0.2.25,4,{ts},1h\n")             # 9
    path = srv.data_file(text, "bad.csv")
    r = srv.load(BL, path=path, fmt="csv", expect=1)
    _assert_reported(r.stderr, path, bad=(3, 4, 5, 6, 7, 8), good=(1, 2, 9))
    n = t.summary_count(r.stderr + r.stdout, "rejected")
    assert n == 6, f"summary does not count 6 rejected lines:\n{r.stderr}{r.stdout}"
    srv.start()
    assert t.a_values(srv.ask(rev("192.0.2.20", BL), "A")) == {"127.0.0.3"}
    assert t.a_values(srv.ask(rev("192.0.2.25", BL), "A")) == {"127.0.0.4"}
    for ip in ("192.0.2.21", "192.0.2.22", "192.0.2.23", "192.0.2.24", "192.0.2.26"):
        assert not t.listed(srv, ip), ip


def test_jsonl_bad_lines_reported_and_counted(make_server):
    srv = make_server()
    text = ('{"ip": "192.0.2.30", "code": 3}\n'        # 1
            '{"ip": "192.0.2.35", "code": \n'           # 2 not JSON
            '{"code": 3}\n'                             # 3 no ip
            '{"ip": "192.0.2.31", "code": 300}\n'       # 4 bad code
            '["192.0.2.32"]\n'                          # 5 not an object
            '{"ip": "192.0.2.33", "timestamp": "soon"}\n'  # 6 bad timestamp
            '\n'                                        # 7 blank: skipped
            '{"ip": "192.0.2.36/33"}\n'                 # 8 bad prefix length
            '{"ip": "192.0.2.34", "ttl": "1h"}\n')      # 9
    path = srv.data_file(text, "bad.jsonl")
    r = srv.load(BL, path=path, fmt="jsonl", expect=1)
    _assert_reported(r.stderr, path, bad=(2, 3, 4, 5, 6, 8), good=(1, 7, 9))
    n = t.summary_count(r.stderr + r.stdout, "rejected")
    assert n == 6, f"summary does not count 6 rejected lines:\n{r.stderr}{r.stdout}"
    srv.start()
    assert t.a_values(srv.ask(rev("192.0.2.30", BL), "A")) == {"127.0.0.3"}
    assert t.listed(srv, "192.0.2.34")
    for ip in ("192.0.2.31", "192.0.2.32", "192.0.2.33", "192.0.2.35", "192.0.2.36"):
        assert not t.listed(srv, ip), ip


STRICT_BAD = {
    "csv": "ip,code\n192.0.2.60,3\n192.0.2.61,3\n192.0.2.62,999\n192.0.2.63,3\n",
    "jsonl": '{"ip": "192.0.2.60"}\n{"ip": "192.0.2.61"}\n{"ip": "192.0.2.62",\n'
             '{"ip": "192.0.2.63"}\n',
}


@pytest.mark.parametrize("fmt", sorted(STRICT_BAD))
def test_strict_bad_line_writes_nothing(make_server, fmt):
    srv = make_server(start=True)
    srv.load(BL, "ip,code,reason\n192.0.2.60,7,before\n", fmt="csv")
    before_serial = t.stat(srv, BL, "serial")
    before_export = t.export_text(srv, BL, "csv")
    before_soa = t.soa_serial(srv, BL)
    path = srv.data_file(STRICT_BAD[fmt], f"strict.{fmt}")
    r = srv.load(BL, path=path, fmt=fmt, strict=True, expect=2)
    bad = 4 if fmt == "csv" else 3
    assert f"{path}:{bad}: " in r.stderr, r.stderr
    assert t.stat(srv, BL, "serial") == before_serial
    assert t.export_text(srv, BL, "csv") == before_export
    assert t.soa_serial(srv, BL) == before_soa
    assert t.a_values(srv.ask(rev("192.0.2.60", BL), "A")) == {"127.0.0.7"}
    for ip in ("192.0.2.61", "192.0.2.62", "192.0.2.63"):
        assert not t.listed(srv, ip), f"{ip} imported by a failed --strict import"


# ---- sources

def test_source_column_counted_in_stats(make_server):
    srv = make_server()
    srv.load(BL, "ip,source\n192.0.2.70,trapA\n192.0.2.71,trapA\n192.0.2.72,trapB\n",
             fmt="csv", source="ignored")
    srv.load(BL, "ip\n192.0.2.73\n", fmt="csv", source="feedX")
    srv.load(BL, '{"ip": "192.0.2.74", "source": "trapB"}\n{"ip": "192.0.2.75"}\n',
             fmt="jsonl", source="feedX")
    keys, sources = t.loader_stats(srv, BL)
    assert sources.get("trapA") == 2, sources
    assert sources.get("trapB") == 2, sources
    assert sources.get("feedX") == 2, sources
    assert not sources.get("ignored"), f"--source used although every line has a source: {sources}"
    # --replace of a per-line source touches only that source
    srv.load(BL, "ip,source\n192.0.2.70,trapA\n", fmt="csv", source="trapA", replace=True)
    keys, sources = t.loader_stats(srv, BL)
    assert sources.get("trapA") == 1, sources
    assert sources.get("trapB") == 2, sources
    srv.start()
    assert t.listed(srv, "192.0.2.70") and not t.listed(srv, "192.0.2.71")
    assert t.listed(srv, "192.0.2.72") and t.listed(srv, "192.0.2.75")


# ---- time

FUTURE = {
    "csv": lambda now: "ip,timestamp\n" + "".join(f"{ip},{ts}\n" for ip, ts in [
        ("192.0.2.80", now + 3600),            # 2 rejected
        ("192.0.2.81", now + 60),              # 3 within 5 minutes: fine
        ("192.0.2.82", t.rfc3339(now + 600)),  # 4 rejected
        ("192.0.2.83", now - 86400),           # 5
    ]),
    "jsonl": lambda now: t.jsonl_text([
        {"ip": "192.0.2.79", "timestamp": now},                 # 1
        {"ip": "192.0.2.80", "timestamp": now + 3600},          # 2 rejected
        {"ip": "192.0.2.81", "timestamp": t.rfc3339(now + 60)},  # 3
        {"ip": "192.0.2.82", "timestamp": t.rfc3339(now + 600, -300)},  # 4 rejected
        {"ip": "192.0.2.83", "timestamp": now - 86400},         # 5
    ]),
}


@pytest.mark.parametrize("fmt", sorted(FUTURE))
def test_future_timestamp_rejected(make_server, fmt):
    srv = make_server()
    now = int(time.time())
    path = srv.data_file(FUTURE[fmt](now), f"future.{fmt}")
    r = srv.load(BL, path=path, fmt=fmt, expect=1)
    _assert_reported(r.stderr, path, bad=(2, 4), good=(3, 5))
    assert t.summary_count(r.stderr + r.stdout, "rejected") == 2, r.stderr
    srv.start()
    assert not t.listed(srv, "192.0.2.80")
    assert not t.listed(srv, "192.0.2.82")
    assert t.listed(srv, "192.0.2.81")
    assert t.listed(srv, "192.0.2.83")


def test_rfc3339_forms(make_server):
    srv = make_server()
    base = int(time.time()) - 7200
    z = t.rfc3339(base)                      # 2026-11-23T08:00:00Z
    forms = [z, z[:-1] + ".25Z", z.lower(), t.rfc3339(base, 330), t.rfc3339(base, -480),
             str(base)]
    srv.load(BL, t.csv_text(["ip", "timestamp"],
                            [(f"192.0.2.{i + 1}", f) for i, f in enumerate(forms)]), fmt="csv")
    srv.load(BL, t.jsonl_text([{"ip": "192.0.2.20", "timestamp": t.rfc3339(base, 60)},
                               {"ip": "192.0.2.21", "timestamp": base}]), fmt="jsonl")
    rows = t.export_csv_rows(srv, BL)
    for i, f in enumerate(forms):
        row = rows[f"192.0.2.{i + 1}/32"]
        assert t.parse_time(row["last_seen"]) == base, (f, row)
    for ip in ("192.0.2.20", "192.0.2.21"):
        assert t.parse_time(rows[ip + "/32"]["first_seen"]) == base, rows[ip + "/32"]


# ---- progress

def test_progress_line(make_server):
    srv = make_server()
    # stdin fed slowly, so that the import runs long enough for a progress update
    p = subprocess.Popen([str(t.LOADER), "-c", str(srv.config), "import", BL, "-",
                          "--progress"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=srv.cwd, text=True)
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < 1.5:
        p.stdin.write("".join(f"10.1.{n // 256 % 256}.{n % 256}\n" for n in range(i, i + 500)))
        p.stdin.flush()
        i += 500
        time.sleep(0.05)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    assert "lines/s" in err, f"no progress line with 'lines/s' on stderr:\n{err[-2000:]}"
    assert "lines/s" not in out
    assert "%" not in err, f"a percentage although the size of stdin is unknown:\n{err[-2000:]}"
    # a file's size is known: the percentage too
    path = srv.data_file("".join(f"10.2.0.{i}\n" for i in range(200)))
    r = srv.loader("import", BL, path, "--progress")
    assert r.returncode == 0, r.stderr
    assert "lines/s" in r.stderr and "%" in r.stderr, r.stderr
    # on a terminal: a progress line without --progress
    master, slave = os.openpty()
    p = subprocess.Popen([str(t.LOADER), "-c", str(srv.config), "import", BL, str(path)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                         cwd=srv.cwd)
    os.close(slave)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:   # EIO: the loader closed the terminal
            break
        if not chunk:
            break
        tty += chunk
    os.close(master)
    p.communicate(timeout=20)
    assert p.returncode == 0, tty
    assert b"lines/s" in tty, f"no progress line on a terminal:\n{tty[-2000:]!r}"
    # not a terminal and no --progress (or --no-progress): no progress line
    for extra in ([], ["--no-progress"]):
        r = srv.loader("import", BL, path, *extra)
        assert r.returncode == 0, r.stderr
        assert "lines/s" not in r.stderr + r.stdout, (extra, r.stderr)


# ---- values equal to the zone's, broken input

def test_values_equal_to_the_zones_follow_the_config(make_server):
    srv = make_server()
    zone_txt = t.ZONES[BL]["txt"]
    srv.load(BL, t.csv_text(["ip", "code", "txt"], [
        ("192.0.2.90", "127.0.0.2", zone_txt),   # both equal to the zone's
        ("192.0.2.91", "2", "Own $"),            # A equal to the zone's
        ("192.0.2.92", "127.0.0.3", zone_txt),   # TXT equal to the zone's
    ]), fmt="csv")
    rows = t.export_csv_rows(srv, BL)
    assert (rows["192.0.2.90/32"]["code"], rows["192.0.2.90/32"]["txt"]) == ("", ""), rows
    assert rows["192.0.2.91/32"]["code"] == "", rows
    assert rows["192.0.2.92/32"]["txt"] == "", rows
    # the config changes: such entries follow it
    srv.config.write_text(srv.config.read_text()
                          .replace("a = 127.0.0.2\n", "a = 127.0.0.44\n")
                          .replace(f"txt = {zone_txt}\n", "txt = New $\n"))
    srv.start()
    assert t.a_values(srv.ask(rev("192.0.2.90", BL), "A")) == {"127.0.0.44"}
    assert t.txt_values(srv.ask(rev("192.0.2.90", BL), "TXT")) == ["New 192.0.2.90"]
    assert t.a_values(srv.ask(rev("192.0.2.91", BL), "A")) == {"127.0.0.44"}
    assert t.txt_values(srv.ask(rev("192.0.2.91", BL), "TXT")) == ["Own 192.0.2.91"]
    assert t.a_values(srv.ask(rev("192.0.2.92", BL), "A")) == {"127.0.0.3"}
    assert t.txt_values(srv.ask(rev("192.0.2.92", BL), "TXT")) == ["New 192.0.2.92"]


def test_truncated_gzip_imports_nothing(make_server):
    srv = make_server(start=True)
    srv.load(BL, "192.0.2.1\n192.0.2.2\n", source="feed")
    before = (t.export_text(srv, BL, "csv"), t.stat(srv, BL, "serial"))
    data = t.gzip_bytes("".join(f"10.3.{i // 256}.{i % 256}\n" for i in range(20000)))
    path = srv.dir / "cut.gz"
    path.write_bytes(data[:len(data) // 2])   # no end of stream, no CRC
    r = srv.load(BL, path=path, source="feed", replace=True, expect=None)
    assert r.returncode == 2, (f"a truncated gzip file: exit {r.returncode}, expected 2 "
                               f"(unreadable file, nothing imported)\n{r.stderr}")
    assert r.stderr.strip()
    assert (t.export_text(srv, BL, "csv"), t.stat(srv, BL, "serial")) == before
    assert t.listed(srv, "192.0.2.1") and not t.listed(srv, "10.3.0.1")
