"""Run the proxy locally, offline, on 127.0.0.1 until interrupted.

    scripts/dev [--port 8787]

Compiles config-src/, starts the Worker in the offline runtime and follows its log.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import build_config
from offline_runtime import ROOT, OfflineRuntimeError, OfflineWorker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the proxy locally, offline.")
    parser.add_argument("--port", type=int, default=8787, help="port on 127.0.0.1 (8787)")
    parser.add_argument(
        "--state", type=Path, default=ROOT / ".local" / "dev", help="local KV and logs"
    )
    args = parser.parse_args(argv)
    if build_config.main([]) != 0:
        return 1

    def stop(signum: int, frame: FrameType | None) -> None:
        # A second signal while shutting down must not interrupt the clean-up.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker = OfflineWorker(args.state, port=args.port)
    try:
        worker.start()
    except OfflineRuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"opencode-proxy is running at {worker.url}", flush=True)
    print(f"  discovery: {worker.url}/.well-known/opencode", flush=True)
    print(f"  health:    {worker.url}/healthz", flush=True)
    print("Ctrl-C stops it. Worker log follows.", flush=True)
    try:
        with worker.log_path.open(errors="replace") as log:
            while worker.process is not None and worker.process.poll() is None:
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
        worker.stop()


if __name__ == "__main__":
    sys.exit(main())
