"""dnsbld start-up: bad configs are refused with FILE:LINE: messages; good variants run."""

import re
import subprocess

import pytest

import dnsbltest as t
from dnsbltest import rev

SERVER = ["[server]", "db = db", "listen = 127.0.0.1:{port}", "threads = 1"]
ZONE_BL = ["[zone bl.example]", "type = ip", "policy = block", "ttl = 300", "a = 127.0.0.2",
           "txt = Listed $", "soa = ns1.bl.example. hostmaster.bl.example. 3600 600 86400 120",
           "ns = ns1.bl.example."]
ZONE_PBL = [line.replace("bl.example", "pbl.example") for line in ZONE_BL]


def _run_bad(tmp_path, lines):
    """Writes lines as the config, runs dnsbld -f; it must exit non-zero within 5 s.
    Returns (config path, stderr)."""
    port = t.free_port()
    cfg = tmp_path / "bad.conf"
    cfg.write_text("\n".join(lines).replace("{port}", str(port)) + "\n")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    p = subprocess.Popen([str(t.DNSBLD), "-c", str(cfg), "-f"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    try:
        out, err = p.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"dnsbld kept running with a bad config:\n{cfg.read_text()}\nstderr:\n{err}")
    assert p.returncode != 0, f"dnsbld exited 0 with a bad config\nstderr:\n{err}"
    return cfg, err + out


def _assert_line(cfg, err, lines_ok):
    found = [int(m) for m in re.findall(rf"{re.escape(cfg.name)}:(\d+): ", err)]
    assert found, f"no '{cfg.name}:LINE: ' message:\n{err}"
    assert set(found) & set(lines_ok), f"reported lines {found}, expected one of {lines_ok}:\n{err}"


@pytest.mark.parametrize("where,bad", [
    ("server", "frobnicate = 1"),
    ("zone", "frobnicate = 1"),
    ("zone", "ttl = abc"),
    ("zone", "ttl = -5"),
    ("zone", "a = 300.0.0.1"),
    ("zone", "policy = sometimes"),
    ("zone", "soa = ns1.bl.example. hostmaster.bl.example. 3600"),
    ("server", "threads = many"),
    ("server", "tcp_idle_timeout = soon"),
])
def test_bad_key_or_value(tmp_path, where, bad):
    if where == "server":
        lines = SERVER + [bad, ""] + ZONE_BL
        bad_line = len(SERVER) + 1
    else:
        lines = SERVER + [""] + ZONE_BL + [bad]
        bad_line = len(lines)
    cfg, err = _run_bad(tmp_path, lines)
    _assert_line(cfg, err, [bad_line])


@pytest.mark.parametrize("listen", ["127.0.0.1", "127.0.0.1:99999", "256.0.0.1:5300",
                                    "localhost:abc", "[::1:5300"])
def test_bad_listen(tmp_path, listen):
    lines = ["[server]", "db = db", f"listen = {listen}", "", *ZONE_BL]
    cfg, err = _run_bad(tmp_path, lines)
    _assert_line(cfg, err, [3])


def test_duplicate_zone(tmp_path):
    lines = SERVER + [""] + ZONE_BL + [""] + ZONE_PBL + [""] + ZONE_BL
    second = len(SERVER) + 1 + len(ZONE_BL) + 1 + len(ZONE_PBL) + 1 + 1  # its header line
    cfg, err = _run_bad(tmp_path, lines)
    _assert_line(cfg, err, list(range(second, second + len(ZONE_BL))))


def test_no_zone(tmp_path):
    cfg, err = _run_bad(tmp_path, SERVER)
    assert re.search(rf"{re.escape(cfg.name)}:\d+: ", err), err


def test_missing_config_file(tmp_path):
    p = subprocess.run([str(t.DNSBLD), "-c", str(tmp_path / "absent.conf"), "-f"],
                       capture_output=True, text=True, timeout=5)
    assert p.returncode != 0
    assert p.stderr.strip()


def test_relative_db_is_relative_to_the_config_file(make_server):
    srv = make_server(standard=True, start=True)
    assert (srv.dir / "db").is_dir(), "db = db not created next to the config file"
    assert not (srv.cwd / "db").exists(), "db = db resolved against the working directory"
    t.assert_listed_a(srv.ask(rev("192.0.2.2", "bl.example"), "A"), "bl.example",
                      rev("192.0.2.2", "bl.example"), "127.0.0.3")


@pytest.mark.parametrize("threads", [0, 1, 4])
def test_thread_counts(make_server, threads):
    srv = make_server(server_opts={"threads": threads}, standard=True, start=True)
    for transport in t.TRANSPORTS:
        t.assert_listed_a(srv.ask(rev("192.0.2.1", "bl.example"), "A", transport),
                          "bl.example", rev("192.0.2.1", "bl.example"), "127.0.0.7")
        t.assert_nxdomain(srv.ask(rev("192.0.2.6", "bl.example"), "A", transport), "bl.example")


def test_api_section_is_accepted(make_server):
    api_port = t.free_port()
    extra = f"\n[api]\nlisten = 127.0.0.1:{api_port}\ntokens = tokens\n"
    srv = make_server(extra=extra, standard=True, start=True)
    t.assert_listed_a(srv.ask(rev("192.0.2.2", "bl.example"), "A"), "bl.example",
                      rev("192.0.2.2", "bl.example"), "127.0.0.3")
