"""An import killed with SIGKILL at any point leaves the zone exactly as it was (same
csv export, same serial), and dnsbld answers from the previous data throughout."""

import subprocess
import threading
import time

import dns.exception

import dnsbltest as t
from dnsbltest import rev

BL = "bl.example"
# large enough that the import runs for a second or more (it reads the file in about
# a tenth of that, then sorts, writes and commits)
N_LINES = 1_100_000
KILL_AFTER = (0.05, 0.2, 0.5)


def _ip(i):
    return f"10.{100 + i // 65536}.{(i // 256) % 256}.{i % 256}"


def _lines(n):
    """_ip(0) .. _ip(n - 1), one a line (built per /24: fast enough for 1M lines)."""
    last = [f"{d}\n" for d in range(256)]
    parts = []
    for block in range((n + 255) // 256):
        prefix = _ip(block * 256)[:-1]  # "10.x.y."
        parts.append("".join(prefix + s for s in last[:min(256, n - block * 256)]))
    return "".join(parts)


def _proc_state(pid):
    """(state letter, utime + stime) of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return fields[0], int(fields[11]) + int(fields[12])


def _wait_read(p, nbytes, timeout=60.0):
    """Waits until p has read nbytes (its whole input file); True if it is still
    running then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and p.poll() is None:
        with open(f"/proc/{p.pid}/io") as f:
            rchar = int(next(ln for ln in f if ln.startswith("rchar:")).split()[1])
        if rchar >= nbytes:
            return p.poll() is None
        time.sleep(0.005)
    return False


def _wait_blocked(p, timeout=60.0):
    """Waits until p sleeps without using CPU for 0.2 s (blocked reading its stdin)."""
    deadline = time.monotonic() + timeout
    last, quiet = None, 0
    while time.monotonic() < deadline and p.poll() is None:
        state, cpu = _proc_state(p.pid)
        quiet = quiet + 1 if state == "S" and cpu == last else 0
        if quiet >= 10:
            return True
        last = cpu
        time.sleep(0.02)
    return False


class _Hammer:
    """Queries a listed address in a loop (UDP and TCP in turn) until stopped."""

    def __init__(self, srv):
        self.srv = srv
        self.ok = 0
        self.bad = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        qname = rev("192.0.2.2", BL)
        n = 0
        while not self.stop.is_set():
            transport = t.TRANSPORTS[n % 2]
            n += 1
            try:
                r = self.srv.ask(qname, "A", transport, timeout=1.0)
                if t.a_values(r) == {"127.0.0.3"}:
                    self.ok += 1
                else:
                    self.bad.append(r.to_text())
            except (dns.exception.DNSException, OSError) as e:
                self.bad.append(f"{transport}: {e!r}")
            time.sleep(0.002)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def _state(srv):
    return (t.export_text(srv, BL, "csv"), t.stat(srv, BL, "serial"), t.soa_serial(srv, BL))


def test_sigkill_during_import_leaves_zone_unchanged(make_server):
    srv = make_server(standard=True, start=True)
    srv.load(BL, "ip,reason,code\n192.0.2.150,before the kills,5\n", fmt="csv", source="bulk")
    path = srv.data_file(_lines(N_LINES), "bulk.txt")
    before = _state(srv)
    kills = []
    with _Hammer(srv) as hammer:
        for delay in KILL_AFTER:
            p = subprocess.Popen([str(t.LOADER), "-c", str(srv.config), "import", BL, str(path),
                                  "--source", "bulk", "--replace"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=srv.cwd)
            time.sleep(delay)
            running = p.poll() is None
            p.kill()
            p.wait()
            err = p.stderr.read().decode(errors="replace")
            p.stderr.close()
            assert running, (f"the import of {N_LINES} lines finished within {delay}s, "
                             f"before SIGKILL (exit {p.returncode}): make the file larger\n{err}")
            kills.append(delay)
            assert _state(srv) == before, f"zone changed by an import killed after {delay}s"
            assert not t.listed(srv, _ip(0)) and not t.listed(srv, _ip(N_LINES - 1))
            assert t.listed(srv, "192.0.2.150")

        # killed with the whole input read: writing the last batch, removing what
        # --replace drops, or committing
        p = subprocess.Popen([str(t.LOADER), "-c", str(srv.config), "import", BL, str(path),
                              "--source", "bulk", "--replace"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=srv.cwd)
        assert _wait_read(p, path.stat().st_size), "the import ended before the kill"
        time.sleep(0.05)
        assert p.poll() is None, "the import ended before the kill"
        p.kill()
        p.wait()
        assert _state(srv) == before, "zone changed by an import killed after reading its input"

        # killed while waiting for more input (stdin stays open, so the import cannot
        # reach its commit), after 100k entries with 1000-byte texts: more than the
        # loader buffers, so some of them are already written into the open transaction
        p = subprocess.Popen([str(t.LOADER), "-c", str(srv.config), "import", BL, "-",
                              "--format", "rbldnsd", "--source", "bulk", "--replace"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=srv.cwd)
        p.stdin.write(t.gzip_bytes(f":127.0.0.5:{'x' * 1000}\n" + _lines(100_000)))
        p.stdin.flush()
        assert _wait_blocked(p), "the loader did not wait for more input"
        p.kill()
        p.wait()
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
        assert _state(srv) == before, "zone changed by an import killed before its end of input"

        # the store is still writable: a full import commits once
        r = srv.loader("import", BL, path, "--source", "bulk", "--replace", timeout=120)
        assert r.returncode == 0, r.stderr
        time.sleep(0.1)
    assert not hammer.bad, f"{len(hammer.bad)} bad answers during the kills: {hammer.bad[:3]}"
    assert hammer.ok > 0
    assert t.stat(srv, BL, "serial") == before[1] + 1, "a committed import is one transaction"
    for i in (0, N_LINES // 2, N_LINES - 1):
        assert t.wait_for(lambda: t.listed(srv, _ip(i)), 1.0), _ip(i)
    assert not t.listed(srv, _ip(N_LINES))
    assert not t.listed(srv, "192.0.2.150"), "--replace kept an entry of the source"
    assert t.listed(srv, "192.0.2.1"), "--replace --source bulk removed a 'default' entry"
    _, sources = t.loader_stats(srv, BL)
    assert sources.get("bulk") == N_LINES, sources
