"""Fixtures for the dnsbld end-to-end tests.

  std          one dnsbld for the whole session, serving ZONES with the standard data
               (dnsbltest.load_standard); tests must not change its store.
  make_server  a factory for private servers: make_server(zones=, server_opts=, v6=,
               standard=, start=, extra=) -> dnsbltest.Dnsbl (extra: config text
               appended after the zones). Each is stopped with SIGTERM at
               teardown, and must exit 0.

Binaries: $DNSBL_BIN (default <repo>/bin).
"""

import pytest

import dnsbltest as t


def _check_binaries():
    missing = [str(p) for p in (t.DNSBLD, t.LOADER) if not p.exists()]
    if missing:
        pytest.fail(f"binaries not found: {', '.join(missing)} (set DNSBL_BIN or run make all)",
                    pytrace=False)


def _stop_checked(srv):
    was_running = srv.running()
    rc = srv.stop()
    if was_running and rc != 0:
        return (f"dnsbld ({srv.config}) exit code after SIGTERM: {rc} "
                f"(None = still running after {t.STOP_TIMEOUT}s, killed)\n"
                f"stderr:\n{srv.stderr_text()}")
    if not was_running and srv.returncode not in (None, 0):
        return (f"dnsbld ({srv.config}) died during the test with {srv.returncode}\n"
                f"stderr:\n{srv.stderr_text()}")
    return None


@pytest.fixture(scope="session")
def std(tmp_path_factory):
    _check_binaries()
    srv = t.Dnsbl(tmp_path_factory.mktemp("std"))
    t.load_standard(srv)
    srv.start()
    yield srv
    problem = _stop_checked(srv)
    assert problem is None, problem


@pytest.fixture
def make_server(tmp_path):
    _check_binaries()
    servers = []

    def make(zones=None, server_opts=None, v6=False, standard=False, start=False, extra=""):
        srv = t.Dnsbl(tmp_path / f"srv{len(servers)}", zones=zones,
                      server_opts=server_opts, v6=v6, extra=extra)
        servers.append(srv)
        if standard:
            t.load_standard(srv)
        if start:
            srv.start()
        return srv

    yield make
    problems = [p for p in (_stop_checked(s) for s in servers) if p]
    assert not problems, "\n\n".join(problems)


@pytest.fixture(params=t.TRANSPORTS)
def transport(request):
    return request.param
