"""Agent-sized bodies: CPU per request and isolate memory where coding agents really are.

    uv run python benchmarks/bodies.py [--requests 200] [--no-memory | --no-cpu]

Beside the proxy (brake off) run the Python floor (`floor/entry.py`, `js.fetch` only)
and, when `../shared/anchors/js-worker/` is there, its JavaScript Worker and floor,
run from that folder (never copied into the project), all on the same workerd,
taking turns. Bodies: 1 KB, and an agent's request (a conversation whose tool
results are source files, some non-ASCII text, 20 tools) of 30 KB, 1 MB and 8 MB.
Every figure is also given as a ratio to F, the Python floor's CPU for 1 KB in the
same run, so runs on different machines compare. Memory: body_memory.py. `run.py`
prints the same tables. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "tests")]

from body_memory import memory_table, print_memory  # noqa: E402
from local_workers import FLOOR, PROXIED, body_of, cpu_samples, proxy_worker  # noqa: E402

from devstack.access import LocalAccess, SigningKey, access_claims  # noqa: E402
from devstack.gateway import ACCOUNT, FakeGateway  # noqa: E402
from devstack.runtime import LocalWorker  # noqa: E402
from targets import (  # noqa: E402
    AUDIENCE,
    EIGHT,
    GATEWAY_ID,
    GATEWAY_TOKEN,
    MIB,
    RESPONDERS,
    USER_ID_KEY,
    WORKERS_AI_TOKEN,
    Target,
    agent_body,
    direct_target,
)

ANCHOR = ROOT.parent / "shared" / "anchors" / "js-worker"
SIZES = {"1 KB": 1_000, "30 KB agent": 30_000, "1 MB agent": MIB, "8 MB agent": EIGHT}
# Requests per kind, as a share of --requests: large bodies take long to send.
SHARE = {"1 KB": 1.0, "30 KB agent": 1.0, "1 MB agent": 0.5, "8 MB agent": 0.15}


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
