"""The page a person sees when they open the URL in a browser.

Built from what discovery serves (the menu, the login command) and the catalog's
state; the parts that do not depend on the caller are rendered once per origin
and catalog version. Self-contained: no script, no external asset, one inline
style allowed by its hash, and everything from config or the request escaped.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from html import escape
from typing import Any

from .agents import LAUNCHED
from .clients import CLAUDE_CODE_ALIAS, setup_commands, signed_fetch
from .http import Response, bytes_response
from .launcher import LAUNCHER_DIR, setup_command
from .menu import route_of

_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header,main,footer{max-width:60rem;margin:0 auto;padding:1rem 1.25rem}
header{border-bottom:1px solid #ddd}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.05rem}
pre{background:#f0f0f0;padding:.75rem;white-space:pre-wrap;overflow-wrap:anywhere;border-radius:4px}
code{font-family:ui-monospace,monospace;font-size:.92em}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid #e4e4e4}
td code{overflow-wrap:anywhere}
@media (max-width:40rem){thead{display:none}tr,td{display:block}td{border:0;padding:.1rem 0}
tr{border-bottom:1px solid #e4e4e4;padding:.4rem 0}td[data-label]::before{content:attr(data-label);
display:block;font-size:.85em;color:#666}}
.you{background:#eef6ee;padding:.5rem .75rem;border-radius:4px}
@media (prefers-color-scheme:dark){body{background:#161616;color:#eee}
pre{background:#262626}.you{background:#1f3320}th,td{border-color:#333}}
""".strip()
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
)
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")
# Where the per-request parts go; escaped text never holds NUL.
_CALLER = "\x00caller\x00"
_CATALOG = "\x00catalog\x00"


def page_response(body: bytes) -> Response:
    """The page as served: HTML, locked down, never kept by a shared cache."""
    return bytes_response(
        200,
        body,
        cache_control="private, no-store",
        content_type="text/html; charset=utf-8",
        headers=PAGE_HEADERS,
    )


def _esc(text: str) -> str:
    """HTML-escaped, and without NUL, which marks where the caller's line goes."""
    return escape(text.replace("\x00", ""))


def _commands(lines: list[str]) -> str:
    return "".join(f"<pre><code>{_esc(line)}</code></pre>" for line in lines)


_IN_OPENCODE = "In OpenCode"
# Who else can use a provider's models by their bare id, by the route it uses: Claude
# Code speaks only Anthropic's API, Codex only OpenAI's, each launched agent its route's.
_FILE_SETUPS = {"anthropic": ("Claude Code",), "openai": ("Codex",)}
_USERS = {
    route: [*_FILE_SETUPS.get(route, ()), *(a.title for a in LAUNCHED if a.route == route)]
    for route in {*_FILE_SETUPS, *(a.route for a in LAUNCHED)}
}
_OTHERS = {route: f"In {', '.join(names)} and SDKs" for route, names in _USERS.items()}
_SDKS = "In SDKs"


def _menu(providers: Mapping[str, Mapping[str, Any]]) -> str:
    """A table per provider the reader has models of: each model as OpenCode names it
    (`provider/model`) and as the other clients that can use it do (the bare id)."""
    parts = []
    for provider_id, provider in providers.items():
        if not provider.get("models"):
            continue
        name = str(provider.get("name") or provider_id)
        others = _OTHERS.get(route_of(provider) or "", _SDKS)
        rows = "".join(
            f"<tr><td>{_esc(str(entry.get('name') or model_id))}</td>"
            f'<td data-label="{_IN_OPENCODE}"><code>{_esc(f"{provider_id}/{model_id}")}</code></td>'
            f'<td data-label="{others}"><code>{_esc(model_id)}</code></td></tr>'
            for model_id, entry in provider.get("models", {}).items()
        )
        parts.append(
            f'<h3 id="p-{_esc(provider_id)}">{_esc(name)}</h3>'
            f'<table aria-labelledby="p-{_esc(provider_id)}"><thead><tr>'
            f'<th scope="col">Name</th><th scope="col">{_IN_OPENCODE}</th>'
            f'<th scope="col">{others}</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
    return "".join(parts)


def page_commands(origin: str, auth: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every client's setup commands for this origin, in the page's order."""
    signed = signed_fetch(auth, origin)
    launched = {agent.name: setup_command(agent, origin, signed) for agent in LAUNCHED}
    return setup_commands(origin, auth) | launched


def _launched(commands: Mapping[str, list[str]]) -> str:
    """The agents that take only a static key: each started by a launcher of its own."""
    parts = [
        "<p>The agents below take a fixed key and cannot sign in again by themselves, so "
        f"each is started by a small launcher (a shell script saved in {LAUNCHER_DIR}) "
        "that signs you in, gives the agent a fresh token and your models, and starts it. "
        "Your own settings stay as they are. An agent that lets you set neither its "
        "API's base URL nor a header cannot use this URL.</p>"
    ]
    for agent in LAUNCHED:
        target = f"{LAUNCHER_DIR}/{agent.launcher}"
        parts.append(
            f'<h3 id="c-{agent.name}">{_esc(agent.title)}</h3>'
            f"<p>Save the launcher, then run it as you would run "
            f"<code>{_esc(agent.program)}</code> (its arguments are passed on):</p>"
            f"{_commands(commands[agent.name])}"
            "<p>Without prompts, for scripts: "
            f"<code>{_esc(agent.headless.format(launcher=target))}</code></p>"
        )
    return "".join(parts)


def _minutes(seconds: int) -> str:
    minutes = seconds // 60
    if minutes == 0:
        return "less than a minute"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def catalog_state(report: Mapping[str, Any] | None) -> str:
    """The catalog's state in words, from /healthz's `catalog` report."""
    if report is None:
        return "No model catalog is stored yet: the defaults from config-src are served."
    count = int(report.get("models", 0))
    text = "1 catalog model" if count == 1 else f"{count} catalog models"
    if "fetched_age_seconds" in report:
        text += f", fetched {_minutes(int(report['fetched_age_seconds']))} ago"
    if "refused" in report:
        # The reason is for operators too; an errno code says nothing to a person.
        reason = _ERRNO.sub("", str(report["refused"]["reason"]))
        held = _minutes(int(report.get("held_seconds", 0)))
        text += f". The last refresh was held back ({reason}); the catalog has been held for {held}"
    waiting = [
        name for name, hold in report.get("holds", {}).items() if hold.get("operator") == "waiting"
    ]
    if waiting:
        names = ", ".join(waiting)
        text += (
            f". A change that would take most of {names}'s models waits for an operator: "
            "scripts/refresh_catalog.py --accept or --refuse"
        )
    return text + "."


class Page:
    """The HTML page, cached per origin, menu (set of groups) and catalog version; the
    caller's line per request."""

    _CACHE_SIZE = 64

    def __init__(self, auth: Mapping[str, Any]) -> None:
        self._auth = auth
        self._version: object = None
        self._rendered: OrderedDict[tuple[str, tuple[str, ...]], str] = OrderedDict()

    def render(
        self,
        origin: str,
        config: Mapping[str, Any],
        catalog: str,
        version: object,
        caller_id: str | None,
        groups: tuple[str, ...] = (),
    ) -> bytes:
        """The page for a caller (None: not signed in) in `groups`, `config` their menu."""
        if version != self._version:
            self._version = version
            self._rendered.clear()
        key = (origin, groups)
        template = self._rendered.get(key)
        if template is None:
            template = self._template(origin, config, page_commands(origin, self._auth))
            self._rendered[key] = template
            if len(self._rendered) > self._CACHE_SIZE:
                self._rendered.popitem(last=False)
        if caller_id is None:
            caller = (
                "You are not signed in on this page, which is fine: each client below "
                "signs you in with your company account when you set it up."
            )
        else:
            caller = f"You are signed in. Your anonymous id is <code>{_esc(caller_id)}</code>."
            if groups:
                caller += f" Your groups: {_esc(', '.join(groups))}; the models below are theirs."
        return template.replace(_CALLER, caller).replace(_CATALOG, _esc(catalog)).encode()

    @staticmethod
    def _template(origin: str, config: Mapping[str, Any], commands: dict[str, list[str]]) -> str:
        providers = config.get("provider", {})
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>AI coding agents at {_esc(origin)}</title><style>{_STYLE}</style></head>"
            "<body><header><h1>AI coding agents</h1>"
            f"<p>{_esc(origin)} gives you the organisation's coding agent setup: sign in "
            "once with your company account, and the models below work with no provider "
            "key on your machine. Requests carry an anonymous id, never your email.</p>"
            f'<p class="you" role="status">{_CALLER}</p></header>'
            '<main><section aria-labelledby="clients"><h2 id="clients">Set up your client</h2>'
            '<h3 id="c-opencode">OpenCode</h3>'
            "<p>Sign in (a browser window opens), then start OpenCode in your project:</p>"
            f"{_commands(commands['opencode'])}"
            "<p>When your sign-in expires, run the login command again and restart OpenCode. "
            "<code>opencode models</code> lists your models; asked for any other one, "
            "OpenCode stops before asking this URL, with "
            "<code>UnknownError: Unexpected server error</code>.</p>"
            '<h3 id="c-claude-code">Claude Code</h3>'
            "<p>Save the settings in a file of their own (your own settings stay as they "
            "are), then start Claude Code with them:</p>"
            f"{_commands(commands['claude-code'])}"
            f"<p>To make it the default, add <code>{_esc(CLAUDE_CODE_ALIAS)}</code> to your "
            "shell profile. IT can install the settings for everyone on a machine as managed "
            "settings; that file carries the default menu, not yours:</p>"
            f"{_commands(commands['claude-code-managed'])}"
            '<h3 id="c-codex">Codex CLI</h3>'
            "<p>Save the profile beside your config.toml (which stays as it is), then "
            "start Codex with it:</p>"
            f"{_commands(commands['codex'])}"
            "<p>Both sign in again by themselves when a sign-in expires.</p>"
            f"{_launched(commands)}</section>"
            '<section aria-labelledby="models"><h2 id="models">Models you can use</h2>'
            f"<p>Any other model is refused. {_CATALOG}</p>{_menu(providers)}</section>"
            "</main><footer><p>Machine-readable: "
            f"<code>{_esc(origin)}/.well-known/opencode</code>, "
            f"<code>{_esc(origin)}/healthz</code>.</p></footer></body></html>"
        )
