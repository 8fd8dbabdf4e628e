"""What each runtime step the proxy's checks need costs in workerd, over the floor.

    uv run python benchmarks/steps.py [--requests 500] [--agent-size 1048576]

Runs `steps/entry.py` (the floor plus one step per request, chosen by `?step=`) on
the current runtime against the local fake gateway, the steps taking turns request
by request, and prints the median workerd CPU of each and its cost over the floor;
then the least a proxied POST with every check costs over the floor: the brake's
await, the headers into Python, an upstream init built from Python, the body read
and forwarded, and the log line. With `--agent-size`, the body is an agent's request of
that size (bodies.py), and the steps a large body takes show what they cost: read and
forwarded with no copy into Python, copied, parsed by the runtime. Nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import statistics
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "tests")]

import procstat  # noqa: E402
from devstack.gateway import ACCOUNT, FakeGateway  # noqa: E402
from devstack.runtime import LocalWorker  # noqa: E402
from targets import (  # noqa: E402
    GATEWAY_ID,
    GATEWAY_TOKEN,
    RESPONDERS,
    WORKERS_AI_TOKEN,
    agent_body,
    direct_target,
)

STEPS_CODE = Path(__file__).resolve().parent / "steps"
FLOOR = "floor"
AWAIT = "an await"
HEADERS = "headers into a dict"
OWN_INIT = "a new init, the request's headers"
PY_INIT = "a new init, headers from Python"
BODY = "the body read and forwarded"
LOG = "a log line"
STEPS = (FLOOR, AWAIT, "an await, run_sync instead", HEADERS, OWN_INIT, PY_INIT, BODY, LOG)
LARGE_STEPS = (
    FLOOR,
    "the body read and forwarded, no copy",
    BODY,
    "the body parsed by the runtime and forwarded",
)
REQUEST = b'{"model":"gpt-5","input":"' + b"a" * 960 + b'"}'  # 1 KB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="requests of each step")
    parser.add_argument("--agent-size", type=int, help="send an agent request of this size")
    args = parser.parse_args(argv)
    request = agent_body(args.agent_size) if args.agent_size else REQUEST
    steps = LARGE_STEPS if args.agent_size else STEPS
    work = ROOT / ".local" / "bench" / "steps"
    with FakeGateway(
        token=GATEWAY_TOKEN, workers_ai_token=WORKERS_AI_TOKEN, responders=dict(RESPONDERS)
    ) as gateway:
        upstream = f"{gateway.origin}/v1/{ACCOUNT}/{GATEWAY_ID}"
        worker = LocalWorker(
            work,
            code=STEPS_CODE,
            variables={"UPSTREAM": upstream},
            loopback_only=False,
            ready_path=None,
        )
        headers = {**direct_target(gateway).headers, "content-type": "application/json"}
        with worker:
            assert worker.process is not None
            session = worker.process.pid
            conn = http.client.HTTPConnection("127.0.0.1", worker.direct_port, timeout=30)

            def step(name: str) -> None:
                for attempt in range(2):
                    try:
                        path = f"/v1/responses?step={quote(name)}"
                        conn.request("POST", path, request, headers)
                        response = conn.getresponse()
                        answer = response.read()
                        if response.status != 200:
                            raise RuntimeError(f"{name}: {response.status} {answer[:200]!r}")
                        return
                    except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                        conn.close()  # workerd closed an idle keep-alive connection
                        if attempt:
                            raise

            calls = {name: (session, functools.partial(step, name)) for name in steps}
            procstat.cpu_ms_per_request(calls, 50)  # warm up
            taken = procstat.cpu_ms_per_request(calls, args.requests)
    cpu = {name: statistics.median(values) for name, values in taken.items()}
    over = {name: ms - cpu[FLOOR] for name, ms in cpu.items()}
    print(f"workerd CPU per {len(request)} B POST, median of {args.requests} (ms)")
    width = max(map(len, steps))
    for name in steps:
        print(f"  {name.ljust(width)}  {cpu[name]:.3f}  {over[name]:+.3f}")
    if args.agent_size:
        return 0
    # The body step builds its own init from the request's headers; the proxy's comes
    # from Python, counted once in PY_INIT.
    least = over[AWAIT] + over[HEADERS] + over[PY_INIT] + over[BODY] - over[OWN_INIT] + over[LOG]
    print(f"least a proxied POST with every check costs over the floor: {least:+.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
