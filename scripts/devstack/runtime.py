"""Run the Worker offline on the current Python Workers runtime, through miniflare.

The Worker is laid out exactly as the deploy build lays it out (build/worker/ and
python_modules/, see toolkit/worker_files.py) and run by miniflare's Node API (the
miniflare wrangler 4 pins, on the workerd it pins; miniflare.mjs), configured from
wrangler.toml:

- compatibility date and flags from wrangler.toml, plus the flags that select the
  locally assembled Pyodide bundle (`dev`, see pyodide_bundle.py), which workerd
  finds through a wrapper that names its folder (miniflare cannot pass it);
- `[vars]` from wrangler.toml, overridden by local settings;
- KV, `[[ratelimits]]` and the cron's test handler (`/cdn-cgi/local/scheduled`, as
  `wrangler dev --test-scheduled` serves it) are miniflare's own simulators; KV
  persists in the state folder (`miniflare/`), where kv.py reads and writes it too;
- the AI binding is workerd's own, built by miniflare as for a remote binding and
  pointed at the local gateway, so `env.AI.gateway(id).getUrl(provider)` runs as in
  production;
- the Worker's own fetches reach loopback only (a small outbound worker).

`direct_port` reaches the Worker without miniflare's entry worker (for measurements).
"""

from __future__ import annotations

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

import build_config
from devstack import pyodide_bundle
from devstack.kv import NODE, PERSIST, namespace_id
from devstack.server import Service, free_port
from toolkit.worker_files import ROOT, SRC, stage_code, vendor
from toolkit.wrangler_config import production_config

WORKERD = ROOT / "node_modules" / "@cloudflare" / "workerd-linux-64" / "bin" / "workerd"
RUNNER = Path(__file__).with_name("miniflare.mjs")
# The flags that make workerd load the `dev` Pyodide bundle instead of a released one.
DEV_BUNDLE_FLAGS = (
    "python_workers_development",
    "no_python_workers_314",
    "no_python_workers_20250116",
)
WORKER = "worker"
PYTHON_MODULES = "python_modules"


class LocalRuntimeError(Exception):
    """The local runtime could not be staged or did not become ready."""


def _modules(workdir: Path, main: str) -> list[dict[str, str]]:
    """Module entries for the staged folders, named as wrangler names them (a `.mjs`
    main is a JavaScript Worker's: the benchmarks run one beside the Python ones)."""
    worker = workdir / WORKER
    main_type = "ESModule" if main.endswith(".mjs") else "PythonModule"
    entries = [{"name": main, "type": main_type, "file": str(worker / main)}]
    for path in sorted(p for p in worker.rglob("*") if p.is_file()):
        name = path.relative_to(worker).as_posix()
        if name != main:
            kind = "PythonModule" if path.suffix == ".py" else "Data"
            entries.append({"name": name, "type": kind, "file": str(path)})
    vendored = workdir / PYTHON_MODULES
    for path in sorted(p for p in vendored.rglob("*") if p.is_file()):
        name = path.relative_to(vendored).as_posix()
        # The SDK's JavaScript is loaded as ES modules, everything else as data.
        kind = "ESModule" if name.startswith("workers/") and path.suffix == ".js" else "Data"
        entries.append({"name": f"{PYTHON_MODULES}/{name}", "type": kind, "file": str(path)})
    return entries


def workerd_wrapper(workdir: Path, bundle_dir: Path) -> Path:
    """The workerd miniflare starts (MINIFLARE_WORKERD_PATH): the pinned binary, told where
    the locally assembled Pyodide bundle is, which miniflare cannot pass."""
    wrapper = workdir / "workerd-with-bundle"
    wrapper.write_text(
        f'#!/bin/sh\nexec "{WORKERD}" "$@" --pyodide-bundle-disk-cache-dir="{bundle_dir}"\n'
    )
    wrapper.chmod(0o755)
    return wrapper


@dataclass
class LocalWorker(Service):
    """The Worker on 127.0.0.1 in current workerd; a context manager.

    `compiled` replaces the compiled config in the local copy only (the local stack
    serves a login command that mints dev tokens); the build output is never touched.
    """

    workdir: Path
    # The local gateway the AI binding points at; None leaves the binding out.
    gateway_origin: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    # False leaves wrangler.toml's [vars] out, as in a deploy that never set them.
    production_vars: bool = True
    compiled: Mapping[str, Any] | None = None
    port: int = 0
    ready_timeout: float = 120.0
    # A folder to run instead of the Worker's code (benchmarks run a bare forwarder),
    # and its main module when not wrangler.toml's.
    code: Path | None = None
    main: str | None = None
    # Where the Worker's code is staged from (benchmarks/ab.py runs another revision's).
    src: Path = SRC
    # wrangler.toml as parsed, when not the project's own (tests try bindings with it).
    wrangler: Mapping[str, Any] | None = None
    # Whether the Worker's own fetches may reach loopback only (off for measurements: it
    # puts one more worker on every upstream fetch).
    loopback_only: bool = True
    # Polled until the Worker answers; None only waits for the socket to accept connections.
    ready_path: str | None = "/healthz"
    process: subprocess.Popen[bytes] | None = None
    direct_port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "workerd.log"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def refusals(self, since: int = 0) -> list[dict[str, Any]]:
        """The Worker's `refused` log lines, from byte `since` of its log on."""
        text = self.log_path.read_bytes()[since:].decode(errors="replace")
        return [
            json.loads(line[line.index("{") :])
            for line in text.splitlines()
            if '"event":"refused"' in line
        ]

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stage(self) -> Path:
        """Lay out the Worker and write miniflare's options; returns the options' path."""
        production = dict(self.wrangler) if self.wrangler is not None else production_config()
        document = (
            self.compiled
            if self.compiled is not None
            else build_config.compile_config(wrangler=production)
        )
        worker = self.workdir / WORKER
        if self.code is None:
            stage_code(worker, build_config.render(dict(document)), src=self.src)
        else:
            shutil.rmtree(worker, ignore_errors=True)
            shutil.copytree(self.code, worker)
        vendor(self.workdir / PYTHON_MODULES)
        defaults = production.get("vars", {}) if self.production_vars else {}
        options = {
            "modulesRoot": str(self.workdir / "modules"),
            "modules": _modules(self.workdir, self.main or Path(production["main"]).name),
            "compatibilityDate": production["compatibility_date"],
            "compatibilityFlags": [*production["compatibility_flags"], *DEV_BUNDLE_FLAGS],
            "vars": {**defaults, **self.variables},
            "kvNamespaces": {
                kv["binding"]: namespace_id(kv["binding"])
                for kv in production.get("kv_namespaces", [])
            },
            # [[ratelimits]] as miniflare's simulator takes them: by binding name.
            "ratelimits": {
                limit["name"]: {
                    "namespace_id": str(limit["namespace_id"]),
                    "simple": limit["simple"],
                }
                for limit in production.get("ratelimits", [])
            },
            "persist": str(self.workdir / PERSIST),
            "port": self.port,
            "directPort": self.direct_port,
            "aiBinding": production.get("ai", {}).get("binding", "AI"),
            "gatewayOrigin": self.gateway_origin if "ai" in production else None,
            "loopbackOnly": self.loopback_only,
        }
        path = self.workdir / "miniflare.json"
        path.write_text(json.dumps(options, indent=1))
        return path

    def start(self) -> LocalWorker:
        if not WORKERD.exists() or not NODE.exists():
            raise LocalRuntimeError(f"{WORKERD} or {NODE} is missing: run `npm ci`")
        self.workdir.mkdir(parents=True, exist_ok=True)
        bundle_dir = pyodide_bundle.ensure()
        self.port = self.port or free_port()
        self.direct_port = self.direct_port or free_port()
        options = self.stage()
        wrapper = workerd_wrapper(self.workdir, bundle_dir)
        env = {**os.environ, "MINIFLARE_WORKERD_PATH": str(wrapper)}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(NODE), str(RUNNER), str(options)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise LocalRuntimeError(f"miniflare exited early:\n{self.log_tail()}")
            try:
                if self.ready_path is None:
                    socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
                    return
                with urllib.request.urlopen(f"{self.url}{self.ready_path}", timeout=30):
                    return
            except urllib.error.HTTPError:
                return  # the Worker answered, even if not with 200
            except OSError:
                time.sleep(0.2)
        raise LocalRuntimeError(
            f"Worker not ready after {self.ready_timeout:.0f}s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
