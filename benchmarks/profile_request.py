"""Profile the Worker's request path on Pyodide 314 / Python 3.14 (under Node).

    uv run python benchmarks/profile_request.py [--requests 2000]

Inside workerd, Python's clocks are frozen, so the Worker cannot be profiled
there. This runs the staged Worker code (the same files the deploy uploads) in
the npm `pyodide` package under Node, with stand-ins for the bindings and an
upstream that answers at once, and prints µs per request and a cProfile table
of `workers_adapter.handle_fetch` on the warm-token path.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts")]

import build_config  # noqa: E402
from devstack.access import SigningKey, access_claims  # noqa: E402
from toolkit.worker_files import stage_code, vendor  # noqa: E402

NODE = ROOT / "node_modules" / ".bin" / "node"
DRIVER = Path(__file__).resolve().parent / "profile" / "driver.mjs"
TEAM = "team.cloudflareaccess.com"
AUDIENCE = "profile-aud"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests to time and profile")
    args = parser.parse_args(argv)
    work = ROOT / ".local" / "profile"
    stage_code(work / "worker", build_config.render(build_config.compile_config()))
    vendor(work / "python_modules")
    key = SigningKey.generate()
    fixture = {
        "requests": args.requests,
        "certs": {"keys": [key.jwk()]},
        "token": key.sign(access_claims(f"https://{TEAM}", AUDIENCE)),
        "settings": {
            "ACCESS_TEAM_DOMAIN": TEAM,
            "ACCESS_AUD": AUDIENCE,
            "USER_ID_KEY": "profile-user-id-key",
            "AI_GATEWAY_ID": "profile",
            "GATEWAY_TOKEN": "profile-gateway-token",
        },
    }
    (work / "fixture.json").write_text(json.dumps(fixture))
    command = [str(NODE), str(DRIVER), str(work / "worker"), str(work / "python_modules")]
    return subprocess.run([*command, str(work / "fixture.json")], cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
