"""Helpers the benchmark scripts in tests/bench/ share: errors, logging, subprocesses
with a time limit, and what /proc and the file system say about a run."""

import itertools
import os
import pathlib
import subprocess


class Failed(Exception):
    """A bench step went wrong: the script prints it and exits 1."""


def logger(prefix):
    """A log function that prints each message after prefix, at once."""
    def log(msg):
        print(f"{prefix} {msg}", flush=True)
    return log


def run(cmd, timeout, **kw):
    """Runs cmd (its parts made str) with a time limit; Failed unless it exits 0."""
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                       timeout=timeout, **kw)
    if r.returncode != 0:
        raise Failed(f"{' '.join(map(str, cmd))}: exit {r.returncode}\n{r.stderr}{r.stdout}")
    return r


def disk_usage(path):
    """(allocated, apparent) bytes of the files under path, like du and du -b."""
    alloc = apparent = 0
    for root, _, files in os.walk(path):
        for f in files:
            st = os.stat(os.path.join(root, f))
            alloc += st.st_blocks * 512
            apparent += st.st_size
    return alloc, apparent


def proc_cpu(pid):
    """CPU seconds (user + system, all threads) used so far by a running process."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def head_lines(path, n):
    """The first n lines of a file, stripped."""
    with open(path) as f:
        return [line.strip() for line in itertools.islice(f, n)]


def cpu_model(unknown="?"):
    """The CPU's model name from /proc/cpuinfo, or unknown."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return unknown


def thread_affinities(pid):
    """{tid: set of CPUs it may run on} for every thread of a running process (a thread
    that exits meanwhile is left out); OSError when pid is gone."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            out[int(tid)] = os.sched_getaffinity(int(tid))
        except (ProcessLookupError, OSError):
            pass
    return out


def pin_threads(pid, cpus):
    """Sets the CPU affinity of every thread of a running process (each tid in
    /proc/PID/task) to the set cpus, again until no thread is left out (one may start
    while we go through the list); returns how many threads it has. OSError when pid
    is gone."""
    cpus = set(cpus)
    for _ in range(5):
        for tid, now in thread_affinities(pid).items():
            if now != cpus:
                try:
                    os.sched_setaffinity(tid, cpus)
                except ProcessLookupError:
                    pass
        aff = thread_affinities(pid)
        if all(v == cpus for v in aff.values()):
            return len(aff)
    raise OSError(f"cannot pin every thread of {pid} to CPUs {sorted(cpus)}")
