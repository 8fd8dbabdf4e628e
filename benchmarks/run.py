"""Benchmark the proxy: added latency, streaming fidelity, throughput, CPU, memory, cold start.

    uv run python benchmarks/run.py [--requests 400] [--out .local/bench/results.json]

Everything runs on 127.0.0.1 against a local fake gateway that answers at once,
and every figure is taken side by side with the same request sent to the
gateway directly, so the machine's noise cancels out. The Worker runs twice:
under `wrangler dev` (two workerd processes, the developer's setup) and under
miniflare's Node API (one workerd process, closer to production's single hop).
Each phase is bounded in requests and time. Numbers are printed as a table and
written as JSON; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import itertools
import json
import os
import platform
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "tests")]

import build_config  # noqa: E402
from devstack.access import LocalAccess, SigningKey, access_claims  # noqa: E402
from devstack.gateway import ACCOUNT, FakeGateway, Reply, Seen  # noqa: E402
from devstack.runtime import LocalWorker  # noqa: E402

AUDIENCE = "bench-aud"
GATEWAY_TOKEN = "bench-gateway-token"  # noqa: S105 (the local fake gateway's)
GATEWAY_ID = "bench"
USER_ID_KEY = "bench-user-id-key"
BODY = json.dumps({"model": "gpt-5", "input": "hello", "store": False}).encode()
SSE_EVENTS = 200
SSE_INTERVAL = 0.002  # seconds between events sent by the fake gateway
PHASE_SECONDS = 120  # no phase runs longer than this
CLK_TCK = os.sysconf("SC_CLK_TCK")


def instant(seen: Seen, reply: Reply) -> None:
    reply.json(200, {"id": "resp_bench", "status": "completed"})


def sse(seen: Seen, reply: Reply) -> None:
    reply.head(200, [("content-type", "text/event-stream")])
    for n in range(SSE_EVENTS):
        reply.write(f'data: {{"n":{n},"delta":"token-{n:03d}"}}\n\n'.encode())
        time.sleep(SSE_INTERVAL)
    reply.end()


# --- where requests go ------------------------------------------------------------------


@dataclass
class Target:
    """One way to reach the fake provider: through a Worker or straight to the gateway."""

    name: str
    port: int
    prefix: str  # path before /<provider>/<rest>
    headers: dict[str, str]

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(
        self,
        conn: http.client.HTTPConnection,
        provider: str,
        rest: str,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, float]:
        started = time.perf_counter()
        conn.request(
            "POST",
            f"{self.prefix}/{provider}{rest}",
            BODY,
            {**self.headers, **(headers or {}), "content-type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000


def direct_target(gateway: FakeGateway) -> Target:
    port = int(gateway.origin.rsplit(":", 1)[1])
    metadata = json.dumps({"userId": "00000000-0000-8000-8000-000000000000"})
    return Target(
        "direct",
        port,
        f"/v1/{ACCOUNT}/{GATEWAY_ID}",
        {"cf-aig-authorization": f"Bearer {GATEWAY_TOKEN}", "cf-aig-metadata": metadata},
    )


# --- runtimes -----------------------------------------------------------------------------


@dataclass
class Runtime:
    """A running Worker: its port, its process session, how it started."""

    name: str
    port: int
    session: int
    cold_start_s: float
    stop: Callable[[], None]


def _variables(access: LocalAccess) -> dict[str, str]:
    return {
        "ACCESS_TEAM_DOMAIN": access.origin,
        "ACCESS_AUD": AUDIENCE,
        "USER_ID_KEY": USER_ID_KEY,
        "AI_GATEWAY_ID": GATEWAY_ID,
        "GATEWAY_TOKEN": GATEWAY_TOKEN,
    }


def _first_proxied(port: int, token: str, started: float, deadline: float) -> float:
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/openai/v1/responses", BODY, {"cf-access-token": token})
            response = conn.getresponse()
            if response.status == 200:
                return time.monotonic() - started
            last = f"{response.status} {response.read()[:200]!r}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.05)
    raise RuntimeError(f"no proxied answer on port {port} within the deadline: {last}")


def start_workerd(
    work: Path, gateway: FakeGateway, variables: dict[str, str], token: str
) -> Runtime:
    """The Worker in workerd, measured on its direct socket (no front worker in the way)."""
    started = time.monotonic()
    worker = LocalWorker(work / "workerd", gateway.origin, variables=variables, ready_timeout=120)
    worker.start()
    try:
        cold = _first_proxied(worker.direct_port, token, started, started + 120)
    except BaseException:
        worker.stop()
        raise
    assert worker.process is not None
    return Runtime("workerd", worker.direct_port, worker.process.pid, cold, worker.stop)


# --- process accounting -------------------------------------------------------------------


def session_processes(session: int) -> list[tuple[int, str]]:
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
    """CPU (user + system) of each process of the runtime's session, by command name."""
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


# --- measurements -------------------------------------------------------------------------


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


def stream_once(target: Target) -> tuple[float, list[float]]:
    conn = target.connect()
    started = time.perf_counter()
    conn.request(
        "POST",
        f"{target.prefix}/anthropic/v1/messages",
        BODY,
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


def cpu_per_1000(
    runtime: Runtime, target: Target, path: str, headers: dict[str, str], count: int = 1000
) -> dict[str, float]:
    before = cpu_seconds(runtime.session)
    provider, _, rest = path.strip("/").partition("/")
    conn = target.connect()
    for _ in range(count):
        if path == "/healthz":
            conn.request("GET", "/healthz")
            conn.getresponse().read()
        else:
            target.request(conn, provider, f"/{rest}", headers)
    after = cpu_seconds(runtime.session)
    return {name: (after.get(name, 0.0) - before.get(name, 0.0)) * 1000 / count for name in after}


def core_cpu_us(token: str, access: LocalAccess, count: int = 5000) -> dict[str, float]:
    """The core's Python work per proxied request on CPython (no runtime, no FFI)."""
    from support import cpython

    app = cpython.make_app(
        access,
        settings={
            "ACCESS_TEAM_DOMAIN": access.origin,
            "ACCESS_AUD": AUDIENCE,
            "USER_ID_KEY": USER_ID_KEY,
            "AI_GATEWAY_ID": GATEWAY_ID,
            "GATEWAY_TOKEN": GATEWAY_TOKEN,
        },
    )
    from opencode_proxy.http import Request

    headers = {
        "cf-access-token": token,
        "content-type": "application/json",
        "accept": "application/json",
        "user-agent": "bench",
        "x-api-key": "",
        "anthropic-version": "2023-06-01",
    }
    request = Request("POST", "http://127.0.0.1:8787/openai/v1/responses", headers, None)

    async def drive() -> tuple[float, float]:
        deferred: list[Any] = []
        await app.handle(request, deferred.append)  # cold: verifies the token
        for work in deferred:
            await work
        started = time.process_time()
        for _ in range(count):
            await app.handle(request, deferred.append)
        warm = (time.process_time() - started) / count * 1e6
        return warm, 0.0

    with open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        try:
            warm, _ = asyncio.run(drive())
        finally:
            sys.stdout = stdout
    return {"warm_token_us": warm}


# --- the run -------------------------------------------------------------------------------


@dataclass
class Report:
    machine: dict[str, Any] = field(default_factory=dict)
    runtimes: dict[str, Any] = field(default_factory=dict)
    core: dict[str, Any] = field(default_factory=dict)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def measure(runtime: Runtime, direct: Target, tokens: list[str], count: int) -> dict[str, Any]:
    warm = {"cf-access-token": tokens[0]}
    worker = Target(runtime.name, runtime.port, "", warm)
    fresh = iter({"cf-access-token": t} for t in tokens[1:])

    def always_warm() -> Iterator[dict[str, str]]:
        while True:
            yield warm

    result: dict[str, Any] = {"cold_start_s": runtime.cold_start_s}
    result["latency_warm_token"] = latency(worker, direct, count, always_warm())
    result["latency_cold_token"] = latency(worker, direct, min(count, len(tokens) - 30), fresh)
    result["streaming"] = streaming(worker, direct)
    result["throughput"] = {
        str(c): {
            "worker": throughput(worker, c, count, warm),
            "direct": throughput(direct, c, count, {}),
        }
        for c in (1, 8, 32)
    }
    result["cpu_ms_per_request"] = {
        "proxied": cpu_per_1000(runtime, worker, "/openai/v1/responses", warm),
        "healthz": cpu_per_1000(runtime, worker, "/healthz", {}),
    }
    result["peak_memory_mib"] = peak_memory_mib(runtime.session)
    return result


def print_table(report: Report) -> None:
    rows: list[tuple[str, ...]] = []
    for name, r in report.runtimes.items():
        lw, lc, st = r["latency_warm_token"], r["latency_cold_token"], r["streaming"]
        rows += [
            (name, "cold start (s)", f"{r['cold_start_s']:.2f}", "", ""),
            (
                name,
                "added latency, warm token p50/p90/p99 (ms)",
                "/".join(f"{lw['added_ms'][q]:.2f}" for q in ("p50", "p90", "p99")),
                "",
                f"{lw['worker_ms']['p50'] / lw['direct_ms']['p50']:.1f}x",
            ),
            (
                name,
                "added latency, cold token p50/p90/p99 (ms)",
                "/".join(f"{lc['added_ms'][q]:.2f}" for q in ("p50", "p90", "p99")),
                "",
                f"{lc['worker_ms']['p50'] / lc['direct_ms']['p50']:.1f}x",
            ),
            (
                name,
                "request p50 (ms)",
                f"{lw['worker_ms']['p50']:.2f}",
                f"{lw['direct_ms']['p50']:.2f}",
                "",
            ),
            (
                name,
                "stream TTFB p50 (ms)",
                f"{st[name]['ttfb_ms']['p50']:.2f}",
                f"{st['direct']['ttfb_ms']['p50']:.2f}",
                f"{st[name]['ttfb_ms']['p50'] / st['direct']['ttfb_ms']['p50']:.1f}x",
            ),
            (
                name,
                "stream gap p50/p99 (ms)",
                f"{st[name]['gap_ms']['p50']:.2f}/{st[name]['gap_ms']['p99']:.2f}",
                f"{st['direct']['gap_ms']['p50']:.2f}/{st['direct']['gap_ms']['p99']:.2f}",
                f"growth {st['gap_growth_ms']['p50']:+.2f}/{st['gap_growth_ms']['p99']:+.2f}",
            ),
        ]
        for c, t in r["throughput"].items():
            w, d = t["worker"], t["direct"]
            rows.append(
                (
                    name,
                    f"throughput c={c} (req/s, errors)",
                    f"{w['rps']:.0f} ({w['errors']})",
                    f"{d['rps']:.0f} ({d['errors']})",
                    f"{w['rps'] / d['rps']:.2f}x",
                )
            )
        for kind, usage in r["cpu_ms_per_request"].items():
            rows.append(
                (
                    name,
                    f"CPU ms/request, {kind}",
                    ", ".join(f"{k} {v:.2f}" for k, v in sorted(usage.items())),
                    "",
                    "",
                )
            )
        rows.append(
            (
                name,
                "peak RSS (MiB)",
                ", ".join(f"{k} {v:.0f}" for k, v in sorted(r["peak_memory_mib"].items())),
                "",
                "",
            )
        )
    rows.append(
        (
            "core on CPython",
            "Python work per proxied request, warm token (µs)",
            f"{report.core['warm_token_us']:.1f}",
            "",
            "",
        )
    )
    header = ("runtime", "measure", "worker", "direct", "worker/direct")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(5)]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per phase")
    parser.add_argument("--out", type=Path, default=ROOT / ".local" / "bench" / "results.json")
    args = parser.parse_args(argv)
    if build_config.main([]) != 0:
        return 1
    work = args.out.parent
    shutil.rmtree(work / "workerd", ignore_errors=True)  # start from empty local KV
    work.mkdir(parents=True, exist_ok=True)
    key = SigningKey.generate()  # a new kid each run, as Access does on rotation
    report = Report(machine=machine())
    with (
        LocalAccess(published=[key]) as access,
        FakeGateway(
            token=GATEWAY_TOKEN, responders={"openai": instant, "anthropic": sse}
        ) as gateway,
    ):
        tokens = [
            key.sign(access_claims(access.origin, AUDIENCE)) for _ in range(args.requests + 60)
        ]
        direct = direct_target(gateway)
        variables = _variables(access)
        runtime = start_workerd(work, gateway, variables, tokens[0])
        try:
            report.runtimes[runtime.name] = measure(runtime, direct, tokens, args.requests)
        finally:
            runtime.stop()
        report.core = core_cpu_us(tokens[0], access)
    args.out.write_text(json.dumps(report.__dict__, indent=2) + "\n")
    print(f"machine: {report.machine['cpu']}, {report.machine['cores']} cores")
    print_table(report)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
