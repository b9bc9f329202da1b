"""Helpers for the dnsbl-api end-to-end tests (test_api_*.py): a running dnsbl-api beside
a dnsbltest.Dnsbl, its tokens (made with the real CLI), a small HTTP client on
http.client, and the fixtures the test_api_*.py files import.

The API shares the Dnsbl's config file: the config gets an [api] section from
api_config() through Dnsbl(extra=...), with a port from dnsbltest.free_port and
`tokens = tokens` (relative to the config file).
"""

import http.client
import ipaddress
import json
import pathlib
import re
import signal
import socket
import subprocess
import time
import urllib.parse

import dns.flags
import dns.rcode
import pytest

import dnsbltest as t

API = t.BIN / "dnsbl-api"
API_START_TIMEOUT = 5.0
API_STOP_TIMEOUT = 5.0
HTTP_TIMEOUT = 30.0

BL, PBL, WL, TL = "bl.example", "pbl.example", "wl.example", "tl.example"
ROLES = ("read", "write", "admin")
# every route of api/README.md (as written in api/openapi.yaml)
ROUTES = ("/healthz", "/v1/openapi.yaml", "/v1/zones", "/v1/lookup/{address}",
          "/v1/zones/{zone}/entries", "/v1/zones/{zone}/entries/{key}", "/v1/history",
          "/v1/tokens")
ENTRY_FIELDS = {"key", "state", "code", "txt", "reason", "source", "manual", "first_seen",
                "last_seen", "hits", "expires"}
HISTORY_FIELDS = {"seq", "time", "zone", "event", "key", "actor", "code", "reason"}
ZONE_FIELDS = {"name", "type", "policy", "exempt", "ttl", "code", "txt", "entries",
               "tombstones", "serial"}
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

# an allowlist zone (policy = allow), used as bl.example's `exempt`
WL_ZONE = {
    "type": "ip",
    "policy": "allow",
    "ttl": 300,
    "a": "127.0.0.5",
    "soa": "ns1.wl.example. hostmaster.wl.example. 3600 600 86400 120",
    "ns": "ns1.wl.example.",
}


def api_config(port, tokens="tokens"):
    return f"\n[api]\nlisten = 127.0.0.1:{port}\ntokens = {tokens}\n"


def section(name, keys):
    lines = ["", f"[zone {name}]"] + [f"{k} = {v}" for k, v in keys.items() if v is not None]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# HTTP client

class Resp:
    """status, headers (http.client.HTTPMessage: case-insensitive .get), body (parsed
    JSON when the body parses as JSON, else the raw bytes), raw (the bytes)."""

    def __init__(self, method, path, status, headers, raw):
        self.method, self.path = method, path
        self.status, self.headers, self.raw = status, headers, raw
        self.body = raw
        if raw:
            try:
                self.body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                self.body = raw
        else:
            self.body = None

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    def __repr__(self):
        text = self.raw[:600].decode("utf-8", "replace") if self.raw else ""
        hdrs = "; ".join(f"{k}: {v}" for k, v in self.headers.items())
        return f"<{self.method} {self.path} -> {self.status} [{hdrs}] {text!r}>"

    def error(self):
        """The "error" text of an error body (asserts it is there)."""
        assert isinstance(self.body, dict) and isinstance(self.body.get("error"), str) \
            and self.body["error"], f"no {{\"error\": text}} body: {self!r}"
        return self.body["error"]


class Client:
    """A small HTTP/1.1 client for one API. request() returns a Resp. keepalive=True
    reuses one connection (reconnecting when the server closed it)."""

    def __init__(self, host, port, token=None, keepalive=False):
        self.host, self.port, self.token = host, port, token
        self.keepalive = keepalive
        self._conn = None

    def _connection(self):
        if self._conn is None or not self.keepalive:
            if self._conn is not None:
                self._conn.close()
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=HTTP_TIMEOUT)
        return self._conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method, path, body=None, token="default", headers=None, raw=None):
        """body: a Python value sent as JSON (Content-Type: application/json); raw: bytes
        sent as they are; token: "default" = this client's, None = no Authorization;
        headers: extra headers (they win)."""
        hdrs = {}
        tok = self.token if token == "default" else token
        if tok is not None:
            hdrs["Authorization"] = f"Bearer {tok}"
        data = None
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        for attempt in range(2):
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers=hdrs)
                r = conn.getresponse()
                payload = r.read()
                resp = Resp(method, path, r.status, r.headers, payload)
                if not self.keepalive or r.will_close:
                    conn.close()
                    self._conn = None
                return resp
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self._conn = None
                if attempt == 1 or not self.keepalive:
                    raise
        raise AssertionError("unreachable")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body=body, **kw)


def q(value):
    """Percent-encodes a path segment (the slash too)."""
    return urllib.parse.quote(str(value), safe="")


def entry_path(zone, key, encode=True):
    return f"/v1/zones/{zone}/entries/{q(key) if encode else key}"


def expect(resp, status, what=""):
    assert resp.status == status, f"{what}expected {status}, got {resp!r}"
    return resp


# --------------------------------------------------------------------------------------
# A running dnsbl-api

class DnsblApi:
    """dnsbl-api beside srv (a dnsbltest.Dnsbl whose config has api_config(port))."""

    def __init__(self, srv, port):
        self.srv = srv
        self.host = "127.0.0.1"
        self.port = port
        self.config = srv.config
        self.tokens_path = srv.dir / "tokens"
        self.stderr_path = srv.dir / "dnsbl-api.stderr"
        self.proc = None
        self.returncode = None
        self.secrets = {}      # name -> secret
        self.roles = {}        # name -> role

    # ---- tokens (the real CLI)
    def cli(self, *args, timeout=30):
        return subprocess.run([str(API), "-c", str(self.config), *map(str, args)],
                              capture_output=True, text=True, cwd=self.srv.cwd,
                              timeout=timeout)

    def token_add(self, name, role):
        r = self.cli("token", "add", name, role)
        assert r.returncode == 0, (f"dnsbl-api token add {name} {role}: exit {r.returncode}"
                                   f"\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}")
        words = r.stdout.split()
        assert words, f"token add {name}: no output\nstderr:\n{r.stderr}"
        secret = words[-1]
        self.secrets[name] = secret
        self.roles[name] = role
        return secret

    def token_remove(self, name):
        r = self.cli("token", "remove", name)
        assert r.returncode == 0, (f"dnsbl-api token remove {name}: exit {r.returncode}"
                                   f"\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}")
        self.secrets.pop(name, None)
        self.roles.pop(name, None)
        return r

    def token_list(self):
        r = self.cli("token", "list")
        assert r.returncode == 0, f"token list: exit {r.returncode}\n{r.stderr}"
        return [tuple(line.split()) for line in r.stdout.splitlines() if line.strip()]

    # ---- the server
    def start(self):
        assert self.proc is None
        assert API.exists(), f"{API} not found (run make all)"
        self._errf = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([str(API), "-c", str(self.config), "-f"],
                                     stdin=subprocess.DEVNULL, stdout=self._errf,
                                     stderr=self._errf, cwd=self.srv.cwd)
        deadline = time.monotonic() + API_START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"dnsbl-api exited with {self.proc.returncode} at "
                                     f"start-up\nstderr:\n{self.stderr_text()}")
            try:
                r = Client(self.host, self.port).get("/healthz", token=None)
                if r.status == 200:
                    return self
                last = r
            except OSError as e:
                last = e
            time.sleep(0.05)
        raise AssertionError(f"dnsbl-api: GET /healthz not 200 within {API_START_TIMEOUT}s "
                             f"({last!r})\nstderr:\n{self.stderr_text()}")

    def stderr_text(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM; returns a problem text, or None when it exited 0 within 5 s."""
        if self.proc is None:
            return None
        problem = None
        if self.proc.poll() is not None:
            problem = f"dnsbl-api died during the test with exit code {self.proc.returncode}"
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(API_STOP_TIMEOUT)
                if self.proc.returncode != 0:
                    problem = f"dnsbl-api exit code after SIGTERM: {self.proc.returncode}"
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problem = f"dnsbl-api still running {API_STOP_TIMEOUT}s after SIGTERM (killed)"
        self.returncode = self.proc.returncode
        self.proc = None
        self._errf.close()
        if problem:
            return f"{problem} ({self.config})\nstderr:\n{self.stderr_text()}"
        return None

    def assert_alive(self):
        assert self.running(), f"dnsbl-api died\nstderr:\n{self.stderr_text()}"
        r = self.client().get("/healthz", token=None)
        assert r.status == 200 and r.body == {"status": "ok"}, r

    # ---- clients
    def client(self, name=None, keepalive=False, token=None):
        """A Client with the secret of token `name` (or the raw `token`)."""
        return Client(self.host, self.port,
                      token=self.secrets[name] if name else token, keepalive=keepalive)


def start_api(srv, port, tokens=(("reader", "read"), ("writer", "write"),
                                 ("admin", "admin"))):
    api = DnsblApi(srv, port)
    for name, role in tokens:
        api.token_add(name, role)
    return api.start()


# --------------------------------------------------------------------------------------
# Keys, entries, DNS

def ip_key(text):
    """An entry key (address or CIDR) as an ip_network."""
    return ipaddress.ip_network(text, strict=True)


def key_order(key):
    """Sort key of the spec's entry order: IPv4 before IPv6, then prefix length, then
    address."""
    n = ip_key(key)
    return (n.version, n.prefixlen, int(n.network_address))


def qname(addr, zone):
    a = ipaddress.ip_address(addr)
    return t.rev6(addr, zone) if a.version == 6 else t.rev(addr, zone)


def expand(template, addr):
    """A TXT template with $ -> the address and $$ -> $."""
    if template is None:
        return None
    out, i = [], 0
    while i < len(template):
        if template.startswith("$$", i):
            out.append("$")
            i += 2
        elif template[i] == "$":
            out.append(addr)
            i += 1
        else:
            out.append(template[i])
            i += 1
    return "".join(out)


def dns_state(srv, addr, zone, transport="udp"):
    """What dnsbld answers for addr in zone: (listed, A value or None, TXT text or None).
    listed: NOERROR with an A; the TXT is None on NXDOMAIN or NODATA."""
    name = qname(addr, zone)
    ra = srv.ask(name, "A", transport)
    rt = srv.ask(name, "TXT", transport)
    if rt.flags & dns.flags.TC:            # a long TXT: the client retries over TCP
        rt = srv.ask(name, "TXT", "tcp")
    assert ra.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN), t.describe(ra)
    a = t.a_values(ra)
    assert len(a) <= 1, t.describe(ra)
    txts = t.txt_values(rt)
    assert len(txts) <= 1, t.describe(rt)
    return (bool(a), next(iter(a)) if a else None, txts[0] if txts else None)


def check_time(value, what="time"):
    assert isinstance(value, str) and RFC3339_UTC.match(value), \
        f"{what}: not an RFC 3339 UTC time: {value!r}"
    return t.parse_time(value)


def check_entry(e, key=None):
    """Checks an entry object's shape; returns it."""
    assert isinstance(e, dict), e
    missing = ENTRY_FIELDS - set(e)
    assert not missing, f"entry without {sorted(missing)}: {e}"
    if key is not None:
        assert e["key"] == key, f"key {e['key']!r}, expected {key!r}: {e}"
    ip_key(e["key"])
    assert e["state"] in ("listed", "excluded", "pending", "expired"), e
    assert e["code"] is None or (isinstance(e["code"], str)
                                 and ipaddress.ip_address(e["code"]) in
                                 ipaddress.ip_network("127.0.0.0/8")), e
    if e["state"] == "excluded":
        assert e["code"] is None, f"an exclusion with a code: {e}"
    assert e["txt"] is None or isinstance(e["txt"], str), e
    assert e["reason"] is None or isinstance(e["reason"], str), e
    assert isinstance(e["source"], str) and e["source"], e
    assert isinstance(e["manual"], bool), e
    assert isinstance(e["hits"], int) and not isinstance(e["hits"], bool) and e["hits"] >= 1, e
    first = check_time(e["first_seen"], "first_seen")
    last = check_time(e["last_seen"], "last_seen")
    assert first <= last, e
    if e["expires"] is not None:
        check_time(e["expires"], "expires")
    return e


def check_history_record(h):
    assert isinstance(h, dict), h
    missing = HISTORY_FIELDS - set(h)
    assert not missing, f"history record without {sorted(missing)}: {h}"
    assert isinstance(h["seq"], int) and not isinstance(h["seq"], bool), h
    check_time(h["time"], "history time")
    assert h["event"] in ("list", "relist", "delist", "expire", "remove", "update"), h
    assert isinstance(h["actor"], str) and (
        h["actor"].startswith("source:") or h["actor"].startswith("operator:")
        or h["actor"] == "expire"), h
    ip_key(h["key"])
    return h


def all_entries(client, zone, limit=1000):
    """Every entry of zone, paging with limit; checks the paging contract (each key once,
    in key order, next_cursor null on the last page). Returns the list."""
    out, cursor, pages = [], None, 0
    while True:
        path = f"/v1/zones/{zone}/entries?limit={limit}"
        if cursor is not None:
            path += f"&cursor={q(cursor)}"
        r = expect(client.get(path), 200)
        assert set(r.body) == {"zone", "entries", "next_cursor"}, r
        assert r.body["zone"] == zone, r
        page = r.body["entries"]
        assert len(page) <= limit, f"{len(page)} entries on a page of limit {limit}"
        out += page
        pages += 1
        cursor = r.body["next_cursor"]
        if cursor is None:
            break
        assert page, f"an empty page with a next_cursor: {r!r}"
        assert cursor == page[-1]["key"], f"next_cursor {cursor!r} is not the page's last key"
        assert pages < 100000
    keys = [e["key"] for e in out]
    assert len(keys) == len(set(keys)), "a key listed twice while paging"
    assert keys == sorted(keys, key=key_order), "entries not in key order"
    return out


def history_all(client, query="", limit=1000):
    """Every history record matching the query string (without limit/cursor)."""
    out, cursor = [], None
    while True:
        path = f"/v1/history?limit={limit}" + (f"&{query}" if query else "")
        if cursor is not None:
            path += f"&cursor={q(cursor)}"
        r = expect(client.get(path), 200)
        assert set(r.body) == {"history", "next_cursor"}, r
        out += r.body["history"]
        cursor = r.body["next_cursor"]
        if cursor is None:
            break
        assert r.body["history"], r
    seqs = [h["seq"] for h in out]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs), \
        f"history not newest first / seq repeated: {seqs[:50]}"
    return out


def loader_stats_int(srv, zone):
    keys, _ = t.loader_stats(srv, zone)
    return {k: int(v) for k, v in keys.items() if v.lstrip("-").isdigit()}


# --------------------------------------------------------------------------------------
# Raw HTTP over a socket

def _first_response_complete(buf):
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
    return bool(m) and len(body) >= int(m.group(1))


def raw_http(host, port, data, timeout=3.0, shutdown=True):
    """Sends bytes, reads until EOF, timeout or a complete first response (with a
    Content-Length); returns what came back (maybe b"")."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(data)
            if shutdown:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        buf = b""
        try:
            while not _first_response_complete(buf):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except (socket.timeout, OSError):
            pass
        return buf


def raw_big_request(host, port, head, body, timeout=5.0):
    """Sends head (request line and headers, with the blank line), then body unless a
    response came first (a server may answer 413 from the Content-Length alone and
    close). Returns the status of the response (None when none came)."""
    import select
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(head)
        buf = b""
        ready, _, _ = select.select([s], [], [], 0.3)
        if not ready:
            try:
                s.sendall(body)
            except OSError:
                pass
        try:
            while not _first_response_complete(buf):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except (socket.timeout, OSError):
            pass
        return raw_status(buf), buf


def raw_status(reply):
    """The status code of the first response in reply bytes (None when none)."""
    m = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
    return int(m.group(1)) if m else None


# --------------------------------------------------------------------------------------
# Fixtures (imported by the test_api_*.py files)

def _three_zone_setup(port, relist_after=None):
    """zones/extra for a server with bl.example (exempt = wl.example), pbl.example,
    wl.example (allow) and tl.example (never written), in that config order."""
    zones = {BL: t.ZONES[BL]}
    extra = f"exempt = {WL}\n"
    if relist_after is not None:
        extra += f"relist_after = {relist_after}\n"
    extra += section(PBL, t.ZONES[PBL]) + section(WL, WL_ZONE) + section(TL, t.ZONES[TL])
    extra += api_config(port)
    return zones, extra


CONFIG_ORDER = (BL, PBL, WL, TL)
ZONE_CONF = {BL: dict(t.ZONES[BL], exempt=WL), PBL: t.ZONES[PBL], WL: WL_ZONE,
             TL: t.ZONES[TL]}

# wl.example: exempts 192.0.2.5 (listed in bl) and 203.0.113.128/25 (inside bl's /24)
WL_DATA = "192.0.2.5\n203.0.113.128/25\n"


def setup_standard(srv):
    t.load_standard(srv)
    srv.load(WL, WL_DATA)


@pytest.fixture
def make_api(make_server):
    """make_api(standard=True, relist_after=None, zones=None, extra="", tokens=...) ->
    (srv, api), both running: the four zones of CONFIG_ORDER (or `zones`/`extra` as for
    make_server, plus the [api] section), tokens reader/writer/admin."""
    apis = []

    def make(standard=True, relist_after=None, zones=None, extra="",
             tokens=(("reader", "read"), ("writer", "write"), ("admin", "admin"))):
        port = t.free_port()
        if zones is None:
            zones, ext = _three_zone_setup(port, relist_after)
        else:
            ext = extra + api_config(port)
        srv = make_server(zones=zones, extra=ext)
        if standard:
            setup_standard(srv)
        srv.start()
        api = DnsblApi(srv, port)
        apis.append(api)
        for name, role in tokens:
            api.token_add(name, role)
        api.start()
        return srv, api

    yield make
    problems = [p for p in (a.stop() for a in apis) if p]
    assert not problems, "\n\n".join(problems)


def module_server(tmp_path_factory, name, prepare=None):
    """A generator for module-scoped (srv, api) fixtures: the standard four-zone setup,
    prepare(srv, api) run once with both running. Stops both and checks exit codes."""
    _check_binaries()
    t_dir = tmp_path_factory.mktemp(name)
    port = t.free_port()
    zones, extra = _three_zone_setup(port)
    srv = t.Dnsbl(t_dir / "srv", zones=zones, extra=extra)
    setup_standard(srv)
    srv.start()
    api = DnsblApi(srv, port)
    try:
        for tok_name, role in (("reader", "read"), ("writer", "write"), ("admin", "admin")):
            api.token_add(tok_name, role)
        api.start()
        if prepare:
            prepare(srv, api)
    except BaseException:
        api.stop()
        srv.stop()
        raise
    yield srv, api
    problems = []
    p = api.stop()
    if p:
        problems.append(p)
    was_running = srv.running()
    rc = srv.stop()
    if was_running and rc != 0:
        problems.append(f"dnsbld exit code after SIGTERM: {rc}\nstderr:\n{srv.stderr_text()}")
    elif not was_running and srv.returncode not in (None, 0):
        problems.append(f"dnsbld died with {srv.returncode}\nstderr:\n{srv.stderr_text()}")
    assert not problems, "\n\n".join(problems)


def _check_binaries():
    missing = [str(p) for p in (t.DNSBLD, t.LOADER, API) if not pathlib.Path(p).exists()]
    if missing:
        pytest.fail(f"binaries not found: {', '.join(missing)} (run make all)", pytrace=False)


def listed_dns(srv, addr, zone, transport="udp"):
    """True when dnsbld answers addr in zone with an A record (NOERROR), False on
    NXDOMAIN."""
    r = srv.ask(qname(addr, zone), "A", transport)
    assert r.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN), t.describe(r)
    return r.rcode() == dns.rcode.NOERROR and bool(t.a_values(r))
