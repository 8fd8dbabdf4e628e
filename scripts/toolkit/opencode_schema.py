"""OpenCode's own config schema, from the pinned CLI, and checks against it.

The served config must be one OpenCode accepts: a config it rejects stops every
OpenCode start ("Configuration is invalid"). The CLI publishes its schema itself
(`opencode serve`, then `GET /doc`: OpenAPI 3.1, `components.schemas.Config`), so
the build asks the pinned CLI (npm `opencode-linux-x64`) and keeps the answer in
`.local/opencode-schema/` per CLI version instead of keeping a copy by hand.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "node_modules" / "opencode-linux-x64"
CLI = PACKAGE / "bin" / "opencode"
CACHE = ROOT / ".local" / "opencode-schema"
START_SECONDS = 60


class SchemaUnavailable(Exception):
    """The pinned OpenCode CLI could not be asked for its schema."""


def cli_version() -> str:
    manifest = PACKAGE / "package.json"
    if not manifest.exists() or not CLI.exists():
        raise SchemaUnavailable(
            f"{CLI} is missing: run `npm ci` (the build checks the config "
            "against the pinned OpenCode CLI's own schema)"
        )
    version: str = json.loads(manifest.read_text())["version"]
    return version


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _published_document() -> dict[str, Any]:
    """Start `opencode serve` with an empty home on loopback and read its /doc."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="opencode-schema-") as home:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": home,
            "XDG_CONFIG_HOME": f"{home}/config",
            "XDG_DATA_HOME": f"{home}/data",
            "XDG_CACHE_HOME": f"{home}/cache",
            "XDG_STATE_HOME": f"{home}/state",
        }
        command = [str(CLI), "serve", "--hostname", "127.0.0.1", "--port", str(port)]
        process = subprocess.Popen(
            command, cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + START_SECONDS
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise SchemaUnavailable(f"`opencode serve` exited with {process.returncode}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/doc", timeout=30) as r:
                        document: dict[str, Any] = json.load(r)
                        return document
                except OSError:  # not listening yet, or still starting
                    time.sleep(0.2)
            raise SchemaUnavailable(f"`opencode serve` did not answer in {START_SECONDS} s")
        finally:
            process.terminate()
            process.wait(timeout=10)


def config_schema() -> dict[str, Any]:
    """The JSON Schema of OpenCode's config, as the pinned CLI publishes it (cached)."""
    cached = CACHE / f"opencode-{cli_version()}.json"
    if cached.exists():
        schema: dict[str, Any] = json.loads(cached.read_text())
        return schema
    schemas = _published_document()["components"]["schemas"]
    if "Config" not in schemas:
        raise SchemaUnavailable("the CLI's /doc has no components.schemas.Config")
    schema = {"$ref": "#/components/schemas/Config", "components": {"schemas": schemas}}
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(json.dumps(schema))
    os.replace(partial, cached)
    return schema


def _closest(error: ValidationError) -> ValidationError:
    """For "none of these shapes" (anyOf), the complaint of the shape that matched furthest:
    the one whose first failure is deepest, then the one with fewest failures."""
    while error.context:
        branches: dict[object, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        closest = max(
            branches.values(),
            key=lambda errors: (min(len(e.absolute_path) for e in errors), -len(errors)),
        )
        error = max(closest, key=lambda e: len(e.absolute_path))
    return error


def problems(config: dict[str, Any], schema: dict[str, Any]) -> list[tuple[list[str], str]]:
    """(path in the config, reason) for every place OpenCode would reject."""
    found = []
    for error in Draft202012Validator(schema).iter_errors(config):
        closest = _closest(error)
        found.append(([str(part) for part in closest.absolute_path], closest.message))
    return sorted(found)
