"""Run the proxy locally, offline, with local stand-ins, until interrupted.

    scripts/dev [--port 8787] [--models-dev FILE]

Starts the Worker on the current runtime (workerd, Pyodide 314; see runtime.py)
beside local stand-ins for Access, AI Gateway and models.dev (stack.py), then
follows the Worker's log.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import build_config
from devstack.runtime import LocalRuntimeError
from devstack.stack import SAMPLE_MODELS_DEV, DevStack
from toolkit.worker_files import ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the proxy locally, offline.")
    parser.add_argument("--port", type=int, default=8787, help="port on 127.0.0.1 (8787)")
    parser.add_argument(
        "--state", type=Path, default=ROOT / ".local" / "dev", help="keys, local KV and logs"
    )
    parser.add_argument(
        "--models-dev",
        type=Path,
        default=SAMPLE_MODELS_DEV,
        metavar="FILE",
        help="the api.json the local models.dev serves (a saved copy replays real data)",
    )
    parser.add_argument(
        "--groups",
        default="",
        metavar="A,B",
        help="Access groups the dev identity has (for config-src/groups/ access_groups)",
    )
    args = parser.parse_args(argv)
    if not args.models_dev.is_file():
        print(f"--models-dev {args.models_dev}: no such file", file=sys.stderr)
        return 1
    if build_config.main([]) != 0:
        return 1

    def stop(signum: int, frame: FrameType | None) -> None:
        # A second signal while shutting down must not interrupt the clean-up.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    groups = tuple(g.strip() for g in args.groups.split(",") if g.strip())
    stack = DevStack(
        args.state.resolve(), port=args.port, models_dev_file=args.models_dev, dev_groups=groups
    )
    try:
        stack.start()
    except LocalRuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    url = stack.url
    print(
        f"opencode-proxy is running at {url} (discovery: {url}/.well-known/opencode)\n"
        "Local stand-ins answer for Access, AI Gateway and models.dev; nothing leaves "
        "this machine.\nTry it:\n"
        f"  opencode auth login {url}\n"
        '  opencode run "hello"\n'
        f"  curl -X POST {url}/cdn-cgi/local/scheduled   # run the hourly catalog refresh now\n"
        f"Claude Code and Codex CLI: {url}/setup/claude-code and {url}/setup/codex; "
        f"the page for people: {url}/\n"
        "Ctrl-C stops everything. The Worker's log follows.",
        flush=True,
    )
    try:
        with stack.worker.log_path.open(errors="replace") as log:
            process = stack.worker.process
            while process is not None and process.poll() is None:
                line = log.readline()
                if line:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                else:
                    time.sleep(0.2)
        print("the runtime exited", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
