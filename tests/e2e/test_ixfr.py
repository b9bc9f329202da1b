"""IXFR (RFC 1995) from dnsbld's journal, kept current by dnsbld's NOTIFY: NSD 4.6 and
Knot 3.2 secondaries of the map data set (mapdata.py), told of every change by dnsbld
itself. Each kind of write (an API listing, an API delisting, a loader import into the
exemption list, `import --replace`, an entry expiring and `dnsbl-loader expire`) must
reach both within 2 s as an incremental transfer (Knot's log: an IXFR that is not
AXFR-style; dnsbld's: the difference it sent), after which each secondary's copy is
record for record dnsbld's AXFR. A commit larger than the journal, and a name zone,
fall back to the whole zone, as README says.
"""

import subprocess
import time

import dns.rcode
import pytest

import apitest
import dnsbltest as t
import mapdata
import secondaries as sec

IP_ZONES = ["ip.test", "wl.test", "two.test", "zen.test"]
NAME_ZONES = ["dom.test", "dwl.test"]
ZONES = IP_ZONES + NAME_ZONES
REACH_S = 2.0  # the bound from a write's commit to both secondaries serving it
SEED = 1995


class World:
    def __init__(self, tmp, fleet):
        self.data = mapdata.DataSet(SEED)
        self.dnsbl = fleet.add(t.Dnsbl(tmp / "dnsbld", zones=self.data.basic_zones()))
        primary = (self.dnsbl.host, self.dnsbl.port)
        self.nsd = fleet.add(sec.Nsd(tmp / "nsd", ZONES, primary=primary))
        self.knot = fleet.add(sec.Knot(tmp / "knot", ZONES, primary=primary))
        self.api_port = t.free_port()
        opts = {"threads": 2, "allow_transfer": "127.0.0.1/32",
                "notify": f"127.0.0.1:{self.nsd.port} 127.0.0.1:{self.knot.port}"}
        self.base_config = (t.config_text("db", self.dnsbl.listen, {}, opts)
                            + self.data.config_extra())
        self.dnsbl.config.write_text(self.base_config + apitest.api_config(self.api_port))
        self.data.load(self.dnsbl)
        self.dnsbl.start()
        self.api = None
        self.api = apitest.start_api(self.dnsbl, self.api_port)
        self.writer = self.api.client("writer")
        self.nsd.start()
        self.knot.start()
        for s in (self.nsd, self.knot):
            for zone in ZONES:
                want = self.serial(zone)
                got = s.wait_serial(zone, want, 20)
                assert got == want, f"{s.kind} {zone}: {got}, dnsbld {want}\n{s.output()[-3000:]}"
        self.latencies = []

    def serial(self, zone):
        return t.soa_serial(self.dnsbl, zone)

    def serials(self):
        return {z: self.serial(z) for z in ZONES}

    def identical(self, zones):
        """Each secondary's copy of each zone is dnsbld's AXFR, record for record."""
        for zone in zones:
            ours = sec.zone_lines(self.dnsbl.host, self.dnsbl.port, zone)
            for s in (self.nsd, self.knot):
                theirs = sec.zone_lines(s.host, s.port, zone)
                if theirs != ours:
                    only_ours = sorted(set(ours) - set(theirs))[:10]
                    only_theirs = sorted(set(theirs) - set(ours))[:10]
                    raise AssertionError(f"{s.kind} {zone}: {len(theirs)} records, dnsbld "
                                         f"{len(ours)}; only dnsbld's: {only_ours}; only "
                                         f"{s.kind}'s: {only_theirs}")

    def change(self, action, changed, incremental=True):
        """Runs action (a write), then checks that exactly the zones in changed got a
        new serial, that both secondaries serve it within REACH_S of the write's end
        with nobody asking them to refresh (dnsbld's NOTIFY), how it came (IXFR, or
        the whole zone when not incremental, and always for name zones) and that the
        copies are dnsbld's. Returns dnsbld's log lines written meanwhile."""
        before = self.serials()
        knot_mark = self.knot.log_mark()
        log_mark = len(self.dnsbl.stderr_text())
        action()
        t0 = time.monotonic()
        after = self.serials()
        assert {z for z in ZONES if after[z] != before[z]} == set(changed), (before, after)
        for s in (self.nsd, self.knot):
            for zone in changed:
                left = REACH_S - (time.monotonic() - t0)
                got = s.wait_serial(zone, after[zone], max(left, 0.0))
                assert got == after[zone], (
                    f"{s.kind} {zone}: serial {got} {REACH_S} s after the write, dnsbld "
                    f"{after[zone]}\n{s.log_since(0)[-3000:]}\n{self.dnsbl.stderr_text()[-3000:]}")
        self.latencies.append(time.monotonic() - t0)
        # Knot has logged the transfers it finished
        assert t.wait_for(lambda: {x.zone for x in self.knot.transfers(knot_mark)} >= set(changed),
                          timeout=2.0), self.knot.log_since(knot_mark)
        seen = {}
        for x in self.knot.transfers(knot_mark):
            seen.setdefault(x.zone, set()).add((x.kind, x.axfr_style))
        want = {z: {("IXFR", not incremental or z in NAME_ZONES)} for z in changed}
        assert seen == want, self.knot.log_since(knot_mark)
        log = self.dnsbl.stderr_text()[log_mark:]
        for zone in changed:
            if incremental and zone not in NAME_ZONES:
                # one difference for each secondary
                sent = log.count(f"IXFR of {zone} from serial {before[zone]} to {after[zone]} ")
                assert sent >= 2, log
            else:
                assert f"IXFR of {zone} from serial {before[zone]} to 127.0.0.1" in log, log
        self.identical(changed)
        return log

    def both(self, name, rdtype="A"):
        """(NSD's, Knot's, dnsbld's) (rcode, sorted values) of name."""
        out = []
        for host, port in ((self.nsd.host, self.nsd.port), (self.knot.host, self.knot.port),
                           (self.dnsbl.host, self.dnsbl.port)):
            r = sec.ask(host, port, name, rdtype)
            out.append((dns.rcode.to_text(r.rcode()),
                        sorted(rd.to_text() for rs in r.answer for rd in rs)))
        return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with sec.Fleet() as fleet:
        w = World(tmp_path_factory.mktemp("ixfr"), fleet)
        try:
            yield w
        finally:
            lat = sorted(w.latencies)
            if lat:
                print(f"\nwrite to both secondaries: {len(lat)} changes, median "
                      f"{lat[len(lat) // 2] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
            problem = w.api.stop() if w.api else None
            rc = w.dnsbl.stop()
            assert problem is None, problem
            assert rc == 0, f"dnsbld exit {rc}\n{w.dnsbl.stderr_text()}"


def test_bootstrap_copies_identical(world):
    world.identical(ZONES)


def test_api_listing_reaches_by_ixfr(world):
    path = apitest.entry_path("ip.test", "10.201.0.0/16")

    def put():
        apitest.expect(world.writer.put(path, {"code": "127.0.0.21", "txt": "By API"}), 201)
    world.change(put, ["ip.test", "zen.test"])
    nsd, knot, ours = world.both("7.7.201.10.ip.test")
    assert nsd == knot == ours == ("NOERROR", ["127.0.0.21"]), (nsd, knot, ours)
    nsd, knot, ours = world.both("7.7.201.10.ip.test", "TXT")
    assert nsd == knot == ours == ("NOERROR", ['"By API"']), (nsd, knot, ours)


def test_api_delisting_reaches_by_ixfr(world):
    path = apitest.entry_path("ip.test", "10.202.3.4")
    world.change(lambda: apitest.expect(world.writer.put(path, {"code": "127.0.0.22"}), 201),
                 ["ip.test", "zen.test"])
    assert world.both("4.3.202.10.ip.test") == [("NOERROR", ["127.0.0.22"])] * 3

    def delete():
        apitest.expect(world.writer.delete(path, {"reason": "removal request"}), 204)
    world.change(delete, ["ip.test", "zen.test"])
    nsd, knot, ours = world.both("4.3.202.10.ip.test")
    assert nsd == knot == ours and ours[0] == "NXDOMAIN", (nsd, knot, ours)


def test_loader_import_into_exemption_list(world):
    """wl.test exempts ip.test's entries: an import into it changes ip.test's answers
    (and serial), zen.test's (ip.test is its member) and its own."""
    def load():
        world.dnsbl.load("wl.test", "10.201.5.0/24\n10.201.6.6\n", fmt="rbldnsd",
                         source="exempt-feed")
    world.change(load, ["wl.test", "ip.test", "zen.test"])
    nsd, knot, ours = world.both("1.5.201.10.ip.test")
    assert nsd == knot == ours and ours[0] == "NXDOMAIN", (nsd, knot, ours)
    nsd, knot, ours = world.both("1.7.201.10.ip.test")
    assert nsd == knot == ours == ("NOERROR", ["127.0.0.21"]), (nsd, knot, ours)


def test_replace_import(world):
    """`import --replace` of a source: what the new file lacks is removed, in the same
    commit as what it adds."""
    world.change(lambda: world.dnsbl.load("ip.test", "10.203.0.0/16\n10.204.1.0/24\n",
                                          fmt="rbldnsd", source="repl"), ["ip.test", "zen.test"])
    world.change(lambda: world.dnsbl.load("ip.test", "10.204.1.0/24\n10.205.0.0/20\n",
                                          fmt="rbldnsd", source="repl", replace=True),
                 ["ip.test", "zen.test"])
    for name, rcode in (("1.1.203.10.ip.test", "NXDOMAIN"), ("1.1.204.10.ip.test", "NOERROR"),
                        ("1.1.205.10.ip.test", "NOERROR"), ("1.1.205.10.zen.test", "NOERROR")):
        nsd, knot, ours = world.both(name)
        assert nsd == knot == ours and ours[0] == rcode, (name, nsd, knot, ours)


def test_expiry_sweep_reaches_secondaries(world):
    """An entry that expires changes nothing in the store until `dnsbl-loader expire`
    deletes it: that sweep is the commit that reaches the secondaries."""
    path = apitest.entry_path("ip.test", "10.206.0.0/24")
    world.change(lambda: apitest.expect(world.writer.put(path, {"ttl": 2}), 201),
                 ["ip.test", "zen.test"])
    assert world.both("5.0.206.10.ip.test")[0][0] == "NOERROR"
    time.sleep(2.5)
    assert world.both("5.0.206.10.ip.test")[2][0] == "NXDOMAIN"  # dnsbld: expired
    world.change(lambda: t.loader_ok(world.dnsbl, "expire"), ["ip.test", "zen.test"])
    nsd, knot, ours = world.both("5.0.206.10.ip.test")
    assert nsd == knot == ours and ours[0] == "NXDOMAIN", (nsd, knot, ours)


def soa_serial_of(line):
    return int(line.split()[6])


def test_several_commits_in_one_difference(world):
    """Six commits since a serial: an IXFR from it is one condensed difference (RFC 1995
    4: SOA new, SOA old, what went, SOA new, what came, SOA new), and applied to the
    zone at that serial it gives the zone now."""
    apitest.expect(world.writer.put(apitest.entry_path("ip.test", "10.207.9.0/24"),
                                    {"code": "127.0.0.29"}), 201)
    before = world.serial("ip.test")
    old = set(sec.zone_lines(world.dnsbl.host, world.dnsbl.port, "ip.test"))
    log_mark = len(world.dnsbl.stderr_text())
    for i in range(4):
        apitest.expect(world.writer.put(apitest.entry_path("ip.test", f"10.207.{i}.0/24"),
                                        {"code": f"127.0.0.{30 + i}"}), 201)
    apitest.expect(world.writer.put(apitest.entry_path("ip.test", "10.207.0.0/24"),
                                    {"code": "127.0.0.40"}), 200)
    apitest.expect(world.writer.put(apitest.entry_path("ip.test", "10.207.9.0/24"),
                                    {"code": "127.0.0.41"}), 200)
    now = world.serial("ip.test")
    assert now == before + 6
    new = set(sec.zone_lines(world.dnsbl.host, world.dnsbl.port, "ip.test"))
    lines = sec.xfr_lines(world.dnsbl.host, world.dnsbl.port, "ip.test", f"IXFR={before}")
    soas = [i for i, ln in enumerate(lines) if " SOA " in ln]
    assert len(soas) == 4 and soas[0] == 0 and soas[1] == 1 and soas[3] == len(lines) - 1, soas
    assert [soa_serial_of(lines[i]) for i in soas] == [now, before, now, now]
    went, came = lines[2:soas[2]], lines[soas[2] + 1:-1]
    assert went and came
    assert set(went) <= old and not set(went) & new, "a deletion of a record not held"
    assert set(came) <= new and not set(came) & old, "an addition of a record held"
    old_soa = next(ln for ln in old if " SOA " in ln)
    new_soa = next(ln for ln in new if " SOA " in ln)
    applied = (old - set(went) - {old_soa}) | set(came) | {new_soa}
    assert applied == new, (sorted(applied - new)[:5], sorted(new - applied)[:5])
    log = world.dnsbl.stderr_text()[log_mark:]
    assert (f"IXFR of ip.test from serial {before} to {now} to 127.0.0.1: {len(went)} "
            f"records deleted, {len(came)} added (6 commits,") in log, log
    # and the secondaries, told after each commit, hold it too
    for s in (world.nsd, world.knot):
        assert s.wait_serial("ip.test", now, REACH_S) == now
    world.identical(["ip.test"])


def test_name_zone_sent_whole(world):
    def load():
        world.dnsbl.load("dom.test", "*.ixfr.example :127.0.1.40:Wild\n!.no.ixfr.example\n",
                         fmt="rbldnsd", source="ixfr")
    log = world.change(load, ["dom.test"])
    assert "name zones are sent whole" in log, log
    nsd, knot, ours = world.both("a.ixfr.example.dom.test")
    assert nsd == knot == ours == ("NOERROR", ["127.0.1.40"]), (nsd, knot, ours)


def test_journal_overflow_falls_back_to_axfr(world, tmp_path):
    """A loader run with a journal smaller than its commit writes an overflow record:
    no IXFR crosses it, the secondaries get the whole zone; the journal works again
    for the next change."""
    small = world.dnsbl.dir / "small-journal.conf"
    small.write_text(world.base_config.replace("[server]\n", "[server]\njournal_size = 5\n", 1))
    feed = tmp_path / "big.txt"
    feed.write_text("".join(f"10.208.{i}.0/24\n" for i in range(20)))

    def load():
        r = subprocess.run([str(t.LOADER), "-c", str(small), *world.dnsbl.import_args(
            "ip.test", feed, fmt="rbldnsd", source="big")], capture_output=True, text=True,
            cwd=world.dnsbl.cwd, timeout=60)
        assert r.returncode == 0, r.stderr
    log = world.change(load, ["ip.test", "zen.test"], incremental=False)
    assert "the journal does not reach back to it" in log, log
    world.change(lambda: apitest.expect(world.writer.put(
        apitest.entry_path("ip.test", "10.209.0.0/16"), {}), 201), ["ip.test", "zen.test"])
    nsd, knot, ours = world.both("1.1.208.10.ip.test")
    assert nsd == knot == ours and ours[0] == "NOERROR", (nsd, knot, ours)
