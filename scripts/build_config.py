"""Compile `config-src/` into the discovery document the Worker serves.

    python scripts/build_config.py [--src config-src] [--out build/opencode.json]

Every file is validated; any error is reported as `<file>: <field.path>: <reason>`
and nothing is written. The same sources always give byte-identical output.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from opencode_proxy.clients import token_headers
from opencode_proxy.discovery import Discovery
from opencode_proxy.menu import overlaid
from opencode_proxy.models_dev import model_entry, model_sdk
from toolkit import config_schema as schema
from toolkit import opencode_cli
from toolkit.worker_files import write_atomically
from toolkit.wrangler_config import production_config, user_limit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SRC = ROOT / "config-src"
DEFAULT_OUT = ROOT / "build" / "opencode.json"
OPENCODE_SCHEMA = "https://opencode.ai/config.json"
# OpenCode's built-in agents, which commands may name without defining.
BUILTIN_AGENTS = frozenset({"build", "plan", "general"})
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
KNOWN_DIRS = ("providers", "mcp", "agents", "commands", "groups")
KNOWN_FILES = ("opencode.toml", "auth.toml", "permission.toml", "budgets.toml")

T = TypeVar("T")

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known setting (check the spelling)",
}


class BuildError(Exception):
    """The sources are invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class _Sources:
    """Reads and validates files, collecting every problem instead of stopping at one."""

    src: Path
    problems: list[str] = field(default_factory=list)

    def label(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.src.parent))
        except ValueError:
            return str(path)

    def problem(self, path: Path, where: str, reason: str) -> None:
        self.problems.append(f"{self.label(path)}: {where + ': ' if where else ''}{reason}")

    def warn(self, path: Path, where: str, reason: str) -> None:
        """Something the build allows but a person should look at; printed, not fatal."""
        print(f"warning: {self.label(path)}: {where}: {reason}", file=sys.stderr)

    def load(self, path: Path, validate: Callable[[Any], T]) -> T | None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.problem(path, "", "file is missing")
            return None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            self.problem(path, "", f"invalid TOML: {exc}")
            return None
        try:
            return validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = [str(part) for part in error["loc"]]
                reason = _MESSAGES.get(error["type"], error["msg"])
                if error["type"] == "union_tag_invalid":
                    ctx = error.get("ctx", {})
                    loc.append(str(ctx.get("discriminator", "")).strip("'"))
                    reason = f"must be one of {ctx.get('expected_tags')}"
                self.problem(path, ".".join(loc), reason)
            return None

    def load_dir(self, name: str, validate: Callable[[Any], T]) -> dict[str, T]:
        folder = self.src / name
        loaded: dict[str, T] = {}
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.suffix != ".toml" or not NAME_PATTERN.fullmatch(path.stem):
                self.problem(path, "", "expected a <lower-case-name>.toml file")
                continue
            value = self.load(path, validate)
            if value is not None:
                loaded[path.stem] = value
        return loaded

    def check_unknown(self) -> None:
        for path in sorted(self.src.iterdir()):
            if path.name not in KNOWN_FILES and path.name not in KNOWN_DIRS:
                self.problem(path, "", "unknown file or folder; nothing here would read it")


def _model(cls: type[BaseModel]) -> Callable[[Any], Any]:
    return cls.model_validate


_table = TypeAdapter(dict[str, Any]).validate_python


def _render_model(base: dict[str, Any], model: schema.Model, no_store: bool) -> dict[str, Any]:
    """config-src's fields over the models.dev entry of the same id (`base`)."""
    entry = overlaid(base, model.own())
    if no_store:
        entry["options"] = {**entry.get("options", {}), "store": False}
    return entry


def _bases(
    provider_id: str, provider: schema.Provider, bundled: dict[str, Any], sources: _Sources
) -> dict[str, dict[str, Any]]:
    """The models.dev entry (from the pinned CLI's bundled data) of each model config-src
    pins, by id; a pinned id models.dev does not know is served as written, with a
    warning."""
    source = bundled.get(provider.models_dev, {})
    known = source.get("models", {})
    bases = {}
    for model_id in provider.models:
        upstream = model_id.removeprefix(provider.models_dev_prefix)
        entry = (
            model_entry(
                upstream, known[upstream], npm=model_sdk(source.get("npm"), known[upstream])
            )
            if upstream in known
            else None
        )
        if entry is None:
            file = sources.src / "providers" / f"{provider_id}.toml"
            sources.warn(
                file,
                f"models.{model_id}",
                f"{provider.models_dev} on models.dev has no coding model {upstream!r}; "
                "it is served as written here",
            )
        bases[model_id] = entry or {}
    return bases


def _render_provider(
    provider: schema.Provider, token_env: str, bases: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    own = {
        "base_url",
        "models_dev",
        "models_dev_prefix",
        "serve",
        "hide",
        "endpoints",
        "options",
        "models",
    }
    rendered = provider.opencode(exclude=own)
    rendered["options"] = {
        "baseURL": provider.base_url,
        "apiKey": "",
        "headers": token_headers(token_env),
        **provider.options,
    }
    rendered["models"] = {
        model_id: _render_model(bases[model_id], model, provider.forces_no_store)
        for model_id, model in provider.models.items()
    }
    return rendered


def _source_of(path: list[str]) -> tuple[str, list[str]]:
    """The config-src file a place in the served config comes from, and the place in it."""
    folders = {"provider": "providers", "mcp": "mcp", "agent": "agents", "command": "commands"}
    if len(path) >= 2 and path[0] in folders:
        return f"{folders[path[0]]}/{path[1]}.toml", path[2:]
    if path and path[0] == "permission":
        return "permission.toml", path[1:]
    return "opencode.toml", path


def check_with_opencode(document: dict[str, Any], sources: _Sources) -> None:
    """Record every place where OpenCode itself would reject the served config, and every
    models.dev provider name it does not know."""
    served = Discovery(document).merged_config(None)
    try:
        found = opencode_cli.problems(served, opencode_cli.config_schema())
        known = opencode_cli.models_dev_providers()
    except opencode_cli.CliUnavailable as exc:
        sources.problems.append(f"cannot check the config with OpenCode: {exc}")
        return
    for provider_id, rule in document["catalog"].items():
        if rule["source"] not in known:
            close = difflib.get_close_matches(rule["source"], known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            file = sources.src / "providers" / f"{provider_id}.toml"
            sources.problem(
                file, "models_dev", f"{rule['source']!r} is not a models.dev provider{hint}"
            )
    for place, reason in found:
        source, where = _source_of(place)
        sources.problem(sources.src / source, ".".join(where), f"OpenCode rejects this: {reason}")


def compile_config(
    src: Path = DEFAULT_SRC, *, wrangler: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate every source file and return the discovery document (`auth` + `config`),
    with the brake's limit from `wrangler` (wrangler.toml as parsed; the project's own
    by default)."""
    if not src.is_dir():
        raise BuildError([f"{src}: config source folder not found"])
    sources = _Sources(src)
    sources.check_unknown()
    root: schema.Root | None = sources.load(src / "opencode.toml", _model(schema.Root))
    auth: schema.Auth | None = sources.load(src / "auth.toml", _model(schema.Auth))
    permission_path = src / "permission.toml"
    permission = sources.load(permission_path, _table) if permission_path.exists() else None
    providers = sources.load_dir("providers", _model(schema.Provider))
    mcp = sources.load_dir("mcp", _table)
    agents = sources.load_dir("agents", _model(schema.Agent))
    commands = sources.load_dir("commands", _model(schema.Command))
    groups = sources.load_dir("groups", _model(schema.Group))
    budgets_path = src / "budgets.toml"
    budget = sources.load(budgets_path, _model(schema.Budget)) if budgets_path.exists() else None

    if root is not None:
        for key in ("model", "small_model"):
            ref = getattr(root, key)
            provider_id, _, model_id = ref.partition("/")
            provider = providers.get(provider_id)
            if provider is None or model_id not in provider.models:
                sources.problem(src / "opencode.toml", key, f"{ref!r} is not a configured model")
    for name, agent in agents.items():
        if agent.model and agent.model.partition("/")[0] not in providers:
            sources.problem(src / "agents" / f"{name}.toml", "model", "unknown provider")
    for name, group in groups.items():
        for provider_id in sorted(set(group.providers) - set(providers)):
            sources.problem(
                src / "groups" / f"{name}.toml", f"providers.{provider_id}", "unknown provider"
            )
    for name, command in commands.items():
        if command.agent and command.agent not in agents and command.agent not in BUILTIN_AGENTS:
            sources.problem(src / "commands" / f"{name}.toml", "agent", "unknown agent")
    if root is None or auth is None:
        raise BuildError(sources.problems)

    config: dict[str, Any] = {"$schema": OPENCODE_SCHEMA, **root.opencode()}
    try:
        bundled = opencode_cli.bundled_models_dev()
    except opencode_cli.CliUnavailable as exc:
        problem = f"cannot read OpenCode's models.dev data: {exc}"
        raise BuildError([*sources.problems, problem]) from None
    config["provider"] = {
        provider_id: _render_provider(
            provider, auth.env, _bases(provider_id, provider, bundled, sources)
        )
        for provider_id, provider in providers.items()
    }
    if mcp:
        config["mcp"] = mcp
    if agents:
        config["agent"] = {name: agent.opencode() for name, agent in agents.items()}
    if commands:
        config["command"] = {name: command.opencode() for name, command in commands.items()}
    if permission is not None:
        config["permission"] = permission
    document: dict[str, Any] = {
        "auth": {"command": auth.command, "env": auth.env},
        "config": config,
    }
    # Which catalog models each provider serves; read by the Worker, never served.
    document["catalog"] = {
        pid: {
            "source": p.models_dev,
            "prefix": p.models_dev_prefix,
            "serve": p.serve,
            "hide": p.hide,
            "pinned": {model_id: model.own() for model_id, model in p.models.items()},
        }
        for pid, p in providers.items()
    }
    # Endpoints config-src adds per proxy route; read by the Worker, never served.
    endpoints: dict[str, list[dict[str, str]]] = {}
    for provider in providers.values():
        for endpoint in provider.endpoints:
            endpoints.setdefault(provider.route, []).append(endpoint.model_dump())
    document["endpoints"] = endpoints
    # Who gets which models beyond the default menu; read by the Worker, never served.
    document["groups"] = {
        name: group.model_dump(exclude={"budget"}) for name, group in groups.items()
    }
    # Spend caps; provisioning makes them AI Gateway policies, the Worker names them.
    document["budgets"] = {
        "default": (budget or schema.Budget()).amounts(),
        "groups": {name: g.budget.amounts() for name, g in groups.items() if g.budget},
    }
    brake = user_limit(production_config() if wrangler is None else wrangler)
    if brake is not None:
        document["rate_limit"] = brake
    check_with_opencode(document, sources)
    if sources.problems:
        raise BuildError(sources.problems)
    return document


def render(document: dict[str, Any]) -> bytes:
    """Stable bytes for the compiled document."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def report(exc: BuildError) -> None:
    """Every problem on stderr, one line each."""
    print(f"config build failed, nothing written ({len(exc.problems)} problems):", file=sys.stderr)
    for line in exc.problems:
        print(f"  {line}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="config source folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="compiled JSON file")
    args = parser.parse_args(argv)
    try:
        document = compile_config(args.src)
    except BuildError as exc:
        report(exc)
        return 1
    write_atomically(args.out, render(document))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
