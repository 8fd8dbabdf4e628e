"""The coding agents that use this URL: their setup, and what to tell them on a 401.

OpenCode configures itself from discovery. Claude Code and Codex CLI read a
settings file; the Worker serves each one filled in from the same compiled config
(this origin, the served models, the organisation's token command), so every
client sees one menu and signs in the same way. Each goes into a file of its own,
layered over the user's own settings, never into them: Claude Code takes it with
`--settings` (or as a managed drop-in), Codex as a profile (`--profile`). Claude
Code re-runs its `apiKeyHelper` and Codex its auth command after a 401; OpenCode
reads its token only when it starts, so its 401 says to log in again and restart.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

import tomli_w

from .menu import BASE_URL_PLACEHOLDER, route_of

# OpenCode's remote_config: the caller's own menu, laid over discovery on every start.
OPENCODE_PATH = "/setup/opencode"
# The header OpenCode sends its stored token in.
TOKEN_HEADER = "cf-access-token"  # noqa: S105 (a header name)
CLAUDE_CODE_PATH = "/setup/claude-code"
# The same settings for IT's managed drop-in, where Claude Code also honours exact matching.
CLAUDE_CODE_MANAGED_PATH = "/setup/claude-code-managed"
CODEX_PATH = "/setup/codex"
CODEX_PROVIDER = "opencode-proxy"
# Where the setups go: files of their own, beside (never instead of) the user's.
CLAUDE_CODE_FILE = "~/.claude/opencode-proxy.json"
CLAUDE_CODE_ALIAS = f"alias claude='claude --settings {CLAUDE_CODE_FILE}'"
CLAUDE_CODE_MANAGED_DIR = "/etc/claude-code/managed-settings.d"
CODEX_PROFILE = "opencode-proxy"
CODEX_FILE = f"~/.codex/{CODEX_PROFILE}.config.toml"
# How Codex is started with the profile. `--profile` alone runs the user's own config
# silently when the file is missing (a failed download, another CODEX_HOME); naming
# the profile's provider too makes Codex stop instead: "Model provider ... not found".
CODEX_ARGS = ("-c", f"model_provider={CODEX_PROVIDER}", "--profile", CODEX_PROFILE)
CODEX_COMMAND = shlex.join(("codex", *CODEX_ARGS))
# Fails on any answer but a 2xx, a redirect (Access's login) included.
_FETCH = "curl -fsSL --max-redirs 0"


def setup_commands(origin: str, auth: Mapping[str, Any]) -> dict[str, list[str]]:
    """The shell commands that set each client up for this origin, as the README and the
    page show them, every word from the origin shell-quoted. A personal setup is
    fetched with the person's token (through stdin, never in a command line), so it
    carries their own menu; IT's managed one, for everyone, carries the default menu."""
    login = shlex.quote(origin)
    claude = shlex.quote(f"{origin}{CLAUDE_CODE_PATH}")
    managed_url = shlex.quote(f"{origin}{CLAUDE_CODE_MANAGED_PATH}")
    codex = shlex.quote(f"{origin}{CODEX_PATH}")
    managed = f"{CLAUDE_CODE_MANAGED_DIR}/opencode-proxy.json"
    signed = signed_fetch(auth, origin)
    return {
        "opencode": [f"opencode auth login {login}", "opencode"],
        "claude-code": [
            f"mkdir -p ~/.claude && {signed} {claude} -o {CLAUDE_CODE_FILE}",
            f"claude --settings {CLAUDE_CODE_FILE}",
        ],
        "claude-code-managed": [
            f"sudo mkdir -p {CLAUDE_CODE_MANAGED_DIR} && sudo {_FETCH} {managed_url} -o {managed}",
        ],
        "codex": [
            f"mkdir -p ~/.codex && {signed} {codex} -o {CODEX_FILE}",
            CODEX_COMMAND,
        ],
    }


def signed_fetch(auth: Mapping[str, Any], origin: str) -> str:
    """A shell command that signs in and fetches the URL that follows it with the token.
    The token goes through stdin (printf is a shell builtin: never in a process's
    arguments); a sign-in that fails or prints nothing stops the command (curl would
    drop an empty header and fetch the default menu)."""
    return (
        f'token="$({shlex.join(token_command(auth, origin))})" && test -n "$token" && '
        f"printf '{TOKEN_HEADER}: %s\\n' \"$token\" | {_FETCH} -H @-"
    )


# Prints the token the sign-in command prints, unless it has already expired: then it
# fails at once, saying how to sign in again. Claude Code shows a failing helper's
# message within seconds, where it retries an expired token's 401s for minutes. POSIX
# sh, cut, tr, base64 and sed: nothing to install. A token it cannot read is passed on
# for the Worker to judge.
_FRESH_OR_FAIL = r"""t=$({command}) && [ -n "$t" ] || {{
  echo {failed} >&2
  exit 1
}}
p=$(printf '%s' "$t" | cut -d. -f2 | tr '_-' '/+')
case $((${{#p}} % 4)) in 2) p="$p==" ;; 3) p="$p=" ;; esac
exp=$(printf '%s' "$p" | base64 -d 2>/dev/null | tr -d ' ' |
  sed -n 's/.*"exp":\([0-9][0-9]*\).*/\1/p')
if [ -n "$exp" ] && [ "$exp" -le "$(date +%s)" ]; then
  echo {message} >&2
  exit 1
fi
printf '%s\n' "$t"
"""


def fresh_token_helper(command: Sequence[str], origin: str) -> str:
    """A shell command that prints a token from `command`, or fails in words when
    `command` fails, prints nothing, or prints a token that has expired."""
    run = f"run `{shlex.join(command)}` in a terminal, then try again."
    message = f"Your sign-in to {origin} has expired and was not renewed: {run}"
    failed = f"Signing in to {origin} failed: {run}"
    script = _FRESH_OR_FAIL.format(
        command=shlex.join(command), message=shlex.quote(message), failed=shlex.quote(failed)
    )
    return shlex.join(["sh", "-c", script])


def token_command(auth: Mapping[str, Any], origin: str) -> list[str]:
    """The served login command (argv), for this origin."""
    return [str(part).replace(BASE_URL_PLACEHOLDER, origin) for part in auth.get("command", [])]


def served_on(config: Mapping[str, Any], route: str) -> dict[str, Mapping[str, Any]]:
    """The caller's model entries on `route`, by id."""
    entries: dict[str, Mapping[str, Any]] = {}
    for provider in config.get("provider", {}).values():
        if route_of(provider) == route:
            entries.update(provider.get("models", {}))  # config-src's own models first
    return entries


def models_on(config: Mapping[str, Any], route: str) -> list[str]:
    """The ids of the caller's models on `route`, config-src's own first."""
    return list(served_on(config, route))


def _pick(preferred: str, provider: str, served: Sequence[str]) -> str | None:
    """`provider/model` from the config when it is served there, else the first served."""
    prefix, _, model = preferred.partition("/")
    if prefix == provider and model in served:
        return model
    return served[0] if served else None


def token_headers(env: str) -> dict[str, str]:
    """The headers an OpenCode config sends the stored token in: OpenCode substitutes
    `{env:<env>}` with the token `opencode auth login` stored under that name."""
    return {TOKEN_HEADER: f"{{env:{env}}}"}


def remote_config(auth: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """Discovery's `remote_config`: OpenCode fetches it on every start, its stored token
    in the header, and lays the answer over the served config."""
    return {"url": origin + OPENCODE_PATH, "headers": token_headers(auth["env"])}


def opencode_remote_config(config: Mapping[str, Any]) -> bytes:
    """The caller's menu for OpenCode's `remote_config`. OpenCode merges objects key by
    key and replaces arrays, so each `whitelist` here replaces discovery's: the caller
    sees exactly their own models, and defaults that are on their menu."""
    providers = config.get("provider", {})
    served = {pid: list(p.get("whitelist", [])) for pid, p in providers.items()}
    answer: dict[str, Any] = {
        "provider": {
            pid: {"models": p.get("models", {}), "whitelist": served[pid]}
            for pid, p in providers.items()
        },
        "enabled_providers": sorted(providers),
    }
    for key in ("model", "small_model"):
        choice = _default(str(config.get(key, "")), served)
        if choice is not None:
            answer[key] = choice
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()


def _default(preferred: str, served: Mapping[str, list[str]]) -> str | None:
    """`provider/model` when it is served, else the first model served by that provider,
    else by any."""
    provider, _, model = preferred.partition("/")
    if model in served.get(provider, ()):
        return preferred
    for pid in (provider, *served):
        if served.get(pid):
            return f"{pid}/{served[pid][0]}"
    return None


# Claude Code's model aliases, smallest first, and the variables that set each one
# (otherwise its own newest ids, which the menu may not serve: its picker's Default,
# the `opus`/`sonnet`/`haiku` aliases and its fallback all go through them).
CLAUDE_FAMILIES = (
    ("haiku", "ANTHROPIC_DEFAULT_HAIKU_MODEL"),
    ("sonnet", "ANTHROPIC_DEFAULT_SONNET_MODEL"),
    ("opus", "ANTHROPIC_DEFAULT_OPUS_MODEL"),
)


def claude_aliases(entries: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Each of Claude Code's alias variables set to a served model: the newest of its
    family (by release date, then id), else the newest of the nearest family served
    (the smaller one first)."""
    newest: dict[int, str] = {}
    for rank, (family, _) in enumerate(CLAUDE_FAMILIES):
        members = [model for model in entries if family in model.lower()]
        if members:
            newest[rank] = max(
                members, key=lambda m: (str(entries[m].get("release_date") or ""), m)
            )
    if not newest:
        return {}
    return {
        variable: newest[min(newest, key=lambda served: (abs(served - rank), served))]
        for rank, (_, variable) in enumerate(CLAUDE_FAMILIES)
    }


def claude_code_settings(
    config: Mapping[str, Any], auth: Mapping[str, Any], origin: str, *, managed: bool = False
) -> bytes:
    """Settings for Claude Code through this Worker (`claude --settings <file>`, or a
    managed drop-in): the served Anthropic menu is all its /model picker offers and all
    it accepts. Claude Code matches `availableModels` by prefix ("claude-opus-5" also
    admits a later "claude-opus-5-5") unless managed settings ask for exact matching."""
    served = models_on(config, "anthropic")
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
    entries = served_on(config, "anthropic")
    env.update(claude_aliases({model: entries[model] for model in served}))
    settings = {
        "apiKeyHelper": fresh_token_helper(token_command(auth, origin), origin),
        "env": env,
        "availableModels": served,
        **({"availableModelsMatch": "exact"} if managed else {}),
        "modelPicker": {
            "options": [
                {"model": model, "label": str(entries[model].get("name") or model)}
                for model in served
            ],
            "replaceBuiltInOptions": True,
        },
    }
    return (json.dumps(settings, indent=2) + "\n").encode()


def codex_profile(config: Mapping[str, Any], auth: Mapping[str, Any], origin: str) -> bytes:
    """A Codex CLI profile for this Worker: `~/.codex/opencode-proxy.config.toml`, used
    with `codex -c model_provider=opencode-proxy --profile opencode-proxy`, layered over
    the user's own config.toml."""
    command = token_command(auth, origin)
    model = _pick(str(config.get("model", "")), "openai", models_on(config, "openai"))
    profile: dict[str, Any] = {
        **({"model": model} if model else {}),
        "model_provider": CODEX_PROVIDER,
        "model_providers": {
            CODEX_PROVIDER: {
                "name": origin,
                "base_url": origin + "/openai/v1",
                "wire_api": "responses",
                "requires_openai_auth": False,
                # Prints an Access token; Codex runs it again after a 401.
                "auth": {
                    "command": command[0] if command else "",
                    "args": command[1:],
                    "timeout_ms": 60000,
                },
            }
        },
    }
    heading = (
        f"# Codex CLI through {origin}: the organisation's models, signed in with Access.\n"
        f"# Save as {CODEX_FILE} and run `{CODEX_COMMAND}`.\n"
    )
    return (heading + tomli_w.dumps(profile)).encode()
