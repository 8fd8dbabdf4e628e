"""`/` for a person in a browser: what it shows, what it never shows, and how it is served."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import escape
from pathlib import Path
from typing import Any

import pytest

import access_vectors
import build_config
from devstack.access import LocalAccess, access_claims
from opencode_proxy.clients import CLAUDE_CODE_ALIAS
from opencode_proxy.http import Response
from opencode_proxy.identity import anonymous_id
from opencode_proxy.page import Page, catalog_state, page_commands
from opencode_proxy.router import App
from support import cpython

SHIPPED_AUTH = cpython.shipped_config()["auth"]

KEY = access_vectors.load_keys()["access-1"]
BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
EMAIL = "page.reader@example.com"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def access() -> LocalAccess:
    return LocalAccess(published=[KEY])


@pytest.fixture
def app(access: LocalAccess) -> App:
    return cpython.make_app(access)


def header(response: Response, name: str) -> str:
    return dict(response.headers)[name]


def page(
    app: App, headers: dict[str, str] | None = None, url: str = "https://ai.example.com/"
) -> str:
    response = cpython.call(app, "GET", url, {**BROWSER, **(headers or {})})
    assert response.status == 200
    assert header(response, "content-type") == "text/html; charset=utf-8"
    return response.body.decode()


def test_the_page_shows_the_login_command_for_this_origin_and_every_served_model(app: App) -> None:
    html = page(app)
    assert "opencode auth login https://ai.example.com" in html
    served = json.loads(
        cpython.call(app, "GET", "https://ai.example.com/.well-known/opencode").body
    )
    for provider_id, provider in served["config"]["provider"].items():
        for model_id in provider["whitelist"]:
            # As OpenCode names it, and as Claude Code, Codex and the SDKs do.
            assert f"<code>{provider_id}/{model_id}</code>" in html
            assert f"<code>{model_id}</code>" in html
    assert "You are not signed in" in html
    assert "opencode auth login</code>" not in html  # a browser visitor runs nothing here


def test_the_page_shows_every_setup_command_the_readme_gives(app: App) -> None:
    html = page(app)
    readme = (ROOT / "README.md").read_text()
    for commands in page_commands("https://ai.example.com", SHIPPED_AUTH).values():
        for command in commands:
            assert f"<code>{escape(command)}</code>" in html, command
            assert command in readme, command
    assert escape(CLAUDE_CODE_ALIAS) in html
    assert CLAUDE_CODE_ALIAS in readme


@pytest.mark.parametrize(
    ("report", "words"),
    [
        (None, "No model catalog is stored yet"),
        ({"models": 1, "fetched_age_seconds": 61}, "1 catalog model, fetched 1 minute ago."),
        ({"models": 9, "fetched_age_seconds": 3599}, "9 catalog models, fetched 59 minutes ago."),
        (
            {
                "models": 9,
                "fetched_age_seconds": 7200,
                "held_seconds": 60,
                "refused": {
                    "age_seconds": 5,
                    "reason": "cannot reach https://models.dev/api.json: [Errno 111] Connection "
                    "refused",
                },
            },
            "(cannot reach https://models.dev/api.json: Connection refused); the catalog has "
            "been held for 1 minute.",
        ),
    ],
)
def test_the_catalog_line_reads_as_words(report: dict[str, Any] | None, words: str) -> None:
    assert words in catalog_state(report)


@pytest.mark.parametrize("where", ["header", "cookie"])
def test_a_signed_in_reader_sees_their_anonymous_id_and_never_their_email(
    app: App, access: LocalAccess, where: str
) -> None:
    token = KEY.sign(access_claims(access.origin, cpython.AUDIENCE, email=EMAIL))
    sent = (
        {"cf-access-token": token} if where == "header" else {"cookie": f"CF_Authorization={token}"}
    )
    html = page(app, sent)
    assert anonymous_id(cpython.USER_ID_KEY, EMAIL) in html
    assert "page.reader" not in html
    assert token not in html


def test_the_page_is_locked_down_and_never_cached_shared(app: App) -> None:
    response = cpython.call(app, "GET", "https://ai.example.com/", BROWSER)
    csp = header(response, "content-security-policy")
    assert "default-src 'none'" in csp
    assert "script-src" not in csp  # no script at all: default-src 'none' forbids it
    (style,) = re.findall(r"<style>(.*?)</style>", response.body.decode(), re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    assert header(response, "x-content-type-options") == "nosniff"
    assert header(response, "cache-control") == "private, no-store"
    assert "<script" not in response.body.decode()


def test_hostile_names_render_as_text(
    access: LocalAccess, config_src: Path, tmp_path: Path
) -> None:
    anthropic = config_src / "providers" / "anthropic.toml"
    anthropic.write_text(
        anthropic.read_text().replace(
            "[models.claude-sonnet-5]\n",
            '[models.claude-sonnet-5]\nname = "<script>alert(1)</script>"\n',
        )
    )
    compiled = tmp_path / "opencode.json"
    compiled.write_bytes(build_config.render(build_config.compile_config(config_src)))
    app = cpython.make_app(access, compiled=compiled)
    html = page(app)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_anything_but_a_browser_gets_json_pointing_at_discovery(app: App) -> None:
    response = cpython.call(app, "GET", "https://ai.example.com/", {"accept": "*/*"})
    assert response.status == 200
    assert json.loads(response.body) == {
        "service": "opencode-proxy",
        "discovery": "https://ai.example.com/.well-known/opencode",
        "health": "https://ai.example.com/healthz",
    }
    assert cpython.call(app, "HEAD", "https://ai.example.com/", BROWSER).body == b""


def test_each_client_column_lists_only_ids_that_client_can_use_and_empty_providers_go() -> None:
    def provider(route: str, *models: str) -> dict[str, Any]:
        return {
            "name": route.title(),
            "options": {"baseURL": f"{{baseURL}}/{route}"},
            "models": {m: {"name": m} for m in models},
        }

    config = {
        "provider": {
            "anthropic": provider("anthropic", "claude-haiku-4-5"),
            "openai": provider("openai", "gpt-5"),
            "google": provider("google-ai-studio", "gemini-2.5-flash"),
            "workers-ai": provider("workers-ai"),  # nothing served to this reader
        }
    }
    html = Page(SHIPPED_AUTH).render("https://ai.example.com", config, "", None, None)
    tables = {
        head: body
        for head, _, body in (
            part.partition("</h3>") for part in html.decode().split('<h3 id="p-')[1:]
        )
    }
    assert set(tables) == {'anthropic">Anthropic', 'openai">Openai', 'google">Google-Ai-Studio'}
    assert "In Claude Code and SDKs" in tables['anthropic">Anthropic']
    assert "In Codex, Qwen Code, aider and SDKs" in tables['openai">Openai']
    google = tables['google">Google-Ai-Studio']
    assert "In Gemini CLI and SDKs" in google
    assert "Claude Code" not in google
    assert "Codex" not in google
    assert "that file carries the default menu, not yours" in html.decode()
