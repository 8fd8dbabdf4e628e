"""The Workers the benchmarks run, and how their CPU per request is taken: the proxy as
deployed (its code from any `src`), and workerd CPU per request of several Workers
taking turns."""

from __future__ import annotations

import http.client
import statistics
from collections.abc import Callable
from pathlib import Path

import procstat
from devstack.access import LocalAccess
from devstack.gateway import FakeGateway
from devstack.runtime import LocalWorker
from targets import AUDIENCE, GATEWAY_ID, GATEWAY_TOKEN, USER_ID_KEY, WORKERS_AI_TOKEN, Target
from toolkit.worker_files import SRC
from toolkit.wrangler_config import production_config, with_brake

FLOOR = Path(__file__).resolve().parent / "floor"
CPU_REQUESTS = 300  # of each kind
PROXIED = "/openai/v1/responses"


def settings(access: LocalAccess) -> dict[str, str]:
    return {
        "ACCESS_TEAM_DOMAIN": access.origin,
        "ACCESS_AUD": AUDIENCE,
        "USER_ID_KEY": USER_ID_KEY,
        "AI_GATEWAY_ID": GATEWAY_ID,
        "GATEWAY_TOKEN": GATEWAY_TOKEN,
        "WORKERS_AI_TOKEN": WORKERS_AI_TOKEN,
    }


# The brake stays on, as deployed, so its binding call is measured; one person sends
# every request here, so its limit is raised past anything a run sends.
UNREACHED_LIMIT = 1_000_000_000


def proxy_worker(
    folder: Path,
    gateway: FakeGateway,
    access: LocalAccess,
    *,
    brake: bool,
    ready_path: str | None = "/healthz",
    src: Path = SRC,
) -> LocalWorker:
    """The Worker as deployed (its code from `src`), measured without the local stack's
    loopback-only outbound worker (one more worker on every upstream fetch). With
    `brake`, the limit is raised past anything a run sends; without, the binding is
    gone, so what it costs shows."""
    wrangler = production_config()
    if brake:
        wrangler = with_brake(wrangler, limit=UNREACHED_LIMIT)
    else:
        wrangler.pop("ratelimits", None)
    return LocalWorker(
        folder,
        gateway.origin,
        variables=settings(access),
        wrangler=wrangler,
        ready_path=ready_path,
        loopback_only=False,
        src=src,
    )


CpuRun = tuple[LocalWorker, Target, str, bytes]


def cpu_per_request(runs: dict[str, CpuRun]) -> dict[str, float]:
    """workerd CPU (ms) of the median request of each (worker, target, path, body)."""
    return {kind: statistics.median(values) for kind, values in cpu_samples(runs).items()}


def cpu_samples(runs: dict[str, CpuRun], count: int = CPU_REQUESTS) -> dict[str, list[float]]:
    """workerd CPU (ms) of each of `count` requests of each (worker, target, path, body),
    the kinds taking turns."""
    calls: dict[str, tuple[int, Callable[[], object]]] = {}
    for kind, (worker, target, path, body) in runs.items():
        assert worker.process is not None
        conn = target.connect()
        provider, _, rest = path.strip("/").partition("/")

        def one(
            conn: http.client.HTTPConnection = conn,
            target: Target = target,
            path: str = path,
            route: tuple[str, str] = (provider, f"/{rest}"),
            body: bytes = body,
        ) -> None:
            for attempt in range(2):
                try:
                    if not body:  # a GET: /healthz, discovery, or the page in a browser
                        headers = {**target.headers, "accept": "text/html"}
                        conn.request("GET", path, headers=headers)
                        conn.getresponse().read()
                    else:
                        target.request(conn, *route, body=body)
                    return
                except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                    # workerd closes a keep-alive connection left idle; the next request
                    # opens a new one.
                    conn.close()
                    if attempt:
                        raise

        for _ in range(20):  # warm up
            one()
        calls[kind] = (worker.process.pid, one)
    return procstat.cpu_ms_per_request(calls, count)


def body_of(size: int) -> bytes:
    """A served request of about `size` bytes (the model comes first, as SDKs send it)."""
    head = b'{"model":"gpt-5","input":"'
    return head + b"a" * max(0, size - len(head) - 2) + b'"}'


def proxy_target(worker: LocalWorker, token: str) -> Target:
    return Target("workerd", worker.direct_port, "", {"cf-access-token": token})
