"""Build what `wrangler deploy` uploads (wrangler.toml's [build] command runs this).

    python scripts/build.py

Compiles config-src/ (as scripts/build_config.py does) and lays out:

    build/worker/        the Worker: entry.py, workers_*.py, opencode_proxy/, opencode.json
    python_modules/      the locked runtime packages (workers, jwt); wrangler reads this
                         folder from the project root only, beside wrangler.toml

Nothing is written when the config has errors. A deploy (not a dry run) stops while
wrangler.toml still holds a placeholder.
"""

from __future__ import annotations

import argparse
import sys

import build_config
from toolkit.worker_files import ROOT, StagingError, stage_code, vendor, write_atomically
from toolkit.wrangler_config import deploy_problem

WORKER_DIR = ROOT / "build" / "worker"
PYTHON_MODULES = ROOT / "python_modules"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    problem, warnings = deploy_problem()
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if problem is not None:
        print(f"build stopped: {problem}", file=sys.stderr)
        return 1
    try:
        document = build_config.compile_config()
    except build_config.BuildError as exc:
        build_config.report(exc)
        return 1
    compiled = build_config.render(document)
    try:
        vendored = vendor(PYTHON_MODULES)
    except StagingError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    write_atomically(build_config.DEFAULT_OUT, compiled)
    stage_code(WORKER_DIR, compiled)
    print(f"built {WORKER_DIR.relative_to(ROOT)}/ and python_modules/ ({', '.join(vendored)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
