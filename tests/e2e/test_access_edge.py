"""The local stack behind its Access edge, as production is behind Access: the page
asks for a sign-in, and the Worker's own routes answer an expired token themselves,
so every client's own sign-in path runs (Access would answer with a redirect)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from provisioning.routes import public_paths

import access_vectors
from devstack.access import access_claims
from devstack.dev_token import DEFAULT_EMAIL
from devstack.stack import DEV_AUDIENCE, DEV_USER_ID_KEY, DevStack
from opencode_proxy.identity import anonymous_id
from support import served
from support.agents import logged_in

HTML = {"accept": "text/html"}
HOUR = 3600


def _expired(stack: DevStack) -> str:
    now = int(time.time())
    return stack.token(iat=now - 2 * HOUR, nbf=now - 2 * HOUR, exp=now - HOUR)


def _host(stack: DevStack) -> str:
    return stack.url.removeprefix("http://")


@pytest.mark.parametrize("credential", ["none", "expired", "other audience", "unknown key"])
def test_the_page_without_a_valid_sign_in_is_sent_to_the_teams_login(
    stack: DevStack, credential: str
) -> None:
    tokens = {
        "none": None,
        "expired": _expired(stack),
        "other audience": stack.token(aud=["someone-elses-app"]),
        "unknown key": access_vectors.load_keys()["stranger"].sign(
            access_claims(stack.access.origin, DEV_AUDIENCE)
        ),
    }
    token = tokens[credential]
    cookies = {"CF_Authorization": token} if token else {}
    response = httpx.get(f"{stack.url}/", headers=HTML, cookies=cookies)
    assert response.status_code == 302
    login = f"{stack.access.origin}/cdn-cgi/access/login/{_host(stack)}?kid={DEV_AUDIENCE}"
    assert response.headers["location"].startswith(login)


def test_a_browser_is_signed_in_by_the_team_and_sees_its_own_page(stack: DevStack) -> None:
    with httpx.Client(follow_redirects=True) as browser:
        page = browser.get(f"{stack.url}/", headers=HTML)
    assert page.status_code == 200
    assert anonymous_id(DEV_USER_ID_KEY, DEFAULT_EMAIL) in page.text
    assert [r.headers["location"].split("?")[0] for r in page.history] == [
        f"{stack.access.origin}/cdn-cgi/access/login/{_host(stack)}",
        f"{stack.url}/cdn-cgi/access/authorized",
        "/",
    ]


@pytest.mark.parametrize("path", public_paths())
def test_every_path_provisioning_leaves_open_reaches_the_worker(stack: DevStack, path: str) -> None:
    response = httpx.get(stack.url + path, headers={"accept": "application/json"})
    assert response.status_code != 302, path
    assert response.status_code == 200 or "x-proxy-error" in response.headers


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/anthropic/v1/messages", served.ANTHROPIC),
        ("/openai/v1/responses", served.OPENAI),
        (f"/google-ai-studio{served.GEMINI_PATH}", b"{}"),
        ("/compat/chat/completions", served.COMPAT),
        ("/whoami", None),
    ],
)
def test_an_expired_token_gets_the_workers_401_in_words_not_a_redirect(
    stack: DevStack, path: str, body: bytes | None
) -> None:
    headers = {"cf-access-token": _expired(stack), "user-agent": "opencode/1.18.33"}
    method = "GET" if body is None else "POST"
    response = httpx.request(method, stack.url + path, headers=headers, content=body)
    assert response.status_code == 401
    assert response.headers["x-proxy-error"] == "invalid_token"
    assert f"opencode auth login {stack.url}" in response.text


def test_opencode_with_an_expired_token_is_told_to_sign_in_again(
    stack: DevStack, tmp_path: Path
) -> None:
    opencode = logged_in(tmp_path, stack)
    auth = opencode.home / ".local" / "share" / "opencode" / "auth.json"
    logins = json.loads(auth.read_text())
    logins[stack.url]["token"] = _expired(stack)
    auth.write_text(json.dumps(logins))
    started = time.monotonic()
    result = opencode("run", "-m", "anthropic/claude-sonnet-5", "hello")
    elapsed = time.monotonic() - started
    said = result.stdout + result.stderr
    assert result.returncode != 0
    assert "The token has expired" in said, said[-2000:]
    assert f"opencode auth login {stack.url}" in said
    assert elapsed < 15, f"OpenCode took {elapsed:.1f} s to say so"


def test_a_token_survives_a_restart_of_the_local_stack_and_the_dev_groups_show(
    tmp_path: Path,
) -> None:
    state = tmp_path / "dev"
    with DevStack(state, dev_groups=("contractors",)) as first:
        token = first.token()
        issuer = first.access.origin
        identity = httpx.get(
            f"{issuer}/cdn-cgi/access/get-identity", cookies={"CF_Authorization": token}
        ).json()
        assert [group["name"] for group in identity["groups"]] == ["contractors"]
    with DevStack(state) as again:
        assert again.access.origin == issuer  # the same team: stored tokens stay valid
        whoami = httpx.get(f"{again.url}/whoami", headers={"cf-access-token": token})
        assert whoami.status_code == 200, whoami.text
