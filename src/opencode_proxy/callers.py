"""Who sent a request (from its user agent), and what to tell that client on a 401."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from .agents import LAUNCHED
from .clients import CLAUDE_CODE_PATH, CODEX_PATH, token_command
from .launcher import LAUNCHER_DIR

# User agents of the provider SDKs: Python and TypeScript (Anthropic, OpenAI), google-genai.
_SDKS = ("anthropic/", "openai/", "google-genai-sdk/", "google-genai/", "ai-sdk/")


def client_of(user_agent: str) -> str:
    """Which kind of client sent a request, from its user agent: "opencode",
    "claude-code", "codex", a launched agent's name, "sdk" (a provider SDK) or "other"."""
    agent = user_agent.lower()
    if agent.startswith("opencode/"):
        return "opencode"
    if "claude-cli" in agent or "claude-code" in agent:
        return "claude-code"
    if "codex" in agent:
        return "codex"
    for launched in LAUNCHED:
        if launched.user_agent is not None and agent.startswith(launched.user_agent):
            return launched.name
    if any(sdk in agent for sdk in _SDKS):
        return "sdk"
    return "other"


def login_hint(user_agent: str, auth: Mapping[str, Any], origin: str) -> str:
    """What the client that got a 401 should do, in its own terms."""
    client = client_of(user_agent)
    command = shlex.join(token_command(auth, origin))
    if client == "opencode":
        return (
            f"Run `opencode auth login {shlex.quote(origin)}`, then restart OpenCode: it reads the "
            "token only when it starts."
        )
    if client == "claude-code":
        return (
            f"Claude Code runs its apiKeyHelper (`{command}`) again after a 401; if this "
            f"persists, run that command yourself to sign in, or reinstall the settings "
            f"from {origin}{CLAUDE_CODE_PATH}."
        )
    if client == "codex":
        return (
            f"Codex runs its auth command (`{command}`) again after a 401; if this "
            f"persists, run that command yourself to sign in, or reinstall the settings "
            f"from {origin}{CODEX_PATH}."
        )
    for launched in LAUNCHED:
        if client == launched.name:
            return (
                f"Start {launched.title} with its launcher ({LAUNCHER_DIR}/{launched.launcher}), "
                "which signs you in each time it starts it; if you did, fetch the launcher "
                f"again from {origin}{launched.path}."
            )
    return (
        f"Get a token with `{command}` and send it in the cf-access-token header "
        "(or as Authorization: Bearer)."
    )
