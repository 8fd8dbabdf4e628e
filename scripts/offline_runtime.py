"""Run the Worker in the offline local runtime (wrangler 3.90.0 / miniflare / workerd).

Current workerd downloads Pyodide at start-up; the workerd that wrangler 3.90.0
pins carries it inside the binary, so it runs a Python Worker with no internet.
That runtime predates the `workers` module, so the Worker is staged into a
scratch folder together with the vendored `workers-runtime-sdk` and two small
stand-ins for runtime-internal modules (under tests/shims/). Production code is
copied unchanged; nothing here is deployed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_server import Service

ROOT = Path(__file__).resolve().parent.parent
SHIMS = ROOT / "tests" / "shims"
WRANGLER_OFFLINE = ROOT / "node_modules" / "wrangler-offline" / "bin" / "wrangler.js"
# The newest compatibility date the pinned workerd (1.20241106.1) accepts.
OFFLINE_COMPATIBILITY_DATE = "2024-11-06"
KV_BINDINGS = ("CATALOG", "USERS")
# Runtime dependencies (pyproject's [project] dependencies), by import name. pywrangler
# vendors them for production; this runtime gets plain copies of the pure-Python code.
VENDORED = ("workers", "jwt")
# Wraps entry.Default for a runtime that only calls a module-level `on_fetch`.
OFFLINE_ENTRY = "offline_entry.py"


class OfflineRuntimeError(Exception):
    """The offline runtime could not be staged or did not become ready."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise OfflineRuntimeError(f"Python package {name!r} is not installed: run `uv sync`")
    return Path(next(iter(spec.submodule_search_locations)))


def stage(
    workdir: Path, *, variables: Mapping[str, str], compiled: Mapping[str, Any] | None = None
) -> Path:
    """Lay out a runnable copy of the Worker in `workdir`; returns its wrangler.toml.

    `compiled` replaces the compiled config in the copy only (the local stack
    serves a login command that mints dev tokens); src/build is never touched.
    """
    built = ROOT / "src" / "build" / "opencode.json"
    if not built.exists():
        raise OfflineRuntimeError(f"{built} is missing: run `python scripts/build_config.py`")
    src = workdir / "src"
    if src.exists():
        shutil.rmtree(src)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "src", src, ignore=ignore)
    for package in VENDORED:
        shutil.copytree(
            _package_dir(package), src / package, ignore=shutil.ignore_patterns("*.js", "*.pyc")
        )
    for shim in SHIMS.glob("*.py"):
        shutil.copy(shim, src / shim.name)
    if compiled is not None:
        (src / "build" / "opencode.json").write_text(json.dumps(compiled, indent=2) + "\n")
    lines = [
        'name = "opencode-proxy-local"',
        f'main = "src/{OFFLINE_ENTRY}"',
        f'compatibility_date = "{OFFLINE_COMPATIBILITY_DATE}"',
        'compatibility_flags = ["python_workers"]',
        'rules = [{ type = "Data", globs = ["build/*.json"], fallthrough = true }]',
    ]
    for binding in KV_BINDINGS:
        lines += ["[[kv_namespaces]]", f'binding = "{binding}"', f'id = "{binding.lower()}"']
    lines.append("[vars]")
    lines += [f"{key} = {_toml_string(value)}" for key, value in variables.items()]
    config = workdir / "wrangler.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


@dataclass
class OfflineWorker(Service):
    """The staged Worker running under `wrangler dev` on 127.0.0.1; a context manager."""

    workdir: Path
    variables: Mapping[str, str] = field(default_factory=dict)
    compiled: Mapping[str, Any] | None = None
    port: int = 0
    ready_timeout: float = 120.0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "wrangler.log"

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def start(self) -> OfflineWorker:
        if not WRANGLER_OFFLINE.exists():
            raise OfflineRuntimeError(f"{WRANGLER_OFFLINE} is missing: run `npm ci`")
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = stage(self.workdir, variables=self.variables, compiled=self.compiled)
        self.port = self.port or free_port()
        command = [
            shutil.which("node") or "node",
            str(WRANGLER_OFFLINE),
            "dev",
            "--config",
            str(config),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--inspector-port",
            str(free_port()),
            "--persist-to",
            str(self.workdir / "state"),
            "--log-level",
            "info",
        ]
        env = {**os.environ, "CI": "true", "WRANGLER_SEND_METRICS": "false", "NO_COLOR": "1"}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise OfflineRuntimeError(f"wrangler dev exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5):
                    return
            except urllib.error.HTTPError:
                return  # the Worker answered, even if not with 200
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise OfflineRuntimeError(
            f"Worker not ready after {self.ready_timeout:.0f}s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
