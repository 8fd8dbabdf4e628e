"""Isolate memory for agent-sized bodies: the workerd process's peak resident memory
over a warmed process's, for one body in a fresh process, and for four bodies just
under the limit sent at once while small requests keep coming (each must answer)."""

from __future__ import annotations

import contextlib
import http.client
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local_workers import PROXIED, body_of, proxy_worker

import procstat
from devstack.access import LocalAccess
from devstack.gateway import FakeGateway
from devstack.runtime import LocalWorker
from targets import EIGHT, MIB, agent_body

MEMORY_SIZES = {"1 MB": MIB, "8 MB": EIGHT, "9 MiB (over)": 9 * MIB}
CONCURRENT = 4


def _post(port: int, headers: dict[str, str], body: bytes) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        # Answered (413) before the whole body was sent: the answer is still there.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.request("POST", PROXIED, body, {**headers, "content-type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _workerd_peak(worker: LocalWorker) -> float:
    assert worker.process is not None
    peaks = procstat.peak_memory_mib(worker.process.pid)
    return max((v for k, v in peaks.items() if "workerd" in k), default=0.0)


@contextmanager
def fresh_proxy(
    work: Path, gateway: FakeGateway, access: LocalAccess, headers: dict[str, str]
) -> Iterator[tuple[LocalWorker, float]]:
    """A proxy in a process of its own, warmed with small requests; with its peak so far."""
    with proxy_worker(work, gateway, access, brake=False) as worker:
        for _ in range(20):
            _post(worker.direct_port, headers, body_of(1_000))
        yield worker, _workerd_peak(worker)


def memory_table(work: Path, gateway: FakeGateway, access: LocalAccess, token: str) -> Any:
    """Peak growth (MiB) of a fresh proxy's workerd per body, and for four 8 MB bodies
    at once with small requests alongside (their statuses counted)."""
    headers = {"cf-access-token": token}
    growth: dict[str, float] = {}
    for label, size in MEMORY_SIZES.items():
        with fresh_proxy(work / f"mem-{size}", gateway, access, headers) as (worker, before):
            status = _post(worker.direct_port, headers, agent_body(size))
            growth[label] = _workerd_peak(worker) - before
            growth[f"{label} status"] = status
    with fresh_proxy(work / "mem-concurrent", gateway, access, headers) as (worker, before):
        big = agent_body(EIGHT)
        statuses: list[int] = []
        small: list[int] = []
        stop = threading.Event()

        def small_ones() -> None:
            while not stop.is_set():
                small.append(_post(worker.direct_port, headers, body_of(1_000)))

        def one() -> None:
            statuses.append(_post(worker.direct_port, headers, big))

        side = threading.Thread(target=small_ones)
        side.start()
        senders = [threading.Thread(target=one) for _ in range(CONCURRENT)]
        started = time.monotonic()
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        stop.set()
        side.join()
        concurrent = {
            "growth_mib": _workerd_peak(worker) - before,
            "big_statuses": sorted(statuses),
            "small_requests": len(small),
            "small_failed": sum(1 for s in small if s != 200),
            "seconds": time.monotonic() - started,
        }
    return {"one_body": growth, "four_8mb_at_once": concurrent}


def print_memory(memory: dict[str, Any]) -> None:
    print("\npeak workerd memory over a warmed process's, one body in a fresh process")
    for label, size in MEMORY_SIZES.items():
        grew = memory["one_body"][label]
        status = memory["one_body"][f"{label} status"]
        print(f"  {label:12s} {grew:7.1f} MiB  ({grew * MIB / size:.2f}x; status {status})")
    c = memory["four_8mb_at_once"]
    print(
        f"  four 8 MB at once: {c['growth_mib']:.1f} MiB, statuses {c['big_statuses']}; "
        f"{c['small_requests']} small requests alongside, {c['small_failed']} failed"
    )
