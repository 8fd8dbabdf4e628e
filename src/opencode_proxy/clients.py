"""The coding agents that use this URL: their setup, and what to tell them on a 401.

OpenCode configures itself from discovery. Claude Code and Codex CLI read a
settings file; the Worker serves each one filled in from the same compiled config
(this origin, the served models, the organisation's token command), so every
client sees one menu and signs in the same way. Claude Code re-runs its
`apiKeyHelper` and Codex its auth command after a 401; OpenCode reads its token
only when it starts, so its 401 says to log in again and restart.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from .menu import BASE_URL_PLACEHOLDER, route_of

CLAUDE_CODE_PATH = "/setup/claude-code"
CODEX_PATH = "/setup/codex"
CODEX_PROVIDER = "opencode-proxy"


def token_command(auth: Mapping[str, Any], origin: str) -> list[str]:
    """The served login command (argv), for this origin."""
    return [str(part).replace(BASE_URL_PLACEHOLDER, origin) for part in auth.get("command", [])]


def _models_on(config: Mapping[str, Any], route: str) -> list[str]:
    ids: list[str] = []
    for provider in config.get("provider", {}).values():
        if route_of(provider) == route:
            ids.extend(provider.get("models", {}))  # config-src's own models first
    return ids


def _pick(preferred: str, provider: str, served: Sequence[str]) -> str | None:
    """`provider/model` from the config when it is served there, else the first served."""
    prefix, _, model = preferred.partition("/")
    if prefix == provider and model in served:
        return model
    return served[0] if served else None


def claude_code_settings(config: Mapping[str, Any], auth: Mapping[str, Any], origin: str) -> bytes:
    """`~/.claude/settings.json` for Claude Code through this Worker."""
    served = _models_on(config, "anthropic")
    env = {
        "ANTHROPIC_BASE_URL": f"{origin}/anthropic",
        # Nothing but the model API: no telemetry or update checks around the Worker.
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    main = _pick(str(config.get("model", "")), "anthropic", served)
    small = _pick(str(config.get("small_model", "")), "anthropic", served)
    if main:
        env["ANTHROPIC_MODEL"] = main
    if small:
        env["ANTHROPIC_SMALL_FAST_MODEL"] = small
    settings = {"apiKeyHelper": shlex.join(token_command(auth, origin)), "env": env}
    return (json.dumps(settings, indent=2) + "\n").encode()


def _toml(value: str | list[str]) -> str:
    # JSON strings are valid TOML basic strings, and arrays of them valid TOML arrays.
    return json.dumps(value, ensure_ascii=False)


def codex_config(config: Mapping[str, Any], auth: Mapping[str, Any], origin: str) -> bytes:
    """The lines of `~/.codex/config.toml` for Codex CLI through this Worker."""
    command = token_command(auth, origin)
    model = _pick(str(config.get("model", "")), "openai", _models_on(config, "openai"))
    lines = [
        f"# Codex CLI through {origin}: the organisation's models, signed in with Access.",
        *([f"model = {_toml(model)}"] if model else []),
        f"model_provider = {_toml(CODEX_PROVIDER)}",
        "",
        f"[model_providers.{CODEX_PROVIDER}]",
        f"name = {_toml(origin)}",
        f"base_url = {_toml(origin + '/openai/v1')}",
        'wire_api = "responses"',
        "requires_openai_auth = false",
        "",
        "# Prints an Access token; Codex runs it again after a 401.",
        f"[model_providers.{CODEX_PROVIDER}.auth]",
        f"command = {_toml(command[0] if command else '')}",
        f"args = {_toml(command[1:])}",
        "timeout_ms = 60000",
    ]
    return ("\n".join(lines) + "\n").encode()


def login_hint(user_agent: str, auth: Mapping[str, Any], origin: str) -> str:
    """What the client that got a 401 should do, in its own terms."""
    agent = user_agent.lower()
    command = shlex.join(token_command(auth, origin))
    if agent.startswith("opencode/"):
        return (
            f"Run `opencode auth login {origin}`, then restart OpenCode: it reads the "
            "token only when it starts."
        )
    if "claude-cli" in agent or "claude-code" in agent:
        return (
            f"Claude Code runs its apiKeyHelper (`{command}`) again after a 401; if this "
            f"persists, run that command yourself to sign in, or reinstall the settings "
            f"from {origin}{CLAUDE_CODE_PATH}."
        )
    if "codex" in agent:
        return (
            f"Codex runs its auth command (`{command}`) again after a 401; if this "
            f"persists, run that command yourself to sign in, or reinstall the settings "
            f"from {origin}{CODEX_PATH}."
        )
    return (
        f"Get a token with `{command}` and send it in the cf-access-token header "
        "(or as Authorization: Bearer)."
    )
