"""CPU and memory of a runtime's processes, read from /proc (Linux)."""

from __future__ import annotations

import os
from collections.abc import Callable
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


def cpu_seconds(session: int) -> dict[str, float]:
    """CPU (user + system) of each process of the session, by command name."""
    usage: dict[str, float] = {}
    for pid, comm in session_processes(session):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / CLK_TCK
        usage[comm] = usage.get(comm, 0.0) + seconds
    return usage


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


def cpu_ms_per_call(session: int, call: Callable[[], object], count: int) -> float:
    """The session's CPU per call, in milliseconds, over `count` calls made in a row."""
    before = sum(cpu_seconds(session).values())
    for _ in range(count):
        call()
    return (sum(cpu_seconds(session).values()) - before) * 1000 / count
