"""Latency, streaming and throughput probes; each is bounded in requests and in time."""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from targets import SSE_EVENTS, STREAM_BODY, Target

PHASE_SECONDS = 120  # no phase runs longer than this


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "mean": statistics.fmean(values)}


def latency(
    worker: Target, direct: Target, count: int, worker_headers: Iterator[dict[str, str]]
) -> dict[str, Any]:
    """Alternate Worker and direct requests; the difference is what the Worker adds."""
    through, straight = worker.connect(), direct.connect()
    for _ in range(20):  # warm both connections and caches
        worker.request(through, "openai", "/v1/responses", next(worker_headers))
        direct.request(straight, "openai", "/v1/responses")
    via, raw, errors = [], [], 0
    deadline = time.monotonic() + PHASE_SECONDS
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        status, ms = worker.request(through, "openai", "/v1/responses", next(worker_headers))
        errors += status != 200
        via.append(ms)
        status, ms = direct.request(straight, "openai", "/v1/responses")
        errors += status != 200
        raw.append(ms)
    added = [a - b for a, b in zip(via, raw, strict=True)]
    return {
        "worker_ms": percentiles(via),
        "direct_ms": percentiles(raw),
        "added_ms": percentiles(added),
        "errors": errors,
        "requests": len(via),
    }


def over_floor(
    proxy: Target, floor: Target, path: str, body: bytes, count: int
) -> dict[str, float]:
    """Alternate the same request through the proxy and through the floor; what the proxy
    adds to the whole answer's time (ms) over a Worker that only forwards."""
    provider, _, rest = path.strip("/").partition("/")
    route = (provider, f"/{rest}")
    through, bare = proxy.connect(), floor.connect()
    for _ in range(10):
        proxy.request(through, *route, body=body)
        floor.request(bare, *route, body=body)
    added = []
    deadline = time.monotonic() + PHASE_SECONDS
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        _, via = proxy.request(through, *route, body=body)
        _, raw = floor.request(bare, *route, body=body)
        added.append(via - raw)
    return percentiles(added)


def stream_once(target: Target) -> tuple[float, list[float]]:
    """Time to the first event and the gaps between events of one SSE answer (ms)."""
    conn = target.connect()
    started = time.perf_counter()
    conn.request(
        "POST",
        f"{target.prefix}/anthropic/v1/messages",
        STREAM_BODY,
        {**target.headers, "content-type": "application/json"},
    )
    response = conn.getresponse()
    arrivals, buffer = [], b""
    while chunk := response.read1(65536):
        now = time.perf_counter()
        buffer += chunk
        while b"\n\n" in buffer:
            _, buffer = buffer.split(b"\n\n", 1)
            arrivals.append(now)
    conn.close()
    if len(arrivals) != SSE_EVENTS:
        raise RuntimeError(f"{target.name}: {len(arrivals)} of {SSE_EVENTS} events arrived")
    gaps = [(b - a) * 1000 for a, b in itertools.pairwise(arrivals)]
    return (arrivals[0] - started) * 1000, gaps


def streaming(worker: Target, direct: Target, runs: int = 5) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for target in (worker, direct):
        ttfb, gaps = [], []
        for _ in range(runs):
            first, between = stream_once(target)
            ttfb.append(first)
            gaps.extend(between)
        result[target.name] = {"ttfb_ms": percentiles(ttfb), "gap_ms": percentiles(gaps)}
    result["gap_growth_ms"] = {
        q: result[worker.name]["gap_ms"][q] - result[direct.name]["gap_ms"][q]
        for q in ("p50", "p90", "p99")
    }
    return result


def throughput(
    target: Target, concurrency: int, count: int, headers: dict[str, str]
) -> dict[str, Any]:
    per_worker = max(1, count // concurrency)
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + PHASE_SECONDS

    def run() -> int:
        nonlocal errors
        conn, done = target.connect(), 0
        for _ in range(per_worker):
            if time.monotonic() > deadline:
                break
            try:
                status, _ = target.request(conn, "openai", "/v1/responses", headers)
            except OSError:
                status, conn = 0, target.connect()
            with lock:
                errors += status != 200
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        done = sum(pool.map(lambda _: run(), range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"rps": done / elapsed, "requests": done, "errors": errors}
