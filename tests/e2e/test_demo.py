"""The demo of `make run` and the README's "Zone types" examples: the zones of
zones/dnsbl.conf are loaded the way scripts/run-demo.sh loads them (on free loopback
ports instead of 5300/8053), and every `dig ... +short` example of that README section
must answer exactly what the README shows, over UDP and TCP."""

import re
import shutil
import subprocess

import pytest

import dnsbltest as t

README = t.REPO / "README.md"
RUN_DEMO = t.REPO / "scripts" / "run-demo.sh"


def demo_imports():
    """(zone, file, format) of each import in scripts/run-demo.sh, in order."""
    script = RUN_DEMO.read_text().replace("\\\n", " ")
    found = re.findall(r"dnsbl-loader -c \"\$conf\" import (\S+) (\S+)\s+--format (\S+)", script)
    assert found, "no imports found in scripts/run-demo.sh"
    return found


def readme_examples():
    """(qname, qtype, expected answers) of each `dig` example in "## Zone types"."""
    text = README.read_text()
    start = text.index("\n## Zone types\n")
    section = text[start:text.index("\n## ", start + 1)]
    examples, current = [], None
    for block in re.findall(r"```\n(.*?)```", section, re.S):
        for line in block.splitlines():
            m = re.match(r"\$ dig @127\.0\.0\.1 -p 5300 (\S+)(?: (A|TXT))? \+short\s*$", line)
            if m:
                current = (m.group(1), m.group(2) or "A", [])
                examples.append(current)
                continue
            assert current is not None, f"README output line without a dig before it: {line!r}"
            answer = line.split("#", 1)[0].strip() if not line.lstrip().startswith('"') \
                else line.strip()
            if answer:
                current[2].append(answer)
    assert len(examples) >= 10, examples
    return examples


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo")
    shutil.copytree(t.DEMO_ZONES, work / "zones")
    conf = work / "zones" / "dnsbl.conf"
    port = t.free_port()
    text = conf.read_text()
    text = re.sub(r"(?m)^db = .*$", f"db = {work / 'db'}", text)
    text = re.sub(r"(?m)^listen = 127\.0\.0\.1:5300.*$", f"listen = 127.0.0.1:{port}", text)
    text = re.sub(r"(?m)^listen = 127\.0\.0\.1:8053$", f"listen = 127.0.0.1:{t.free_port()}", text)
    conf.write_text(text)
    for zone, path, fmt in demo_imports():
        r = subprocess.run([str(t.LOADER), "-c", str(conf), "import", zone, str(work / path),
                            "--format", fmt, "--source", "demo", "--replace"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"import {zone} {path}: {r.returncode}\n{r.stderr}"
    proc = subprocess.Popen([str(t.DNSBLD), "-c", str(conf), "-f"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        t.wait_for(lambda: _answers(port, "2.0.0.127.bl.example", "A", "udp") is not None,
                   timeout=t.START_TIMEOUT)
        yield port
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=t.STOP_TIMEOUT)
        assert proc.returncode == 0, err


def _answers(port, qname, qtype, transport):
    """The +short lines dig would print (A values; TXT as quoted strings), or None
    when there is no answer at all (a timeout)."""
    import dns.message
    import dns.query
    q = dns.message.make_query(qname, qtype)
    q.flags &= ~0x0100
    try:
        send = dns.query.udp if transport == "udp" else dns.query.tcp
        resp = send(q, "127.0.0.1", port=port, timeout=t.TIMEOUT)
    except Exception:
        return None
    out = []
    for rrset in resp.answer:
        for rd in rrset:
            out.append(rd.to_text())
    return out


@pytest.mark.parametrize("transport", t.TRANSPORTS)
def test_readme_zone_type_examples(demo, transport):
    for qname, qtype, want in readme_examples():
        got = _answers(demo, qname, qtype, transport)
        assert got == want, f"{qname} {qtype} over {transport}: got {got}, README says {want}"


def test_readme_examples_with_dig(demo):
    """The same examples through dig itself, as an operator runs them."""
    for qname, qtype, want in readme_examples():
        r = subprocess.run(["dig", "@127.0.0.1", "-p", str(demo), qname, qtype, "+short",
                            "+time=2", "+tries=1"], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == want, f"dig {qname} {qtype}: {r.stdout!r}, want {want}"


@pytest.mark.parametrize("transport", t.TRANSPORTS)
def test_demo_negative_answers(demo, transport):
    """The examples the README shows as NXDOMAIN or NODATA, with their rcode."""
    def rcode(qname):
        import dns.message
        import dns.query
        import dns.rcode
        q = dns.message.make_query(qname, "A")
        send = dns.query.udp if transport == "udp" else dns.query.tcp
        resp = send(q, "127.0.0.1", port=demo, timeout=t.TIMEOUT)
        return dns.rcode.to_text(resp.rcode()), len(resp.answer)

    nib = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.a.b.0.8.b.d.0.1.0.0.2.bl.example"
    assert rcode(nib) == ("NXDOMAIN", 0)                              # excluded IPv6 host
    assert rcode("25.100.51.198.bl.example") == ("NXDOMAIN", 0)       # exempt by wl.example
    assert rcode("phish.example.dbl.example") == ("NOERROR", 0)       # *.phish.example: ENT
    assert rcode("clean.malware.example.dbl.example") == ("NOERROR", 0)  # excluded, names below
    assert rcode("www.spam-domain.example.dbl.example") == ("NXDOMAIN", 0)
    assert rcode("invalid.dbl.example") == ("NXDOMAIN", 0)
    assert rcode("1.0.16.172.zen.example") == ("NXDOMAIN", 0)         # excluded in pbl
    assert rcode("0.16.172.zen.example") == ("NOERROR", 0)            # pbl has 172.16/12 below
