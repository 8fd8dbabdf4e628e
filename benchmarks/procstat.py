"""CPU and memory of a runtime's processes, read from /proc (Linux)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def session_processes(session: int) -> list[tuple[int, str]]:
    """(pid, command name) of every process in the session `session`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == session:
            found.append((int(entry.name), comm))
    return found


def workerd_cpu_ns(session: int) -> int:
    """CPU time (ns) of every thread of the session's workerd processes, from schedstat:
    exact for a thread that is not running, where /proc's stat counts 10 ms ticks."""
    total = 0
    for pid, comm in session_processes(session):
        if "workerd" not in comm:
            continue
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for thread in threads:
            try:
                total += int(Path(f"/proc/{pid}/task/{thread}/schedstat").read_text().split()[0])
            except OSError:
                continue
    return total


def peak_memory_mib(session: int) -> dict[str, float]:
    """Peak resident memory of each process of the session, by command name."""
    peaks: dict[str, float] = {}
    for pid, comm in session_processes(session):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[comm] = max(peaks.get(comm, 0.0), int(line.split()[1]) / 1024)
    return peaks


def settled_cpu_ns(session: int) -> int:
    """workerd_cpu_ns once it stops moving: what workerd does after an answer is sent
    (ending the request, a stream's last chunk) is counted with the request that
    caused it, not with whichever request comes next."""
    last = workerd_cpu_ns(session)
    for _ in range(SETTLE_POLLS):
        time.sleep(SETTLE_SECONDS)
        now = workerd_cpu_ns(session)
        if now == last:
            break
        last = now
    return last


SETTLE_SECONDS = 0.001
SETTLE_POLLS = 50


def cpu_ms_per_request(
    calls: Mapping[str, tuple[int, Callable[[], object]]], count: int, *, block: int = 10
) -> dict[str, list[float]]:
    """workerd CPU (ms) of each of `count` requests per kind, `calls` being each kind's
    (session, one request). The kinds take turns `block` requests at a time, so the
    machine's drift touches every kind alike, while a kind mostly finds the caches its
    own last request left (taking turns request by request, each paid 0.5-0.7 ms more
    for the ones the others left cold)."""
    taken: dict[str, list[float]] = {kind: [] for kind in calls}
    for _ in range(max(1, count // block)):
        for kind, (session, call) in calls.items():
            for _ in range(block):
                before = settled_cpu_ns(session)
                call()
                taken[kind].append((settled_cpu_ns(session) - before) / 1e6)
    return taken
