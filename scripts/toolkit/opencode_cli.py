"""What the pinned OpenCode CLI publishes about itself, and checks against it.

The served config must be one OpenCode accepts: a config it rejects stops every
OpenCode start ("Configuration is invalid"). The CLI publishes its schema itself
(`opencode serve`, then `GET /doc`: OpenAPI 3.1, `components.schemas.Config`),
and `GET /provider` lists the models.dev providers and models its bundled data
knows (written back here in models.dev's own shape, so the project's own
transform reads them as it reads models.dev). The
build asks the pinned CLI (npm `opencode-linux-x64`) once per CLI version and
keeps the answers in `.local/opencode-cli/` instead of keeping copies by hand.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from devstack.server import free_port
from toolkit.worker_files import write_atomically

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "node_modules" / "opencode-linux-x64"
CLI = PACKAGE / "bin" / "opencode"
CACHE = ROOT / ".local" / "opencode-cli"
START_SECONDS = 60
# What the cache holds; a cache of another format is asked again.
FORMAT = 2


class CliUnavailable(Exception):
    """The pinned OpenCode CLI could not be asked."""


def cli_version() -> str:
    manifest = PACKAGE / "package.json"
    if not manifest.exists() or not CLI.exists():
        raise CliUnavailable(
            f"{CLI} is missing: run `npm ci` (the build checks the config "
            "against the pinned OpenCode CLI's own schema)"
        )
    version: str = json.loads(manifest.read_text())["version"]
    return version


def _ask(paths: tuple[str, ...]) -> dict[str, Any]:
    """Start `opencode serve` with an empty home on loopback and GET each path."""
    port = free_port()
    answers: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="opencode-cli-") as home:
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
            for path in paths:
                while path not in answers:
                    if process.poll() is not None:
                        raise CliUnavailable(f"`opencode serve` exited with {process.returncode}")
                    if time.monotonic() > deadline:
                        raise CliUnavailable(
                            f"`opencode serve` did not answer in {START_SECONDS} s"
                        )
                    try:
                        url = f"http://127.0.0.1:{port}{path}"
                        with urllib.request.urlopen(url, timeout=30) as answer:
                            answers[path] = json.load(answer)
                    except OSError:  # not listening yet, or still starting
                        time.sleep(0.2)
            return answers
        finally:
            process.terminate()
            process.wait(timeout=10)


def _npm(provider: dict[str, Any]) -> str:
    """The AI SDK package most of a provider's models use (models.dev gives one per provider)."""
    packages = [m.get("api", {}).get("npm", "") for m in provider.get("models", {}).values()]
    return max(set(packages), key=packages.count) if packages else ""


def _capabilities(flags: dict[str, Any]) -> list[str]:
    return [kind for kind, present in flags.items() if present]


def _as_models_dev(model: dict[str, Any]) -> dict[str, Any]:
    """One model of the CLI's `/provider` answer as a models.dev api.json entry."""
    capabilities, cost = model.get("capabilities", {}), model.get("cost", {})
    entry: dict[str, Any] = {
        "id": model["id"],
        "name": model.get("name", model["id"]),
        "attachment": capabilities.get("attachment", False),
        "reasoning": capabilities.get("reasoning", False),
        "temperature": capabilities.get("temperature", False),
        "tool_call": capabilities.get("toolcall", False),
        "interleaved": capabilities.get("interleaved", False),
        "modalities": {
            "input": _capabilities(capabilities.get("input", {})),
            "output": _capabilities(capabilities.get("output", {})),
        },
        "limit": model.get("limit", {}),
        "status": model.get("status", "active"),
    }
    for key in ("family", "release_date"):
        if model.get(key):
            entry[key] = model[key]
    if cost:
        prices = {"input": cost.get("input", 0), "output": cost.get("output", 0)}
        cache = cost.get("cache", {})
        prices.update(cache_read=cache.get("read", 0), cache_write=cache.get("write", 0))
        if over := cost.get("experimentalOver200K"):
            over_cache = over.get("cache", {})
            prices["context_over_200k"] = {
                "input": over.get("input", 0),
                "output": over.get("output", 0),
                "cache_read": over_cache.get("read", 0),
                "cache_write": over_cache.get("write", 0),
            }
        entry["cost"] = prices
    return entry


@functools.cache
def published() -> dict[str, Any]:
    """{"schema": the config's JSON Schema, "providers": models.dev ids, "models": the
    bundled models.dev data in api.json's shape}, cached."""
    cached = CACHE / f"opencode-{cli_version()}.json"
    if cached.exists():
        known: dict[str, Any] = json.loads(cached.read_text())
        if known.get("format") == FORMAT:
            return known
    answers = _ask(("/doc", "/provider"))
    schemas = answers["/doc"]["components"]["schemas"]
    if "Config" not in schemas:
        raise CliUnavailable("the CLI's /doc has no components.schemas.Config")
    known = {
        "format": FORMAT,
        "schema": {"$ref": "#/components/schemas/Config", "components": {"schemas": schemas}},
        "providers": sorted(provider["id"] for provider in answers["/provider"]["all"]),
        "models": {
            provider["id"]: {
                "id": provider["id"],
                "name": provider.get("name", provider["id"]),
                "env": provider.get("env", []),
                "npm": _npm(provider),
                "models": {
                    model_id: _as_models_dev(model)
                    for model_id, model in sorted(provider.get("models", {}).items())
                },
            }
            for provider in answers["/provider"]["all"]
        },
    }
    write_atomically(cached, json.dumps(known).encode())
    return known


def config_schema() -> dict[str, Any]:
    """The JSON Schema of OpenCode's config, as the pinned CLI publishes it."""
    schema: dict[str, Any] = published()["schema"]
    return schema


def models_dev_providers() -> list[str]:
    """The models.dev provider ids the pinned CLI's bundled data knows."""
    providers: list[str] = published()["providers"]
    return providers


def bundled_models_dev() -> dict[str, Any]:
    """The pinned CLI's bundled models.dev data, as an api.json document."""
    document: dict[str, Any] = published()["models"]
    return document


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
