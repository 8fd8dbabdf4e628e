"""Run the Worker offline on the current Python Workers runtime: workerd with Pyodide 314.

The Worker is laid out exactly as the deploy build lays it out (build/worker/ and
python_modules/, see toolkit/worker_files.py) and served by the workerd binary
that wrangler 4 pins, from a generated config that mirrors wrangler.toml:

- compatibility date and flags from wrangler.toml, plus the flags that select the
  locally assembled Pyodide bundle (`dev`, see pyodide_bundle.py);
- `[vars]` from wrangler.toml, overridden by local settings;
- each KV namespace backed by a local KV service (kv.py), kept in the state folder;
- the AI binding is workerd's own `Ai` binding whose service is the local gateway,
  so `env.AI.gateway(id).getUrl(provider)` runs as in production;
- outbound requests may reach loopback only.

A small front worker (front.js) passes every request on and serves the scheduled
test handler; `direct_port` reaches the Worker without it (for measurements).
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
from devstack.kv import STORE_NAME, KvStore, LocalKv
from devstack.server import Service, free_port
from toolkit.worker_files import ROOT, stage_code, vendor
from toolkit.wrangler_config import production_config

WORKERD = ROOT / "node_modules" / "@cloudflare" / "workerd-linux-64" / "bin" / "workerd"
FRONT = Path(__file__).with_name("front.js")
# The flags that make workerd load the `dev` Pyodide bundle instead of a released one.
DEV_BUNDLE_FLAGS = (
    "python_workers_development",
    "no_python_workers_314",
    "no_python_workers_20250116",
)
AI_MODULE = "cloudflare-internal:ai-api"
WORKER = "worker"
PYTHON_MODULES = "python_modules"


class LocalRuntimeError(Exception):
    """The local runtime could not be staged or did not become ready."""


def capnp_text(value: str) -> str:
    if any(ord(c) < 0x20 for c in value):
        raise ValueError(f"control characters cannot go into the runtime config: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _modules(workdir: Path, main: str) -> list[str]:
    """workerd module entries for the staged folders, named as wrangler names them.

    Embedded paths are relative to the config file, which sits in `workdir`.
    """

    def entry(name: str, kind: str, path: Path) -> str:
        embedded = path.relative_to(workdir).as_posix()
        return f"(name = {capnp_text(name)}, {kind} = embed {capnp_text(embedded)})"

    worker = workdir / WORKER
    entries = [entry(main, "pythonModule", worker / main)]
    for path in sorted(p for p in worker.rglob("*") if p.is_file()):
        name = path.relative_to(worker).as_posix()
        if name != main:
            entries.append(entry(name, "pythonModule" if path.suffix == ".py" else "data", path))
    vendored = workdir / PYTHON_MODULES
    for path in sorted(p for p in vendored.rglob("*") if p.is_file()):
        name = path.relative_to(vendored).as_posix()
        # The SDK's JavaScript is loaded as ES modules, everything else as data.
        kind = "esModule" if name.startswith("workers/") and path.suffix == ".js" else "data"
        entries.append(entry(f"{PYTHON_MODULES}/{name}", kind, path))
    return entries


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
    # A folder to run instead of the Worker's code (benchmarks run a bare forwarder).
    code: Path | None = None
    # Polled until the Worker answers; None only waits for the socket to accept connections.
    ready_path: str | None = "/healthz"
    process: subprocess.Popen[bytes] | None = None
    direct_port: int = 0
    kv: dict[str, LocalKv] = field(default_factory=dict)
    _store: KvStore | None = None

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
        """Lay out the Worker and write the runtime config; returns the config's path."""
        production = production_config()
        document = self.compiled if self.compiled is not None else build_config.compile_config()
        worker = self.workdir / WORKER
        if self.code is None:
            stage_code(worker, build_config.render(dict(document)))
        else:
            shutil.rmtree(worker, ignore_errors=True)
            shutil.copytree(self.code, worker)
        vendor(self.workdir / PYTHON_MODULES)
        shutil.copy(FRONT, self.workdir / FRONT.name)
        main = Path(production["main"]).name
        bindings, services = self._bindings(production)
        flags = [*production["compatibility_flags"], *DEV_BUNDLE_FLAGS]
        modules = ",\n    ".join(_modules(self.workdir, main))
        date = production["compatibility_date"]
        config = f"""using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .main),
    (name = "front", worker = .front),
    (name = "internet", network = (allow = ["local"])),
    {", ".join(services)}
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:{self.port}", http = (), service = "front"),
    (name = "direct", address = "127.0.0.1:{self.direct_port}", http = (), service = "main"),
  ],
);
const main :Workerd.Worker = (
  modules = [
    {modules}
  ],
  compatibilityDate = "{date}",
  compatibilityFlags = {json.dumps(flags)},
  bindings = [{", ".join(bindings)}],
);
const front :Workerd.Worker = (
  modules = [(name = "front.js", esModule = embed "{FRONT.name}")],
  compatibilityDate = "{date}",
  compatibilityFlags = ["service_binding_extra_handlers"],
  bindings = [(name = "WORKER", service = "main")],
);
"""
        path = self.workdir / "workerd.capnp"
        path.write_text(config)
        return path

    def _bindings(self, production: dict[str, Any]) -> tuple[list[str], list[str]]:
        """The Worker's bindings as wrangler.toml declares them, and the services behind them."""
        defaults = production.get("vars", {}) if self.production_vars else {}
        variables = {**defaults, **self.variables}
        bindings = [
            f"(name = {capnp_text(k)}, text = {capnp_text(str(v))})" for k, v in variables.items()
        ]
        services = []
        for name, server in self.kv.items():
            bindings.append(f'(name = "{name}", kvNamespace = "kv-{name}")')
            address = f"127.0.0.1:{server.port}"
            services.append(f'(name = "kv-{name}", external = (address = "{address}", http = ()))')
        if "ai" in production and self.gateway_origin is not None:
            address = self.gateway_origin.removeprefix("http://")
            services.append(f'(name = "ai-gateway", external = (address = "{address}", http = ()))')
            bindings.append(
                f'(name = "{production["ai"]["binding"]}", wrapped = (moduleName = "{AI_MODULE}",'
                ' innerBindings = [(name = "fetcher", service = "ai-gateway")]))'
            )
        return bindings, services

    def start(self) -> LocalWorker:
        if not WORKERD.exists():
            raise LocalRuntimeError(f"{WORKERD} is missing: run `npm ci`")
        self.workdir.mkdir(parents=True, exist_ok=True)
        bundle_dir = pyodide_bundle.ensure()
        self._store = KvStore(self.workdir / STORE_NAME)
        for namespace in production_config().get("kv_namespaces", []):
            self.kv[namespace["binding"]] = LocalKv(self._store, namespace["binding"]).start()
        self.port = self.port or free_port()
        self.direct_port = self.direct_port or free_port()
        config = self.stage()
        command = [
            str(WORKERD),
            "serve",
            str(config),
            "--experimental",
            f"--pyodide-bundle-disk-cache-dir={bundle_dir}",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.workdir,
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
                raise LocalRuntimeError(f"workerd exited early:\n{self.log_tail()}")
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
        for server in self.kv.values():
            server.stop()
        self.kv.clear()
        if self._store is not None:
            self._store.close()
            self._store = None
