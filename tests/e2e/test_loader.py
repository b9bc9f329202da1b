"""dnsbl-loader import: exit codes, line reports, formats, merge and --replace, checked
through dnsbld's answers."""

import re
import subprocess

import dns.rcode
import pytest

import dnsbltest as t
from dnsbltest import rev

BL = "bl.example"
BL_DEFAULT_TXT = "Listed, see https://bl.example/lookup?ip={}"


def _seed(srv):
    """Makes sure the store exists (and bl.example has been written once) before
    the import under test, so that dnsbld can start whatever that import does."""
    srv.load(BL, "192.0.2.99\n")


def _assert_reported(stderr, path, bad, good=()):
    for n in bad:
        assert f"{path}:{n}: " in stderr, f"line {n} not reported as '{path}:{n}: ...':\n{stderr}"
    for n in good:
        assert f"{path}:{n}:" not in stderr, f"good line {n} reported:\n{stderr}"


def _listed(srv, ip, zone=BL):
    r = srv.ask(rev(ip, zone), "A")
    assert r.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN), t.describe(r)
    return r.rcode() == dns.rcode.NOERROR and bool(t.a_values(r))


def _a(srv, ip, zone=BL):
    return t.a_values(srv.ask(rev(ip, zone), "A"))


def _txt(srv, ip, zone=BL):
    return t.txt_values(srv.ask(rev(ip, zone), "TXT"))


def _restart(srv):
    if srv.running():
        rc = srv.stop()
        assert rc == 0, f"exit code {rc} after SIGTERM\n{srv.stderr_text()}"
    srv.start()


# ---- line reports and exit codes

def test_plain_bad_lines_reported_rest_imported(make_server):
    srv = make_server()
    data = ("192.0.2.10\n"        # 1
            "not-an-address\n"    # 2 bad
            "192.0.2.300\n"       # 3 bad
            "10.0.0.0/33\n"       # 4 bad
            "192.0.2.11\n"        # 5
            "01.2.3.4\n"          # 6 bad: leading zero
            "# comment\n"         # 7
            "\n"                  # 8
            "192.0.2.12/32\n"     # 9
            "192.0.2.13 junk\n"   # 10 bad
            "!192.0.2.14\n")      # 11 an exclusion is fine
    path = srv.data_file(data)
    r = srv.load(BL, path=path, expect=1)
    _assert_reported(r.stderr, path, bad=(2, 3, 4, 6, 10), good=(1, 5, 7, 8, 9, 11))
    srv.start()
    for ip in ("192.0.2.10", "192.0.2.11", "192.0.2.12"):
        assert _a(srv, ip) == {"127.0.0.2"}, ip
        assert _txt(srv, ip) == [BL_DEFAULT_TXT.format(ip)]
    assert not _listed(srv, "192.0.2.14")
    assert not _listed(srv, "192.0.2.13")


def test_rbldnsd_bad_lines_reported_rest_imported(make_server):
    srv = make_server()
    data = (":127.0.0.2:Default $\n"     # 1
            "192.0.2.20\n"               # 2
            "192.0.2.21 :300:\n"         # 3 bad A
            "192.0.2.22 :127.0.0.256:x\n"  # 4 bad A
            "300.1.2.3\n"                # 5 bad address
            "1.2.3.4/40\n"               # 6 bad prefix length
            "192.0.2.23-192.0.2.5\n"     # 7 bad range (end before start)
            "192.0.2.24 :127.0.0.4:Own $\n")  # 8
    path = srv.data_file(data)
    r = srv.load(BL, path=path, fmt="rbldnsd", expect=1)
    _assert_reported(r.stderr, path, bad=(3, 4, 5, 6, 7), good=(1, 2, 8))
    srv.start()
    assert _a(srv, "192.0.2.20") == {"127.0.0.2"}
    assert _txt(srv, "192.0.2.20") == ["Default 192.0.2.20"]
    assert _a(srv, "192.0.2.24") == {"127.0.0.4"}
    assert _txt(srv, "192.0.2.24") == ["Own 192.0.2.24"]
    for ip in ("192.0.2.21", "192.0.2.22", "192.0.2.23"):
        assert not _listed(srv, ip), ip


def test_strict_with_a_bad_line_imports_nothing(make_server):
    srv = make_server()
    _seed(srv)
    srv.start()
    serial = t.soa_serial(srv, BL)
    path = srv.data_file("192.0.2.40\n192.0.2.41\nbad line\n192.0.2.42\n")
    r = srv.load(BL, path=path, strict=True, expect=2)
    assert f"{path}:3: " in r.stderr, r.stderr
    for ip in ("192.0.2.40", "192.0.2.41", "192.0.2.42"):
        assert not _listed(srv, ip), f"{ip} imported by a failed --strict import"
    assert t.soa_serial(srv, BL) == serial, "serial changed by a failed --strict import"
    _restart(srv)  # and after a restart, too
    assert not _listed(srv, "192.0.2.40")
    assert _listed(srv, "192.0.2.99")


def test_strict_all_good_imports(make_server):
    srv = make_server()
    srv.load(BL, "192.0.2.43\n192.0.2.44\n", strict=True, expect=0)
    srv.start()
    assert _listed(srv, "192.0.2.43") and _listed(srv, "192.0.2.44")


def test_unknown_zone_exit_2(make_server):
    srv = make_server()
    _seed(srv)
    r = srv.load("nosuch.example", "192.0.2.50\n", expect=2)
    assert r.stderr.strip(), "no message for an unknown zone"
    srv.start()
    assert not _listed(srv, "192.0.2.50")


@pytest.mark.parametrize("args", [
    [],
    ["import"],
    ["frobnicate", BL],
    ["import", BL, "{data}", "--format", "xml"],
    ["import", BL, "{data}", "--bogus-option"],
    ["import", BL, "{missing}"],
])
def test_usage_errors_exit_2(make_server, args):
    srv = make_server()
    data = srv.data_file("192.0.2.51\n")
    missing = srv.dir / "no-such-file.txt"
    args = [a.format(data=data, missing=missing) for a in args]
    r = srv.loader(*args)
    assert r.returncode == 2, f"{args}: exit {r.returncode}\n{r.stderr}"
    assert r.stderr.strip(), f"{args}: no message on stderr"


def test_missing_config_exit_2(tmp_path):
    r = subprocess.run([str(t.LOADER), "-c", str(tmp_path / "nope.conf"), "import", BL,
                          str(tmp_path / "x.txt")], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip()


def _write_bad_config(tmp_path, bad_line):
    lines = ["[server]", "db = db", "listen = 127.0.0.1:5399", "",
             "[zone bl.example]", "type = ip", "policy = block", "ttl = 300", "a = 127.0.0.2",
             "txt = Listed $", "soa = ns1.bl.example. hostmaster.bl.example. 3600 600 86400 120",
             "ns = ns1.bl.example."]
    lines.insert(8, bad_line)  # becomes line 9
    cfg = tmp_path / "bad.conf"
    cfg.write_text("\n".join(lines) + "\n")
    return cfg, 9


@pytest.mark.parametrize("bad_line", ["frobnicate = yes", "ttl = abc", "a = 300.0.0.1",
                                      "policy = maybe", "type = mac"])
def test_bad_config_exit_2_with_file_line(tmp_path, bad_line):
    cfg, line = _write_bad_config(tmp_path, bad_line)
    data = tmp_path / "d.txt"
    data.write_text("192.0.2.1\n")
    r = subprocess.run([str(t.LOADER), "-c", str(cfg), "import", BL, str(data)],
                         capture_output=True, text=True)
    assert r.returncode == 2, f"exit {r.returncode}\n{r.stderr}"
    assert re.search(rf"{re.escape(cfg.name)}:{line}: ", r.stderr), r.stderr


# ---- notices, stdin, formats

def test_rbldnsd_directives_are_notices(make_server):
    srv = make_server()
    data = ("$SOA 3600 ns1.bl.example. hostmaster.bl.example. 0 3600 600 86400 120\n"  # 1
            "$TTL 300\n"                                                             # 2
            "$NS 3600 ns1.bl.example.\n"                                             # 3
            ":127.0.0.2:Spam $\n"                                                    # 4
            "192.0.2.60\n")                                                          # 5
    path = srv.data_file(data)
    r = srv.load(BL, path=path, fmt="rbldnsd", expect=0)
    _assert_reported(r.stderr, path, bad=(1, 2, 3), good=(4, 5))
    srv.start()
    assert _a(srv, "192.0.2.60") == {"127.0.0.2"}
    assert _txt(srv, "192.0.2.60") == ["Spam 192.0.2.60"]


def test_import_from_stdin(make_server):
    srv = make_server()
    r = srv.loader("import", BL, "-", input="192.0.2.70\n198.18.1.0/24\n")
    assert r.returncode == 0, r.stderr
    r = srv.loader("import", "pbl.example", "-", "--format", "rbldnsd", "--source", "pipe",
                   input=":127.0.0.12:From a pipe $\n192.0.2.71\n192.0.2.72 :13\n")
    assert r.returncode == 0, r.stderr
    r = srv.loader("import", BL, "-", input="192.0.2.73\nbad\n")
    assert r.returncode == 1, r.stderr
    assert ":2: " in r.stderr, r.stderr
    srv.start()
    assert _listed(srv, "192.0.2.70")
    assert _listed(srv, "198.18.1.77")
    assert _listed(srv, "192.0.2.73")
    assert _a(srv, "192.0.2.71", "pbl.example") == {"127.0.0.12"}
    assert _txt(srv, "192.0.2.71", "pbl.example") == ["From a pipe 192.0.2.71"]
    assert _a(srv, "192.0.2.72", "pbl.example") == {"127.0.0.13"}
    assert _txt(srv, "192.0.2.72", "pbl.example") == ["From a pipe 192.0.2.72"]


def test_default_format_is_plain(make_server):
    srv = make_server()
    text = "192.0.2.80 :127.0.0.3:Own\n192.0.2.81\n"
    path = srv.data_file(text)
    r = srv.load(BL, path=path, expect=1)  # plain: a value is not allowed
    _assert_reported(r.stderr, path, bad=(1,), good=(2,))
    srv.load(BL, path=srv.data_file("192.0.2.82 :127.0.0.3:Own\n"), fmt="rbldnsd", expect=0)
    srv.start()
    assert not _listed(srv, "192.0.2.80")
    assert _a(srv, "192.0.2.81") == {"127.0.0.2"}
    assert _a(srv, "192.0.2.82") == {"127.0.0.3"}


def test_empty_file_exit_0(make_server):
    srv = make_server()
    srv.load(BL, "", expect=0)
    srv.load(BL, "# only a comment\n\n", fmt="rbldnsd", expect=0)


def test_demo_zone_files_import_cleanly(make_server):
    srv = make_server()
    srv.load(BL, path=t.DEMO_ZONES / "bl.example.rbldnsd", fmt="rbldnsd", expect=0)
    srv.load("pbl.example", path=t.DEMO_ZONES / "pbl.example.txt", expect=0)
    srv.start()
    assert _listed(srv, "192.0.2.1")
    assert _a(srv, "192.0.2.2") == {"127.0.0.3"}
    assert not _listed(srv, "198.51.100.7")
    assert _listed(srv, "198.51.100.8")
    assert _listed(srv, "203.0.113.9")
    assert _listed(srv, "10.2.3.4", "pbl.example")
    assert not _listed(srv, "172.16.0.1", "pbl.example")


# ---- merge and replace

def test_merge_adds_and_updates(make_server):
    srv = make_server()
    srv.load(BL, "192.0.2.90 :127.0.0.3:First $\n192.0.2.91\n", fmt="rbldnsd")
    srv.load(BL, "192.0.2.92\n")
    srv.load(BL, "192.0.2.90 :127.0.0.4:Second $\n", fmt="rbldnsd")
    srv.start()
    assert _a(srv, "192.0.2.90") == {"127.0.0.4"}
    assert _txt(srv, "192.0.2.90") == ["Second 192.0.2.90"]
    assert _listed(srv, "192.0.2.91")
    assert _listed(srv, "192.0.2.92")


def test_replace_keeps_other_sources(make_server):
    srv = make_server()
    srv.load(BL, "192.0.2.100\n192.0.2.101\n192.0.2.102\n", source="feed1")
    srv.load(BL, "192.0.2.110\n")                         # source "default"
    srv.load(BL, "192.0.2.120\n", source="feed2")
    srv.start()
    for ip in ("192.0.2.100", "192.0.2.101", "192.0.2.102", "192.0.2.110", "192.0.2.120"):
        assert _listed(srv, ip), ip
    assert srv.stop() == 0, srv.stderr_text()
    srv.load(BL, "192.0.2.101\n192.0.2.103\n", source="feed1", replace=True)
    srv.start()
    assert not _listed(srv, "192.0.2.100")
    assert not _listed(srv, "192.0.2.102")
    assert _listed(srv, "192.0.2.101")
    assert _listed(srv, "192.0.2.103")
    assert _listed(srv, "192.0.2.110"), "--replace --source feed1 removed a 'default' entry"
    assert _listed(srv, "192.0.2.120"), "--replace --source feed1 removed a 'feed2' entry"


def test_replace_default_source(make_server):
    srv = make_server()
    srv.load(BL, "192.0.2.130\n192.0.2.131\n")
    srv.load(BL, "192.0.2.140\n", source="other")
    srv.load(BL, "192.0.2.131\n", replace=True)
    srv.start()
    assert not _listed(srv, "192.0.2.130")
    assert _listed(srv, "192.0.2.131")
    assert _listed(srv, "192.0.2.140")


def test_replace_with_empty_file_empties_the_source(make_server):
    srv = make_server()
    srv.load(BL, "192.0.2.150\n198.51.100.0/24\n", source="gone")
    srv.load(BL, "192.0.2.151\n")
    srv.load(BL, "", source="gone", replace=True)
    srv.start()
    assert not _listed(srv, "192.0.2.150")
    assert not _listed(srv, "198.51.100.1")
    assert _listed(srv, "192.0.2.151")
    t.assert_nxdomain(srv.ask("100.51.198.bl.example", "A"), BL)  # nothing below it now


def test_replace_only_touches_its_zone(make_server):
    srv = make_server()
    srv.load(BL, "192.0.2.160\n", source="s")
    srv.load("pbl.example", "192.0.2.161\n", source="s")
    srv.load(BL, "192.0.2.162\n", source="s", replace=True)
    srv.start()
    assert not _listed(srv, "192.0.2.160")
    assert _listed(srv, "192.0.2.162")
    assert _listed(srv, "192.0.2.161", "pbl.example")


# ---- more input shapes

def test_rbldnsd_range_forms(make_server):
    srv = make_server()
    srv.load(BL, "192.0.2.8-20\n"                 # last-octet suffix form
             "198.18.0.5-198.18.0.20 :127.0.0.3:R\n"  # not aligned on a CIDR boundary
             "!198.18.0.10-198.18.0.11\n"
             "203.0.113.0-203.0.113.255\n", fmt="rbldnsd")
    srv.start()
    for ip in ("192.0.2.8", "192.0.2.15", "192.0.2.20", "198.18.0.5", "198.18.0.9",
               "198.18.0.12", "198.18.0.20", "203.0.113.0", "203.0.113.255"):
        assert _listed(srv, ip), ip
    for ip in ("192.0.2.7", "192.0.2.21", "198.18.0.4", "198.18.0.10", "198.18.0.11",
               "198.18.0.21", "203.0.112.255", "203.0.114.0"):
        assert not _listed(srv, ip), ip
    assert _a(srv, "198.18.0.13") == {"127.0.0.3"}


def test_line_endings_and_last_line(make_server):
    srv = make_server()
    srv.load(BL, "192.0.2.1\r\n192.0.2.2\r\n")   # CRLF
    srv.load(BL, "192.0.2.3\n192.0.2.4")          # no newline at the end
    srv.load(BL, "192.0.2.5 :127.0.0.3:Crlf $\r\n", fmt="rbldnsd")
    srv.start()
    for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"):
        assert _listed(srv, ip), ip
    assert _txt(srv, "192.0.2.5") == ["Crlf 192.0.2.5"]


def test_hostile_lines_are_rejected_not_fatal(make_server):
    srv = make_server()
    path = srv.dir / "hostile.txt"
    path.write_bytes(b"".join([
        b"x" * 20000 + b"\n",         # 1 a very long line
        b"192.0.2.5\x00junk\n",        # 2 NUL byte
        b"\xff\xfe\xfd\n",             # 3 not text
        b"192.0.2.6\n",                # 4
        b"1" * 5000 + b".0.0.1\n",     # 5
        b"192.0.2.7\n",                # 6
    ]))
    r = srv.load(BL, path=path, expect=1)
    _assert_reported(r.stderr, path, bad=(1, 2, 3, 5), good=(4, 6))
    srv.start()
    assert _listed(srv, "192.0.2.6") and _listed(srv, "192.0.2.7")
    assert not _listed(srv, "192.0.2.5")


def test_rbldnsd_txt_over_the_limit_rejected(make_server):
    srv = make_server()
    path = srv.data_file("192.0.2.8 :127.0.0.3:" + "y" * 1100 + "\n192.0.2.9\n")
    r = srv.load(BL, path=path, fmt="rbldnsd", expect=1)
    _assert_reported(r.stderr, path, bad=(1,), good=(2,))
    srv.start()
    assert not _listed(srv, "192.0.2.8")
    assert _listed(srv, "192.0.2.9")


def test_failed_strict_replace_deletes_nothing(make_server):
    srv = make_server()
    srv.load(BL, "192.0.2.100\n192.0.2.101\n", source="feed")
    srv.start()
    path = srv.data_file("192.0.2.100\nbad\n")
    r = srv.load(BL, path=path, source="feed", replace=True, strict=True, expect=2)
    assert f"{path}:2: " in r.stderr, r.stderr
    assert _listed(srv, "192.0.2.100")
    assert _listed(srv, "192.0.2.101"), "a failed --strict --replace deleted an entry"


def test_reimport_same_file_is_idempotent_in_dns(make_server):
    srv = make_server()
    path = srv.data_file("192.0.2.110\n198.51.100.0/24\n!198.51.100.7\n")
    srv.load(BL, path=path)
    srv.load(BL, path=path)
    srv.load(BL, path=path, replace=True)
    srv.start()
    assert _listed(srv, "192.0.2.110") and _listed(srv, "198.51.100.8")
    assert not _listed(srv, "198.51.100.7")
