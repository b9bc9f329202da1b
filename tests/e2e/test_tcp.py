"""DNS over TCP per RFC 7766: framing, pipelining, idle timeout, connection cap."""

import socket
import struct
import time

import dns.flags
import dns.message
import dns.rcode
import pytest

import dnsbltest as t
from dnsbltest import rev

# (qname, qtype, rcode, A values or TXT values)
MIX = [
    (rev("192.0.2.1", "bl.example"), "A", dns.rcode.NOERROR, {"127.0.0.7"}),
    (rev("192.0.2.2", "bl.example"), "TXT", dns.rcode.NOERROR, ["Open relay at 192.0.2.2"]),
    (rev("192.0.2.6", "bl.example"), "A", dns.rcode.NXDOMAIN, set()),
    (rev("192.0.2.200", "bl.example"), "TXT", dns.rcode.NOERROR, [t.LONG_TXT]),
    (rev("10.1.2.3", "pbl.example"), "A", dns.rcode.NOERROR, {"127.0.0.10"}),
    ("example.com", "A", dns.rcode.REFUSED, set()),
    (rev("198.51.100.7", "bl.example"), "A", dns.rcode.NXDOMAIN, set()),
    ("0.0.127.bl.example", "A", dns.rcode.NOERROR, set()),
]


def _check(r, case):
    qname, qtype, rcode, want = case
    assert r.rcode() == rcode, t.describe(r)
    assert not r.flags & dns.flags.TC
    if qtype == "A":
        assert t.a_values(r) == want, t.describe(r)
    else:
        assert t.txt_values(r) == want, t.describe(r)


def _queries(cases, base_id):
    qs = []
    for i, (qname, qtype, _, _) in enumerate(cases):
        qs.append(dns.message.make_query(qname, qtype, id=(base_id + i) & 0xFFFF))
    return qs


def _read_answers(sock, n):
    answers = {}
    for _ in range(n):
        wire = t.tcp_recv(sock)
        assert wire is not None, f"EOF after {len(answers)} of {n} answers"
        r = dns.message.from_wire(wire)
        assert r.id not in answers, f"two answers with id {r.id}"
        answers[r.id] = r
    return answers


def test_pipelined_queries_in_one_write(std):
    cases = MIX * 3
    qs = _queries(cases, 1000)
    payload = b"".join(struct.pack("!H", len(w)) + w for w in (q.to_wire() for q in qs))
    with std.tcp_connect() as s:
        s.sendall(payload)  # one write
        answers = _read_answers(s, len(qs))
    for q, case in zip(qs, cases):
        assert q.id in answers, f"no answer for {case[0]} {case[1]}"
        _check(answers[q.id], case)
        assert answers[q.id].question[0].name == q.question[0].name


def test_many_pipelined_queries(std):
    n = 200
    qs = [dns.message.make_query(rev(f"10.0.{i // 256}.{i % 256}", "pbl.example"), "A", id=i + 1)
          for i in range(n)]
    with std.tcp_connect(timeout=5) as s:
        s.sendall(b"".join(struct.pack("!H", len(w)) + w for w in (q.to_wire() for q in qs)))
        answers = _read_answers(s, n)
    for q in qs:
        assert t.a_values(answers[q.id]) == {"127.0.0.10"}
        assert answers[q.id].question[0].name == q.question[0].name


def test_half_close_after_pipelined_queries_still_answered(std):
    # RFC 7766 6.2.4: a client may shut down its sending side after its queries;
    # every query already sent is answered before the server closes.
    n = 300
    qs = [dns.message.make_query(rev(f"10.1.{i // 256}.{i % 256}", "pbl.example"), "TXT",
                                 id=i + 1) for i in range(n)]
    with std.tcp_connect(timeout=5) as s:
        s.sendall(b"".join(struct.pack("!H", len(w)) + w for w in (q.to_wire() for q in qs)))
        s.shutdown(socket.SHUT_WR)
        answers = _read_answers(s, n)
        assert t.tcp_recv(s) is None, "the server should close after the last answer"
    assert sorted(answers) == [q.id for q in qs]


def test_sequential_queries_on_one_connection(std):
    with std.tcp_connect() as s:
        for i, case in enumerate(MIX * 2):
            q = dns.message.make_query(case[0], case[1], id=4000 + i)
            t.tcp_send(s, q.to_wire())
            wire = t.tcp_recv(s)
            assert wire is not None, f"EOF before answer {i}"
            r = dns.message.from_wire(wire)
            assert r.id == q.id
            _check(r, case)


def test_message_split_across_writes(std):
    q = dns.message.make_query(rev("192.0.2.2", "bl.example"), "A")
    framed = struct.pack("!H", len(q.to_wire())) + q.to_wire()
    with std.tcp_connect() as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in (framed[:1], framed[1:2], framed[2:9], framed[9:20], framed[20:]):
            s.sendall(piece)
            time.sleep(0.05)
        wire = t.tcp_recv(s)
    assert wire is not None
    r = dns.message.from_wire(wire)
    assert r.id == q.id
    assert t.a_values(r) == {"127.0.0.3"}


def test_two_messages_straddling_writes(std):
    q1 = dns.message.make_query(rev("192.0.2.1", "bl.example"), "A", id=71)
    q2 = dns.message.make_query(rev("192.0.2.2", "bl.example"), "A", id=72)
    data = b"".join(struct.pack("!H", len(w)) + w for w in (q1.to_wire(), q2.to_wire()))
    cut = len(q1.to_wire()) + 2 + 5  # the first message and part of the second
    with std.tcp_connect() as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(data[:cut])
        time.sleep(0.1)
        s.sendall(data[cut:])
        answers = _read_answers(s, 2)
    assert t.a_values(answers[71]) == {"127.0.0.7"}
    assert t.a_values(answers[72]) == {"127.0.0.3"}


def test_incomplete_message_then_close(std):
    for data in (b"\x00", b"\x00\x40" + b"\x12" * 10, b"\xff\xff" + b"\x00" * 100):
        with std.tcp_connect() as s:
            s.sendall(data)
    std.assert_alive()


def test_default_idle_timeout_is_not_short(std):
    # default tcp_idle_timeout is 10 s: an idle connection survives 1.5 s
    with std.tcp_connect() as s:
        time.sleep(1.5)
        q = dns.message.make_query(rev("192.0.2.1", "bl.example"), "A")
        t.tcp_send(s, q.to_wire())
        wire = t.tcp_recv(s)
        assert wire is not None, "connection closed before the default idle timeout"
        assert t.a_values(dns.message.from_wire(wire)) == {"127.0.0.7"}


def _wait_closed(sock, limit):
    """Seconds until the peer closed sock (EOF or reset); None if still open after limit."""
    start = time.monotonic()
    sock.settimeout(limit)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return time.monotonic() - start
    except (ConnectionResetError, ConnectionAbortedError):
        return time.monotonic() - start
    except socket.timeout:
        return None


@pytest.mark.parametrize("how", ["fresh", "after-query", "mid-message"])
def test_idle_timeout_closes_connection(make_server, how):
    srv = make_server(server_opts={"tcp_idle_timeout": 1}, start=True)
    with srv.tcp_connect() as s:
        if how == "after-query":
            q = dns.message.make_query("2.0.0.127.bl.example", "A")
            t.tcp_send(s, q.to_wire())
            assert t.tcp_recv(s) is not None
        elif how == "mid-message":
            s.sendall(b"\x00\x30\x12")  # 48 bytes announced, 1 sent
        elapsed = _wait_closed(s, 3.5)
    assert elapsed is not None, "idle connection not closed within 3.5 s (tcp_idle_timeout = 1)"
    assert elapsed >= 0.5, f"closed after {elapsed:.2f}s, before the idle timeout"
    srv.assert_alive()


def test_max_connections(make_server):
    srv = make_server(server_opts={"tcp_max_connections": 4, "tcp_idle_timeout": 30}, start=True)
    qname = rev("127.0.0.2", "bl.example")
    conns = []
    try:
        for i in range(4):
            s = srv.tcp_connect()
            conns.append(s)
            t.tcp_send(s, dns.message.make_query(qname, "A", id=100 + i).to_wire())
            wire = t.tcp_recv(s)
            assert wire is not None, f"connection {i + 1} of 4 got no answer"
        # the 5th is over the cap
        fifth = srv.tcp_connect()
        conns.append(fifth)
        answered = None
        try:
            t.tcp_send(fifth, dns.message.make_query(qname, "A", id=105).to_wire())
            fifth.settimeout(3)
            answered = t.tcp_recv(fifth)
            closed = answered is None
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
            closed = True
        except socket.timeout:
            closed = False
        assert answered is None, "5th connection answered although tcp_max_connections = 4"
        assert closed, "5th connection neither answered nor closed within 3 s"
        # the first four still work
        for i, s in enumerate(conns[:4]):
            t.tcp_send(s, dns.message.make_query(qname, "A", id=200 + i).to_wire())
            wire = t.tcp_recv(s)
            assert wire is not None, f"connection {i + 1} lost after the 5th was refused"
            r = dns.message.from_wire(wire)
            assert r.id == 200 + i and t.a_values(r) == {"127.0.0.2"}
        # UDP is unaffected
        r = srv.ask(qname, "A", "udp")
        assert t.a_values(r) == {"127.0.0.2"}
        # a slot freed by closing one is usable again
        conns[0].close()

        def new_conn_answers():
            try:
                with srv.tcp_connect(timeout=1) as s:
                    t.tcp_send(s, dns.message.make_query(qname, "A", id=300).to_wire())
                    return t.tcp_recv(s) is not None
            except OSError:
                return False
        assert t.wait_for(new_conn_answers, timeout=3, interval=0.2), \
            "no new TCP connection accepted after one of the 4 was closed"
    finally:
        for s in conns:
            s.close()


def test_sigterm_with_open_tcp_connections(make_server):
    srv = make_server(start=True)
    conns = [srv.tcp_connect() for _ in range(3)]
    try:
        conns[1].sendall(b"\x00\x30\x12")  # a half-sent message
        time.sleep(0.2)
        start = time.monotonic()
        rc = srv.stop(timeout=5)
        took = time.monotonic() - start
    finally:
        for s in conns:
            s.close()
    assert rc == 0, f"exit code {rc} after SIGTERM (None: still running after 5 s)\n" \
                    f"{srv.stderr_text()}"
    assert took < 3, f"took {took:.1f}s to stop"
