"""Agent-sized bodies: CPU per request and isolate memory where coding agents really are.

    uv run python benchmarks/bodies.py [--requests 200] [--no-memory]

Beside the proxy (brake off) run the Python floor (`floor/entry.py`, `js.fetch` only)
and, when `../shared/anchors/js-worker/` is there, its JavaScript Worker and floor,
run from that folder (never copied into the project), all on the same workerd,
taking turns. Bodies: 1 KB, and an agent's request (a conversation whose tool
results are source files, some non-ASCII text, 20 tools) of 30 KB, 1 MB and 8 MB.
Every figure is also given as a ratio to F, the Python floor's CPU for 1 KB in the
same run, so runs on different machines compare. Memory: the workerd process's peak
resident memory over what it held before, for one body of each size in a fresh
process, and for four 8 MB bodies sent at once while small requests keep coming
(each of which must answer). `run.py` prints the same table. Nothing here asserts
a time.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "tests")]

from local_workers import FLOOR, PROXIED, body_of, cpu_samples, proxy_worker  # noqa: E402

import procstat  # noqa: E402
from devstack.access import LocalAccess, SigningKey, access_claims  # noqa: E402
from devstack.gateway import ACCOUNT, FakeGateway  # noqa: E402
from devstack.runtime import LocalWorker  # noqa: E402
from targets import (  # noqa: E402
    AUDIENCE,
    GATEWAY_ID,
    GATEWAY_TOKEN,
    RESPONDERS,
    USER_ID_KEY,
    WORKERS_AI_TOKEN,
    Target,
    direct_target,
)

ANCHOR = ROOT.parent / "shared" / "anchors" / "js-worker"
MIB = 2**20
# "8 MB" stays just under the Worker's limit (opencode_proxy.body.BODY_LIMIT, 8 MiB).
EIGHT = 8 * MIB - 128 * 1024
SIZES = {"1 KB": 1_000, "30 KB agent": 30_000, "1 MB agent": MIB, "8 MB agent": EIGHT}
# Requests per kind, as a share of --requests: large bodies take long to send.
SHARE = {"1 KB": 1.0, "30 KB agent": 1.0, "1 MB agent": 0.5, "8 MB agent": 0.15}
MEMORY_SIZES = {"1 MB": MIB, "8 MB": EIGHT, "9 MiB (over)": 9 * MIB}
CONCURRENT = 4
_SOURCE = (
    "def request(text: str) -> dict:\n"
    '    """Ask the model; the answer is logged (café, naïve, 東京, ✓)."""\n'
    '    payload = {"model": "gpt-5", "input": text, "store": False}\n'
    '    return post("/v1/responses", json=payload, headers={"x-model": "model"})\n\n'
)


def agent_body(size: int) -> bytes:
    """A coding agent's request of about `size` bytes (JSON as the JS SDKs write it:
    UTF-8, no escapes beyond quotes and newlines), naming gpt-5 once at the top."""
    tools = [
        {
            "type": "function",
            "name": f"tool_{n}",
            "description": "Read a file of the repository and return its text.",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
        }
        for n in range(20)
    ]
    turns: list[dict[str, Any]] = [{"role": "system", "content": "You are a coding agent. " * 40}]
    body = {"model": "gpt-5", "input": turns, "tools": tools, "stream": False}
    base = len(json.dumps(body, ensure_ascii=False).encode())
    step = [
        {"type": "function_call", "call_id": "c", "name": "tool_1"},
        {"type": "function_call_output", "call_id": "c", "output": _SOURCE * 30},
        {"role": "user", "content": "Now change the next step. " * 10},
    ]
    each = len(json.dumps(step, ensure_ascii=False).encode())
    turns += step * max(0, -(-(size - base) // each))
    return json.dumps(body, ensure_ascii=False).encode()


def body_for(label: str) -> bytes:
    size = SIZES[label]
    return body_of(size) if label == "1 KB" else agent_body(size)


class Stand:
    """The Workers of one comparison, started: proxy, Python floor, and the JS anchor
    and its floor when the anchor is present."""

    def __init__(self, work: Path, gateway: FakeGateway, access: LocalAccess) -> None:
        upstream = f"{gateway.origin}/v1/{ACCOUNT}/{GATEWAY_ID}"
        self.workers: dict[str, LocalWorker] = {
            "proxy": proxy_worker(work / "proxy", gateway, access, brake=False),
            "python floor": LocalWorker(
                work / "floor", code=FLOOR, variables={"UPSTREAM": upstream}, loopback_only=False
            ),
        }
        if ANCHOR.is_dir():
            js = {
                "ACCESS_CERTS_URL": f"{access.origin}/cdn-cgi/access/certs",
                "ACCESS_AUD": AUDIENCE,
                "ACCESS_ISS": access.origin,
                "UPSTREAM": f"{upstream}/openai",
                "GATEWAY_TOKEN": GATEWAY_TOKEN,
                "USER_ID_KEY": USER_ID_KEY,
                "VERIFY_CACHE": "1",
            }
            for name, main, variables in (
                ("js anchor", "worker.mjs", js),
                ("js floor", "floor.mjs", {"UPSTREAM": upstream}),
            ):
                self.workers[name] = LocalWorker(
                    work / name.replace(" ", "-"),
                    code=ANCHOR,
                    main=main,
                    variables=variables,
                    loopback_only=False,
                    ready_path=None,
                )


def target(worker: LocalWorker, headers: dict[str, str]) -> Target:
    return Target("workerd", worker.direct_port, "", headers)


def cpu_table(stand: Stand, token: str, direct: Target, requests: int) -> dict[str, Any]:
    """Median workerd CPU (ms) per kind and body, and each as a ratio to F."""
    signed = {"cf-access-token": token}
    heads = {"proxy": signed, "js anchor": signed}
    result: dict[str, dict[str, float]] = {}
    for label in SIZES:
        body = body_for(label)
        runs = {
            kind: (worker, target(worker, heads.get(kind, direct.headers)), PROXIED, body)
            for kind, worker in stand.workers.items()
        }
        count = max(10, int(requests * SHARE[label]))
        samples = cpu_samples(runs, count)
        result[label] = {kind: sorted(v)[len(v) // 2] for kind, v in samples.items()}
    floor = result["1 KB"]["python floor"]
    return {"F_ms": floor, "cpu_ms": result}


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


def print_tables(cpu: dict[str, Any] | None, memory: dict[str, Any] | None) -> None:
    if cpu is not None:
        print_cpu(cpu)
    if memory is not None:
        print_memory(memory)


def print_cpu(cpu: dict[str, Any]) -> None:
    f = cpu["F_ms"]
    print(f"\nagent-sized bodies: median workerd CPU per request; F = {f:.2f} ms")
    print("(the Python floor's for 1 KB in this run); own share = over its runtime's floor")
    rows = [("body", "python floor", "proxy", "proxy's own", "js floor", "js anchor", "js own")]
    for label, kinds in cpu["cpu_ms"].items():
        floor, proxy = kinds["python floor"], kinds["proxy"]
        js_floor, anchor = kinds.get("js floor"), kinds.get("js anchor")
        js = "-" if js_floor is None or anchor is None else f"{anchor - js_floor:+.2f} ms"
        js_f = "-" if js_floor is None or anchor is None else f"{(anchor - js_floor) / f:.2f} F"
        rows.append(
            (
                label,
                f"{floor:.2f} ms ({floor / f:.2f} F)",
                f"{proxy:.2f} ms",
                f"{proxy - floor:+.2f} ms ({(proxy - floor) / f:.2f} F)",
                "-" if js_floor is None else f"{js_floor:.2f} ms",
                "-" if anchor is None else f"{anchor:.2f} ms",
                f"{js} ({js_f})",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


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


def run(work: Path, requests: int, *, cpu: bool, memory: bool) -> dict[str, Any]:
    key = SigningKey.generate()
    with (
        LocalAccess(published=[key]) as access,
        FakeGateway(
            token=GATEWAY_TOKEN, workers_ai_token=WORKERS_AI_TOKEN, responders=dict(RESPONDERS)
        ) as gateway,
    ):
        token = key.sign(access_claims(access.origin, AUDIENCE))
        table = None
        if cpu:
            stand = Stand(work, gateway, access)
            with ExitStack() as running:
                for worker in stand.workers.values():
                    running.enter_context(worker)
                table = cpu_table(stand, token, direct_target(gateway), requests)
        mem = memory_table(work, gateway, access, token) if memory else None
    return {"cpu": table, "memory": mem}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per kind (1 KB)")
    parser.add_argument("--no-memory", action="store_true", help="CPU only")
    parser.add_argument("--no-cpu", action="store_true", help="memory only")
    parser.add_argument("--out", type=Path, default=ROOT / ".local" / "bench" / "bodies.json")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    work = args.out.parent / "bodies"
    result = run(work, args.requests, cpu=not args.no_cpu, memory=not args.no_memory)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print_tables(result["cpu"], result["memory"])
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
