"""Benchmark the proxy: added latency, streaming fidelity, throughput, CPU, memory, cold start.

    uv run python benchmarks/run.py [--requests 400] [--out .local/bench/results.json]
                                    [--no-bodies]

Everything runs on 127.0.0.1 against a local fake gateway that answers at once,
and every figure is taken side by side with the same request sent to the
gateway directly, so the machine's noise cancels out. The Worker runs in the
current runtime (workerd, Pyodide 314) and is reached on its direct socket, one
hop as in production; beside it runs the floor, a Python Worker that only
forwards with `js.fetch`. Then the agent-sized bodies of bodies.py (CPU beside the
JS anchor, memory). Each phase is bounded in requests and time. Numbers are printed
as tables and written as JSON; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "tests")]

import bodies  # noqa: E402
from local_workers import (  # noqa: E402
    FLOOR,
    PROXIED,
    CpuRun,
    body_of,
    cpu_per_request,
    proxy_target,
    proxy_worker,
    settings,
)

import build_config  # noqa: E402
import probes  # noqa: E402
import procstat  # noqa: E402
from devstack.access import LocalAccess, SigningKey, access_claims  # noqa: E402
from devstack.gateway import ACCOUNT, FakeGateway  # noqa: E402
from devstack.runtime import LocalWorker  # noqa: E402
from table import print_over_floor, print_table  # noqa: E402
from targets import (  # noqa: E402
    AGENT_BODY,
    AUDIENCE,
    BODY,
    COMPAT_BODY,
    GATEWAY_ID,
    GATEWAY_TOKEN,
    RESPONDERS,
    STREAMED,
    WORKERS_AI_TOKEN,
    Target,
    direct_target,
)

# The proxy reads a JSON body once to find its model; the floor never reads it.
BODY_SIZES = {"60 B": 60, "1 KB": 1_000, "100 KB": 100_000, "1 MB": 1_000_000}


@dataclass
class Report:
    machine: dict[str, Any] = field(default_factory=dict)
    runtimes: dict[str, Any] = field(default_factory=dict)
    core: dict[str, Any] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def first_proxied(port: int, token: str, started: float) -> float:
    """Seconds from `started` until the Worker first answers a proxied request with 200."""
    deadline, last = started + 120, "no answer"
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
    raise RuntimeError(f"no proxied answer on port {port} within 120 s: {last}")


def measure(
    worker: LocalWorker, cold_start_s: float, direct: Target, tokens: list[str], count: int
) -> dict[str, Any]:
    proxy = proxy_target(worker, tokens[0])
    warm = proxy.headers
    fresh = iter({"cf-access-token": t} for t in tokens[1:])

    def always_warm() -> Iterator[dict[str, str]]:
        while True:
            yield warm

    result: dict[str, Any] = {"cold_start_s": cold_start_s}
    result["latency_warm_token"] = probes.latency(proxy, direct, count, always_warm())
    # What `scripts/dev` and the tests add on top: miniflare's entry worker in front.
    entry = Target("miniflare entry", worker.port, "", warm)
    result["latency_via_miniflare_entry"] = probes.latency(entry, direct, count, always_warm())
    result["latency_cold_token"] = probes.latency(
        proxy, direct, min(count, len(tokens) - 30), fresh
    )
    result["streaming"] = probes.streaming(proxy, direct)
    result["throughput"] = {
        str(c): {
            "worker": probes.throughput(proxy, c, count, warm),
            "direct": probes.throughput(direct, c, count, {}),
        }
        for c in (1, 8, 32)
    }
    assert worker.process is not None
    result["peak_memory_mib"] = procstat.peak_memory_mib(worker.process.pid)
    return result


def core_cpu_us(token: str, access: LocalAccess, count: int = 5000) -> float:
    """The core's Python work per proxied request on CPython (no runtime, no FFI), in µs."""
    from opencode_proxy.http import Request
    from support import cpython

    app = cpython.make_app(access, settings=settings(access))
    headers = {
        "cf-access-token": token,
        "content-type": "application/json",
        "accept": "application/json",
        "user-agent": "bench",
        "x-api-key": "",
        "anthropic-version": "2023-06-01",
    }
    request = Request("POST", "http://127.0.0.1:8787/openai/v1/responses", headers, None)

    async def drive() -> float:
        deferred: list[Any] = []
        await app.handle(request, deferred.append)  # cold: verifies the token
        for work in deferred:
            await work
        started = time.process_time()
        for _ in range(count):
            await app.handle(request, deferred.append)
        return (time.process_time() - started) / count * 1e6

    with open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        try:
            return asyncio.run(drive())
        finally:
            sys.stdout = stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per phase")
    parser.add_argument("--out", type=Path, default=ROOT / ".local" / "bench" / "results.json")
    parser.add_argument(
        "--no-bodies", action="store_true", help="leave out agent-sized bodies (bodies.py)"
    )
    args = parser.parse_args(argv)
    if build_config.main([]) != 0:
        return 1
    work = args.out.parent
    for stale in ("workerd", "floor"):
        shutil.rmtree(work / stale, ignore_errors=True)  # start from empty local KV
    work.mkdir(parents=True, exist_ok=True)
    key = SigningKey.generate()  # a new kid each run, as Access does on rotation
    report = Report(machine=machine())
    with (
        LocalAccess(published=[key]) as access,
        FakeGateway(
            token=GATEWAY_TOKEN, workers_ai_token=WORKERS_AI_TOKEN, responders=dict(RESPONDERS)
        ) as gateway,
    ):
        tokens = [
            key.sign(access_claims(access.origin, AUDIENCE)) for _ in range(args.requests + 60)
        ]
        direct = direct_target(gateway)
        started = time.monotonic()
        # Its cold start is measured: nothing polls it before the first proxied request.
        worker = proxy_worker(work / "workerd", gateway, access, brake=True, ready_path=None)
        upstream = f"{gateway.origin}/v1/{ACCOUNT}/{GATEWAY_ID}"
        floor = LocalWorker(
            work / "floor", code=FLOOR, variables={"UPSTREAM": upstream}, loopback_only=False
        )
        no_brake = proxy_worker(work / "no-brake", gateway, access, brake=False)
        with worker:
            cold = first_proxied(worker.direct_port, tokens[0], started)
            result = measure(worker, cold, direct, tokens, args.requests)
            with floor, no_brake:
                proxy = proxy_target(worker, tokens[0])
                bare = Target("floor", floor.direct_port, "", direct.headers)
                unbraked_proxy = proxy_target(no_brake, tokens[0])
                runs: dict[str, CpuRun] = {
                    "healthz": (worker, proxy, "/healthz", b""),
                    "discovery": (worker, proxy, "/.well-known/opencode", b""),
                    "page (/ in a browser, signed in)": (worker, proxy, "/", b""),
                    "proxied, provider sets a cookie": (
                        worker,
                        proxy,
                        "/compat/chat/completions",
                        COMPAT_BODY,
                    ),
                }
                compared = {label: (PROXIED, body_of(size)) for label, size in BODY_SIZES.items()}
                compared["30 KB agent"] = (PROXIED, AGENT_BODY)
                compared["streamed answer"] = STREAMED
                for label, (path, body) in compared.items():
                    noun = label if label == "streamed answer" else f"{label} body"
                    runs[f"proxied, {noun}"] = (worker, proxy, path, body)
                    runs[f"floor (js.fetch only), {noun}"] = (floor, bare, path, body)
                # The brake's binding call, as miniflare simulates it (inside workerd).
                runs["proxied, 1 KB body, brake off"] = (
                    no_brake,
                    unbraked_proxy,
                    PROXIED,
                    body_of(BODY_SIZES["1 KB"]),
                )
                result["cpu_ms_per_request"] = cpu = cpu_per_request(runs)
                result["over_floor"] = {
                    label: {
                        "proxy_cpu_ms": cpu[f"proxied, {noun}"],
                        "floor_cpu_ms": cpu[f"floor (js.fetch only), {noun}"],
                        "added_ms": probes.over_floor(proxy, bare, path, body, count=100),
                    }
                    for label, (path, body) in compared.items()
                    for noun in [label if label == "streamed answer" else f"{label} body"]
                }
        report.runtimes["workerd"] = result
        report.core = {"warm_token_us": core_cpu_us(tokens[0], access)}
    if not args.no_bodies:
        report.bodies = bodies.run(work / "bodies", args.requests // 2, cpu=True, memory=True)
    args.out.write_text(json.dumps(report.__dict__, indent=2) + "\n")
    print(f"machine: {report.machine['cpu']}, {report.machine['cores']} cores")
    print_table(report.runtimes, report.core)
    print_over_floor(report.runtimes["workerd"])
    if report.bodies:
        bodies.print_tables(report.bodies["cpu"], report.bodies["memory"])
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
