"""dnsbl-api error paths on one module-scoped server: bad PUT and DELETE bodies (JSON
syntax, not an object, unknown fields, wrong types, long or control-character texts,
times in the past, code outside 127/8), 413 above 16 KiB, and garbage sent over raw
sockets: none of it writes anything, and the server stays healthy."""

import time

import pytest

import apitest as a
import dnsbltest as t
from apitest import BL, entry_path, expect

MAX_BODY = 16384


@pytest.fixture(scope="module")
def err(tmp_path_factory):
    yield from a.module_server(tmp_path_factory, "api_err")


def _nothing_written(srv, api, key, serial):
    rd = api.client("reader")
    expect(rd.get(entry_path(BL, key)), 404)
    assert not a.listed_dns(srv, key, BL)
    assert a.loader_stats_int(srv, BL)["serial"] == serial, "a rejected request wrote"
    r = expect(rd.get(f"/v1/history?zone={BL}&key={key}"), 200)
    assert r.body["history"] == [], r


def _bad_put_bodies():
    now = int(time.time())
    past = now - 3600
    cases = [
        # JSON syntax, not an object
        b"{", b"}", b"nul", b"{'code': 3}", b'{"code": "127.0.0.3",}', b'{"code" 3}',
        b"[1]", b"[]", b'"x"', b"1", b"true", b"null", b'{"reason": "\xff\xfe"}',
        b'{"reason": "a"} {"reason": "b"}', b"\x00\x01\x02",
        # unknown fields
        b'{"color": "red"}', b'{"ttl": "7d", "color": "red"}', b'{"Code": 3}',
        b'{"key": "192.0.2.1"}', b'{"outcome": "created"}',
    ]
    objs = [
        # wrong JSON types
        {"code": True}, {"code": [3]}, {"code": {"a": 3}}, {"code": 3.5},
        {"txt": 5}, {"txt": True}, {"txt": ["x"]}, {"reason": 5}, {"reason": ["x"]},
        {"reason": {}}, {"reason": False}, {"expires": True}, {"expires": {}},
        {"expires": [now + 3600]}, {"ttl": True}, {"ttl": []}, {"ttl": {}},
        {"exclude": "yes"}, {"exclude": 1}, {"exclude": [True]},
        # texts
        {"reason": "r" * 256}, {"reason": "\u00e9" * 128},            # 256 bytes
        {"reason": "a\x01b"}, {"reason": "line\nbreak"}, {"reason": "cr\r"},
        {"reason": "esc\x1b[31m"}, {"reason": "nul\x00"},
        {"txt": "a\nb $"}, {"txt": "bell\x07"}, {"txt": "\x1f$"},
        # times
        {"expires": past}, {"expires": str(past)}, {"expires": t.rfc3339(past)},
        {"expires": "2000-01-01T00:00:00Z"}, {"expires": 0}, {"expires": "tomorrow"},
        {"expires": "2026-13-45T00:00:00Z"}, {"expires": -5},
        {"expires": now + 86400, "ttl": "7d"}, {"expires": t.rfc3339(now + 86400), "ttl": 60},
        {"ttl": "7x"}, {"ttl": -5}, {"ttl": "abc"}, {"ttl": ""},
        # codes
        {"code": "10.0.0.2"}, {"code": "128.0.0.2"}, {"code": "127.0.0.256"},
        {"code": "126.255.255.255"}, {"code": 0}, {"code": 256}, {"code": -1}, {"code": "0"},
        {"code": "256"}, {"code": "300"}, {"code": "127.0.0"}, {"code": "x"}, {"code": ""},
        {"code": "::1"},
        # exclusions with a code or a TXT
        {"exclude": True, "code": 3}, {"exclude": True, "code": "127.0.0.3"},
        {"exclude": True, "txt": "excluded $"},
    ]
    import json
    return cases + [json.dumps(o).encode() for o in objs]


def test_put_bad_bodies_are_400(err):
    srv, api = err
    wr = api.client("writer", keepalive=True)
    key = "192.0.2.240"
    serial = a.loader_stats_int(srv, BL)["serial"]
    failures = []
    for body in _bad_put_bodies():
        for hdrs in ({"Content-Type": "application/json"}, {}):
            r = wr.put(entry_path(BL, key), raw=body, headers=hdrs)
            if r.status != 400 or not isinstance(r.body, dict) or "error" not in r.body:
                failures.append(f"PUT {key} body {body!r} headers {hdrs}: expected 400 with "
                                f"an error, got {r!r}")
    assert not failures, "\n".join(failures)
    _nothing_written(srv, api, key, serial)


def test_delete_bad_bodies_are_400(err):
    srv, api = err
    wr = api.client("writer")
    key = "192.0.2.2"
    serial = a.loader_stats_int(srv, BL)["serial"]
    failures = []
    for body in (b"{", b"[]", b'"x"', b"1", b'{"color": "red"}', b'{"reason": 5}',
                 b'{"reason": null, "x": 1}', b'{"code": 3}', b'{"reason": "a\\u0001b"}',
                 ('{"reason": "%s"}' % ("r" * 256)).encode(), b'{"reason": "\xff"}'):
        r = wr.delete(entry_path(BL, key), raw=body, headers={"Content-Type": "application/json"})
        if r.status != 400 or not isinstance(r.body, dict) or "error" not in r.body:
            failures.append(f"DELETE {key} body {body!r}: expected 400, got {r!r}")
    assert not failures, "\n".join(failures)
    expect(api.client("reader").get(entry_path(BL, key)), 200)
    assert a.listed_dns(srv, key, BL)
    assert a.loader_stats_int(srv, BL)["serial"] == serial


def _padded(obj_text, size):
    body = obj_text.encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


def test_413_over_16_kib(err):
    srv, api = err
    wr = api.client("writer")
    key = "192.0.2.241"
    serial = a.loader_stats_int(srv, BL)["serial"]
    for size in (MAX_BODY + 1, MAX_BODY + 1000, 1 << 20):
        body = _padded('{"reason": "big"}', size)
        assert len(body) == size
        for method, k in (("PUT", key), ("DELETE", "192.0.2.2")):
            head = (f"{method} {entry_path(BL, k)} HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: Bearer {api.secrets['writer']}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {size}\r\n"
                    "Connection: close\r\n\r\n").encode()
            status, reply = a.raw_big_request(api.host, api.port, head, body)
            assert status == 413, f"{method} with a {size}-byte body: {reply[:400]!r}"
            if size == MAX_BODY + 1:
                assert b'{"error"' in reply, f"413 without a JSON error: {reply[:400]!r}"
    # chunked, no Content-Length
    chunk = b" " * 4096
    req = (f"PUT {entry_path(BL, key)} HTTP/1.1\r\nHost: x\r\n"
           f"Authorization: Bearer {api.secrets['writer']}\r\n"
           "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n"
           "Connection: close\r\n\r\n").encode()
    req += b"1\r\n{\r\n" + b"".join(b"1000\r\n" + chunk + b"\r\n" for _ in range(5))
    req += b"1\r\n}\r\n0\r\n\r\n"
    reply = a.raw_http(api.host, api.port, req)
    assert a.raw_status(reply) == 413, f"chunked 20 KiB body: {reply[:300]!r}"
    _nothing_written(srv, api, key, serial)
    assert a.listed_dns(srv, "192.0.2.2", BL)
    # exactly 16 KiB is fine
    body = _padded('{"reason": "exactly 16 KiB"}', MAX_BODY)
    r = expect(wr.put(entry_path(BL, key), raw=body,
                      headers={"Content-Type": "application/json"}), 201)
    assert r.body["reason"] == "exactly 16 KiB", r
    assert a.listed_dns(srv, key, BL)
    expect(wr.delete(entry_path(BL, key), raw=_padded('{"reason": "x"}', MAX_BODY)), 204)
    assert not a.listed_dns(srv, key, BL)


def _garbage(api):
    tok = api.secrets["admin"]
    auth = f"Authorization: Bearer {tok}\r\n".encode()
    put = f"PUT {entry_path(BL, '192.0.2.242')} HTTP/1.1\r\nHost: x\r\n".encode() + auth
    junk = bytes(range(256)) * 8
    return [
        b"", b"\r\n", b"\r\n\r\n", b"\x00" * 100, junk, junk[::-1] + b"\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n",                       # no blank line
        b"GET /v1/zones HTT", b"GET", b"GET /", b"G\x00T / HTTP/1.1\r\n\r\n",
        b"GET /healthz HTTP/9.9\r\n\r\n", b"GET /healthz FOO/1.1\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + junk,
        b"GET /" + b"A" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",    # huge URL
        b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n",   # huge header
        b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(5000))
        + b"\r\n",
        b"GET /v1/zones HTTP/1.1\r\nAuthorization: Bearer " + b"a" * 100000 + b"\r\n\r\n",
        b"GET /v1/zones HTTP/1.1\r\nAuthorization: Bearer \xff\xfe\x00\x01\r\n\r\n",
        b"GET /v1/zones HTTP/1.1\r\nHost: x\r\n" + auth + b"Header-Without-Colon\r\n\r\n",
        b"GET /v1/lookup/" + b"%2F" * 5000 + b" HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n",
        b"GET /v1/lookup/%ZZ%00%ff HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n",
        b"GET /v1/zones/bl.example/entries/192.0.2.1%00 HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n",
        b"GET /v1/zones/%00/entries/%00 HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n",
        b"GET /v1/history?zone=%00&limit=%FF&&&=&cursor HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n",
        b"GET /v1/zones/bl.example/entries?limit=99999999999999999999999 HTTP/1.1\r\n"
        + auth + b"\r\n",
        b"GET /v1/history?since=99999999999999999999999 HTTP/1.1\r\n" + auth + b"\r\n",
        put + b"Content-Length: 100\r\n\r\n{\"reason\":",                 # truncated body
        put + b"Content-Length: -1\r\n\r\n{}",
        put + b"Content-Length: abc\r\n\r\n{}",
        put + b"Content-Length: 99999999999999999999999\r\n\r\n{}",
        put + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        put + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n{}\r\n",
        put + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}",
        put + b"Content-Length: 12\r\n\r\n" + b"{\"reason\":\"\x00\"}",
        put + b"Content-Length: 40\r\n\r\n" + b"[" * 40,                # deep nesting
        put + b"Content-Length: 20000\r\n\r\n" + b"[" * 20000,
        put + b"Content-Length: 4000\r\n\r\n" + b'{"reason":"' + b"\\u0000" * 600 + b'"}'
        + b" " * (4000 - 13 - 3600),
        put + b"Content-Length: 30\r\n\r\n" + b'{"reason":"\\ud800\\udc00\\ud800"}'[:30],
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 50,                 # pipelined
    ]


def test_invalid_utf8_in_paths(err):
    """Percent-decoded path parts that are not UTF-8 are a bad key/address (400) or an
    unknown zone (404), like any other bad text."""
    srv, api = err
    rd, wr = api.client("reader"), api.client("writer")
    failures = []
    cases = [("GET", "/v1/lookup/%ff", 400), ("GET", "/v1/lookup/%e9", 400),
             ("GET", "/v1/lookup/1.2.3.4%ff%fe", 400),
             ("GET", f"/v1/zones/{BL}/entries/%ff", 400),
             ("PUT", f"/v1/zones/{BL}/entries/%ff", 400),
             ("DELETE", f"/v1/zones/{BL}/entries/%ff", 400),
             ("GET", "/v1/zones/%ff/entries", 404),
             ("GET", "/v1/zones/%ff/entries/192.0.2.2", 404),
             ("GET", "/v1/history?zone=%ff", 404),
             ("GET", f"/v1/history?zone={BL}&key=%ff", 400),
             ("GET", f"/v1/zones/{BL}/entries?cursor=%ff", 400),
             ("GET", "/v1/history?since=%ff", 400),
             ("GET", "/v1/zones?%ff=1", 400)]
    for method, path, status in cases:
        r = (wr if method != "GET" else rd).request(method, path, body={} if method == "PUT"
                                                    else None)
        if r.status != status or not isinstance(r.body, dict) or "error" not in r.body:
            failures.append(f"{method} {path}: expected {status} with an error, got {r!r}")
    assert not failures, "\n".join(failures)
    api.assert_alive()


def test_garbage_requests_do_not_hurt(err):
    srv, api = err
    serial = a.loader_stats_int(srv, BL)["serial"]
    idle = []
    try:
        for i, data in enumerate(_garbage(api)):
            reply = a.raw_http(api.host, api.port, data, timeout=1.0)
            status = a.raw_status(reply)
            assert status is None or 100 <= status < 600, (i, data[:80], reply[:200])
            # a well-formed GET /healthz that came along still works
            if data.startswith(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"):
                assert status == 200, (data[:80], reply[:200])
            assert api.running(), (f"dnsbl-api died after garbage #{i} {data[:80]!r}"
                                   f"\nstderr:\n{api.stderr_text()}")
        # idle and half-sent connections do not block others
        import socket
        for _ in range(20):
            s = socket.create_connection((api.host, api.port), timeout=2)
            s.sendall(b"GET /v1/zones HTTP/1.1\r\nHost: x\r\n")
            idle.append(s)
        api.assert_alive()
        expect(api.client("reader").get("/v1/zones"), 200)
    finally:
        for s in idle:
            s.close()
    api.assert_alive()
    srv.assert_alive()
    r = expect(api.client("writer").put(entry_path(BL, "192.0.2.243"), {"reason": "after"}), 201)
    assert r.body["reason"] == "after"
    assert a.listed_dns(srv, "192.0.2.243", BL)
    assert a.loader_stats_int(srv, BL)["serial"] == serial + 1, \
        "garbage requests wrote something (e.g. 192.0.2.242)"
    expect(api.client("reader").get(entry_path(BL, "192.0.2.242")), 404)
