"""A/B of the Worker's code: this tree against another revision, side by side.

    uv run python benchmarks/ab.py [--against HEAD] [--requests 400]
                                   [--size 1000 | --agent | --agent-size 1048576] [--brake-off]

Both versions run in workerds of their own beside the floor, as `run.py` runs the
proxy, and take turns ten requests at a time; the table gives each one's workerd CPU
per request (median and 10% trimmed mean), its share over the floor, and this tree's
difference to the other revision. Only `src/` comes from the revision: the config,
the bindings and the runtime are this tree's. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "tests")]

from local_workers import (  # noqa: E402
    FLOOR,
    PROXIED,
    CpuRun,
    body_of,
    cpu_samples,
    proxy_target,
    proxy_worker,
)

from devstack.access import LocalAccess, SigningKey, access_claims  # noqa: E402
from devstack.gateway import ACCOUNT, FakeGateway  # noqa: E402
from devstack.runtime import LocalWorker  # noqa: E402
from targets import (  # noqa: E402
    AGENT_BODY,
    AUDIENCE,
    GATEWAY_ID,
    GATEWAY_TOKEN,
    RESPONDERS,
    WORKERS_AI_TOKEN,
    Target,
    agent_body,
    direct_target,
)


def revision_src(revision: str, into: Path) -> Path:
    """`src/` as it is at `revision`, unpacked under `into`."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "src"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise SystemExit(f"git archive {revision}: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def trimmed_mean(values: list[float], cut: float = 0.1) -> float:
    ordered = sorted(values)
    k = int(len(ordered) * cut)
    return statistics.fmean(ordered[k : len(ordered) - k])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="HEAD", help="the revision to compare with")
    parser.add_argument("--requests", type=int, default=400, help="requests of each kind")
    parser.add_argument("--size", type=int, default=1000, help="the body's size in bytes")
    parser.add_argument("--agent", action="store_true", help="send the 30 KB agent request")
    parser.add_argument("--agent-size", type=int, help="send an agent request of this many bytes")
    parser.add_argument("--brake-off", action="store_true", help="run without the brake")
    args = parser.parse_args(argv)
    body = AGENT_BODY if args.agent else body_of(args.size)
    if args.agent_size:
        body = agent_body(args.agent_size)
    work = ROOT / ".local" / "bench" / "ab"
    key = SigningKey.generate()
    with (
        tempfile.TemporaryDirectory() as unpacked,
        LocalAccess(published=[key]) as access,
        FakeGateway(
            token=GATEWAY_TOKEN, workers_ai_token=WORKERS_AI_TOKEN, responders=dict(RESPONDERS)
        ) as gateway,
    ):
        token = key.sign(access_claims(access.origin, AUDIENCE))
        brake = not args.brake_off
        src = revision_src(args.against, Path(unpacked))
        against = proxy_worker(work / "against", gateway, access, brake=brake, src=src)
        this = proxy_worker(work / "this", gateway, access, brake=brake)
        upstream = f"{gateway.origin}/v1/{ACCOUNT}/{GATEWAY_ID}"
        floor = LocalWorker(
            work / "floor", code=FLOOR, variables={"UPSTREAM": upstream}, loopback_only=False
        )
        with against, this, floor:
            bare = Target("floor", floor.direct_port, "", direct_target(gateway).headers)
            runs: dict[str, CpuRun] = {
                "floor": (floor, bare, PROXIED, body),
                args.against: (against, proxy_target(against, token), PROXIED, body),
                "this tree": (this, proxy_target(this, token), PROXIED, body),
            }
            samples = cpu_samples(runs, args.requests)
    medians = {kind: statistics.median(values) for kind, values in samples.items()}
    print(f"workerd CPU per {len(body)} B POST, {args.requests} requests of each (ms)")
    print("  kind          median  trimmed  over the floor")
    for kind, values in samples.items():
        over = medians[kind] - medians["floor"]
        print(f"  {kind[:12]:12s}  {medians[kind]:6.3f}  {trimmed_mean(values):7.3f}  {over:+.3f}")
    change = medians["this tree"] - medians[args.against]
    trimmed = trimmed_mean(samples["this tree"]) - trimmed_mean(samples[args.against])
    print(f"this tree against {args.against}: {change:+.3f} ms (median), {trimmed:+.3f} (trimmed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
