"""NSD and Knot as secondaries of dnsbld (or as primaries of a master file) for the
end-to-end tests.

Each server runs unprivileged-style in the foreground, in a temp directory of its own,
on a loopback high port; nothing is installed or started as a system service. A
server is its own process group, so stop() can always take its children with it.

    with Fleet() as fleet:
        nsd = fleet.add(Nsd(tmp / "nsd", ["ip.test"], primary=("127.0.0.1", port)))
        nsd.start()
        nsd.wait_serial("ip.test", 42)

Fleet (a context manager) stops everything it was given, whatever happens.
"""

import collections
import os
import pathlib
import re
import signal
import socket
import subprocess
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

import dnsbltest as t

NSD = "/usr/sbin/nsd"
NSD_CONTROL = "/usr/sbin/nsd-control"
NSD_CHECKZONE = "/usr/sbin/nsd-checkzone"
KNOTD = "/usr/sbin/knotd"
KNOTC = "/usr/sbin/knotc"

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
QUERY_TIMEOUT = 2.0

TsigKey = collections.namedtuple("TsigKey", "name algorithm secret_b64")


class Secondary:
    """What NSD and Knot share: the process, queries, serials, the log."""

    kind = "?"

    def __init__(self, workdir, zones, primary=None, zonefile=None, tsig=None,
                 notify_from=None):
        """zones: the zone names (without the trailing dot). primary: (host, port) of
        dnsbld to transfer from; zonefile: {zone: path} (or one path for one zone)
        of master files to serve instead. tsig: a TsigKey for the transfers.
        notify_from: the address NOTIFY may come from (None: the primary's host)."""
        assert (primary is None) != (zonefile is None), "either primary or zonefile"
        self.dir = pathlib.Path(workdir).resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.zones = [z.rstrip(".") for z in zones]
        self.primary = primary
        if zonefile is not None and not isinstance(zonefile, dict):
            assert len(self.zones) == 1, "one zonefile for several zones"
            zonefile = {self.zones[0]: zonefile}
        self.zonefile = zonefile
        self.tsig = tsig
        self.notify_from = notify_from or (primary[0] if primary else None)
        self.host = "127.0.0.1"
        self.port = t.free_port()
        self.log = self.dir / f"{self.kind}.log"
        self.out = self.dir / f"{self.kind}.stdout"
        self.proc = None
        self._outf = None

    # ---- process
    def command(self):
        raise NotImplementedError

    def write_config(self):
        raise NotImplementedError

    def start(self):
        assert self.proc is None
        self.write_config()
        self._outf = open(self.out, "ab")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=self._outf, stderr=self._outf, cwd=self.dir,
                                     start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.kind} exited with {self.proc.returncode} at "
                                     f"start-up\n{self.output()}")
            if self.answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"{self.kind} did not answer within {START_TIMEOUT}s\n"
                             f"{self.output()}")

    def answers(self):
        try:
            q = dns.message.make_query("version.server", "TXT", "CH")
            dns.query.udp(q, self.host, port=self.port, timeout=0.2)
            return True
        except (OSError, dns.exception.DNSException):
            return False

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM to the process group, SIGKILL to it after STOP_TIMEOUT; returns
        the exit code (None when it had to be killed). No process is left behind."""
        if self.proc is None:
            return None
        rc = None
        pgid = self.proc.pid  # start_new_session: its own group
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            rc = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            rc = None
        # children (NSD's xfrd and servers) may outlive the main process
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and _group_alive(pgid):
            time.sleep(0.05)
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait()
        self.proc = None
        self._outf.close()
        return rc

    def restart(self):
        self.stop()
        return self.start()

    def output(self):
        text = ""
        for p in (self.out, self.log):
            try:
                text += f"--- {p}\n" + p.read_text(errors="replace")
            except FileNotFoundError:
                pass
        return text

    # ---- log
    def log_mark(self):
        """A mark for log_since: the log's current size."""
        try:
            return self.log.stat().st_size
        except FileNotFoundError:
            return 0

    def log_since(self, mark=0):
        try:
            with open(self.log, "rb") as f:
                f.seek(mark)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    # ---- queries
    def query(self, name, rdtype="A", timeout=QUERY_TIMEOUT):
        """The answer to name/rdtype (UDP, TCP when truncated)."""
        return ask(self.host, self.port, name, rdtype, timeout)

    def serial(self, zone):
        """The zone's SOA serial, None while it serves no such zone."""
        try:
            r = self.query(zone, "SOA", timeout=0.5)
        except (OSError, dns.exception.DNSException):
            return None
        if r.rcode() != dns.rcode.NOERROR:
            return None
        for rs in r.answer:
            if rs.rdtype == dns.rdatatype.SOA:
                return rs[0].serial
        return None

    def wait_serial(self, zone, serial, timeout=10.0):
        """Waits until the zone's serial is serial; returns the last serial seen."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.serial(zone)
            if s == serial or time.monotonic() >= deadline:
                return s
            time.sleep(0.05)

    def refresh(self, zone):
        """Makes the server check the primary's SOA now (and transfer if newer)."""
        raise NotImplementedError

    def retransfer(self, zone):
        """Makes the server transfer the whole zone now, whatever the serial."""
        raise NotImplementedError


_local = threading.local()


def ask(host, port, name, rdtype="A", timeout=QUERY_TIMEOUT):
    """The answer of host:port to name/rdtype over UDP (TCP when truncated), from one
    UDP socket per thread: thousands of questions cost no socket each."""
    sock = getattr(_local, "sock", None)
    if sock is None:
        sock = _local.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    q = dns.message.make_query(name, rdtype)
    r = dns.query.udp(q, host, port=port, timeout=timeout, sock=sock, ignore_unexpected=True)
    if r.flags & dns.flags.TC:
        r = dns.query.tcp(q, host, port=port, timeout=timeout)
    return r


def xfr_lines(host, port, zone, qtype="AXFR", timeout=60):
    """The records of a transfer from host:port (qtype "AXFR", or "IXFR=SERIAL"), in the
    order sent, as dig prints them (one line each, blanks squeezed): dig's C parser
    reads 35k records in well under a second, and prints the same record the same way
    whoever sent it."""
    r = subprocess.run(["dig", "+tcp", "+nocmd", "+nostats", "+noall", "+answer",
                        "+nocomments", "-p", str(port), f"@{host}", zone, qtype],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"dig {qtype} {zone} @{host}:{port}: {r.returncode}\n{r.stderr}"
    assert "Transfer failed" not in r.stdout, f"dig {qtype} {zone} @{host}:{port}: {r.stdout}"
    return [" ".join(ln.split()) for ln in r.stdout.splitlines() if ln and ln[0] != ";"]


def zone_lines(host, port, zone, timeout=60):
    """Every record of zone as host:port sends it by AXFR (xfr_lines), sorted, the
    closing SOA left out."""
    lines = xfr_lines(host, port, zone, "AXFR", timeout)
    assert lines and " SOA " in lines[0] and lines[0] == lines[-1], (zone, lines[:3], lines[-3:])
    return sorted(lines[:-1])


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _run(args, timeout=10):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


# --------------------------------------------------------------------------------------

class Nsd(Secondary):
    kind = "nsd"

    def command(self):
        return [NSD, "-d", "-c", str(self.conf)]

    @property
    def conf(self):
        return self.dir / "nsd.conf"

    @property
    def control_socket(self):
        return self.dir / "control.sock"

    def zone_path(self, zone):
        if self.zonefile is not None:
            return pathlib.Path(self.zonefile[zone]).resolve()
        return self.dir / f"{zone}.zone"

    def write_config(self):
        d = self.dir
        keyname = self.tsig.name if self.tsig else "NOKEY"
        lines = [
            "server:",
            f"  ip-address: {self.host}@{self.port}",
            f"  port: {self.port}",
            '  username: ""',
            '  chroot: ""',
            '  database: ""',
            f'  zonesdir: "{d}"',
            f'  pidfile: "{d}/nsd.pid"',
            f'  xfrdfile: "{d}/xfrd.state"',
            f'  zonelistfile: "{d}/zone.list"',
            f'  xfrdir: "{d}"',
            f'  logfile: "{self.log}"',
            "  verbosity: 2",
            "  server-count: 1",
            "  rrl-ratelimit: 0",
            "  xfrd-reload-timeout: 0",  # serve a transfer at once, not batched a second
            "  zonefiles-write: 0",
            "  hide-version: no",
            "remote-control:",
            "  control-enable: yes",
            f"  control-interface: {self.control_socket}",
        ]
        if self.tsig:
            lines += ["key:", f"  name: {self.tsig.name}",
                      f"  algorithm: {self.tsig.algorithm}",
                      f'  secret: "{self.tsig.secret_b64}"']
        for zone in self.zones:
            lines += ["zone:", f"  name: {zone}", f'  zonefile: "{self.zone_path(zone)}"',
                      f"  provide-xfr: 127.0.0.0/8 {keyname}"]
            if self.primary:
                host, port = self.primary
                lines.append(f"  request-xfr: {host}@{port} {keyname}")
                lines.append(f"  allow-notify: {self.notify_from} {keyname}")
        self.conf.write_text("\n".join(lines) + "\n")

    def control(self, *args):
        r = _run([NSD_CONTROL, "-c", str(self.conf), *args])
        assert r.returncode == 0, f"nsd-control {' '.join(args)}: {r.returncode}\n{r.stdout}{r.stderr}"
        return r.stdout

    def refresh(self, zone):
        self.control("transfer", zone)

    def retransfer(self, zone):
        self.control("force_transfer", zone)


# --------------------------------------------------------------------------------------

# "[ip.test.] AXFR, incoming, remote 127.0.0.1@5300, finished, 0.01 seconds, ..."
# "[dom.test.] IXFR, incoming, remote 127.0.0.1@5300, receiving AXFR-style IXFR"
KNOT_XFR_LINE = re.compile(r"\[([^\]]+)\.\] (AXFR|IXFR), incoming, remote [^,]+, "
                           r"(receiving AXFR-style IXFR|finished)")

# One incoming transfer Knot finished: kind is what it asked ("AXFR" or "IXFR"),
# axfr_style whether an IXFR was answered with the whole zone.
Transfer = collections.namedtuple("Transfer", "zone kind axfr_style")


class Knot(Secondary):
    kind = "knot"

    def command(self):
        return [KNOTD, "-c", str(self.conf)]

    @property
    def conf(self):
        return self.dir / "knot.conf"

    @property
    def control_socket(self):
        return self.dir / "knot.sock"

    def write_config(self):
        d = self.dir
        (d / "zones").mkdir(exist_ok=True)
        lines = [
            "server:",
            f"  rundir: {d}",
            f"  listen: {self.host}@{self.port}",
            f"  pidfile: {d}/knot.pid",
            "  identity: knot",
            "control:",
            f"  listen: {self.control_socket}",
            "log:",
            f"  - target: {self.log}",
            "    any: info",
            "database:",
            f"  storage: {d}/db",
        ]
        if self.tsig:
            lines += ["key:", f"  - id: {self.tsig.name}",
                      f"    algorithm: {self.tsig.algorithm}",
                      f"    secret: {self.tsig.secret_b64}"]
        key = [f"    key: {self.tsig.name}"] if self.tsig else []
        if self.primary:
            host, port = self.primary
            lines += ["remote:", "  - id: primary", f"    address: {host}@{port}"] + key
            lines += ["acl:", "  - id: notify_from", f"    address: {self.notify_from}",
                      "    action: notify"] + key
            # and its copy may be pulled by the tests (zone_lines)
            lines += ["  - id: transfer_to", "    address: 127.0.0.0/8", "    action: transfer"]
        else:
            lines += ["acl:", "  - id: transfer_to", "    address: 127.0.0.0/8",
                      "    action: transfer"] + key
        lines += ["template:", "  - id: default", f"    storage: {d}/zones",
                  "    zonefile-sync: -1", "    journal-content: none",
                  "    semantic-checks: off"]
        lines.append("zone:")
        for zone in self.zones:
            lines.append(f"  - domain: {zone}")
            if self.primary:
                lines += ["    master: primary", "    acl: [notify_from, transfer_to]",
                          "    zonefile-load: none"]
            else:
                lines += [f"    file: {pathlib.Path(self.zonefile[zone]).resolve()}",
                          "    acl: transfer_to"]
        self.conf.write_text("\n".join(lines) + "\n")

    def control(self, *args):
        r = _run([KNOTC, "-s", str(self.control_socket), *args])
        assert r.returncode == 0, f"knotc {' '.join(args)}: {r.returncode}\n{r.stdout}{r.stderr}"
        return r.stdout

    def refresh(self, zone):
        self.control("zone-refresh", zone)

    def retransfer(self, zone):
        self.control("zone-retransfer", zone)

    def transfers(self, since=0):
        """The incoming transfers Knot's log shows from mark since, oldest first:
        [Transfer(zone, "AXFR"|"IXFR", axfr_style)]."""
        out, asked_ixfr = [], set()
        for line in self.log_since(since).splitlines():
            m = KNOT_XFR_LINE.search(line)
            if not m:
                continue
            zone, kind, what = m.groups()
            if what.startswith("receiving"):
                asked_ixfr.add(zone)
            elif zone in asked_ixfr:
                asked_ixfr.discard(zone)
                out.append(Transfer(zone, "IXFR", kind == "AXFR"))
            else:
                out.append(Transfer(zone, kind, False))
        return out


def knot_zone_check(workdir, zone, path):
    """`knotc -c CONF zone-check ZONE` over master file path with a minimal config;
    returns the CompletedProcess (Debian's knot 3.2 has no kzonecheck)."""
    d = pathlib.Path(workdir).resolve()
    d.mkdir(parents=True, exist_ok=True)
    conf = d / "check.conf"
    conf.write_text("\n".join([
        "server:", f"  rundir: {d}", "database:", f"  storage: {d}/db",
        "zone:", f"  - domain: {zone}", f"    file: {pathlib.Path(path).resolve()}", ""]))
    return _run([KNOTC, "-c", str(conf), "zone-check", zone], timeout=60)


def nsd_checkzone(zone, path):
    """`nsd-checkzone ZONE FILE`; returns the CompletedProcess."""
    return _run([NSD_CHECKZONE, zone, str(path)], timeout=60)


# --------------------------------------------------------------------------------------

class Fleet:
    """Stops every server added to it on exit (also when a test fails)."""

    def __init__(self):
        self.servers = []

    def add(self, srv):
        self.servers.append(srv)
        return srv

    def stop_all(self):
        for srv in reversed(self.servers):
            srv.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()
        return False
