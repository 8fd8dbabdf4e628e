"""Launchers: for agents that take a static key and cannot run a command to refresh it.

A launcher is a POSIX sh script the Worker serves at `/setup/<agent>`, saved by the
person as a file of its own. Each run gets a fresh Access token with the served
login command (failing in words, before the agent starts, when no valid token can
be had), writes the agent's layered settings to a file of the launcher's own, puts
the token where the agent reads its key, and starts the agent with the person's
arguments. Nothing a person or their tools own is read or written; nothing new is
needed on the laptop (sh, and the login command auth already serves).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .clients import fresh_token_helper, models_on, token_command
from .menu import route_of

# Where launchers write the settings they layer over the agent's own.
SETTINGS_DIR = '"${XDG_CONFIG_HOME:-$HOME/.config}/opencode-proxy"'
# Where the page says to save a launcher.
LAUNCHER_DIR = "~/.local/bin"
# Ids that read as the small, fast member of a family, by a word of their own ("gemini"
# holds "mini").
_SMALL = re.compile(r"(?:^|[-_.:/])(?:mini|nano|flash|lite|haiku|small|fast)(?:$|[-_.:/])")


@dataclass(frozen=True, kw_only=True)
class Launched:
    """What a launcher sets for one agent: its environment (besides the token, which goes
    into each of `token_variables`) and, when the agent reads settings from a file
    named by a variable, that variable and the settings."""

    environment: Mapping[str, str]
    settings_variable: str | None = None
    settings: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class LaunchedAgent:
    """An agent started through a launcher: `name` (its setup path's last part, and its
    `client` in attribution), what people call it, the program, the route whose models
    it uses, where it reads its key, how to run it without prompts, and how its user
    agent starts (lower case; None when it sends its SDK's)."""

    name: str
    title: str
    program: str
    route: str
    token_variables: tuple[str, ...]
    headless: str
    user_agent: str | None
    launched: Callable[[Mapping[str, Any], str], Launched]

    @property
    def path(self) -> str:
        return f"/setup/{self.name}"

    @property
    def launcher(self) -> str:
        return f"opencode-proxy-{self.name}"


def main_and_small(config: Mapping[str, Any], route: str) -> tuple[str, str] | None:
    """The caller's model on `route` an agent starts on (config-src's `model` when it is
    one of them, else the first) and the one for its quick helper calls (`small_model`
    when it is one of them, else the first small-sounding one, else the main)."""
    served = models_on(config, route)
    if not served:
        return None

    def configured(key: str) -> str | None:
        provider, _, model = str(config.get(key, "")).partition("/")
        on_route = route_of(config.get("provider", {}).get(provider, {})) == route
        return model if on_route and model in served else None

    main = configured("model") or served[0]
    small = configured("small_model") or next(
        (model for model in served if _SMALL.search(model.lower())), main
    )
    return main, small


def launcher_script(
    agent: LaunchedAgent, config: Mapping[str, Any], auth: Mapping[str, Any], origin: str
) -> bytes:
    """The launcher for `agent` through this origin, on the caller's menu."""
    launched = agent.launched(config, origin)
    lines = [
        "#!/bin/sh",
        f"# {agent.title} through {origin}: the organisation's models, signed in with Access.",
        f"# Save as {LAUNCHER_DIR}/{agent.launcher}, make it executable and run it as you",
        f"# would run {agent.program}; arguments are passed on. Fetch it again for a new menu.",
        "set -eu",
        f"token=$({fresh_token_helper(token_command(auth, origin), origin)}) || exit 1",
    ]
    if launched.settings_variable is not None:
        settings = json.dumps(launched.settings, indent=2, ensure_ascii=True)
        lines += [
            f"dir={SETTINGS_DIR}",
            'mkdir -p "$dir"',
            f'file="$dir/{agent.name}.json"',
            # Written whole, then moved: a run starting meanwhile reads the old or the new.
            'tmp=$(mktemp "$file.XXXXXX")',
            f"cat > \"$tmp\" <<'SETTINGS'\n{settings}\nSETTINGS",
            'mv -f "$tmp" "$file"',
            f'export {launched.settings_variable}="$file"',
        ]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in launched.environment.items()]
    lines += [f'export {name}="$token"' for name in agent.token_variables]
    lines.append(f'exec {agent.program} "$@"')
    return ("\n".join(lines) + "\n").encode()


def setup_command(agent: LaunchedAgent, origin: str, signed: str) -> list[str]:
    """The commands that install `agent`'s launcher (fetched with `signed`, the token-
    carrying fetch) and run it."""
    target = f"{LAUNCHER_DIR}/{agent.launcher}"
    url = shlex.quote(origin + agent.path)
    return [
        f"mkdir -p {LAUNCHER_DIR} && {signed} {url} -o {target} && chmod +x {target}",
        target,
    ]
