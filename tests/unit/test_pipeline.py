"""The provider pipeline on CPython: only listed endpoints, only served models, one model
per body, no other site's requests, and every refusal in the client's own dialect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import access_vectors
import build_config
from devstack.access import LocalAccess, access_claims
from opencode_proxy.body import BODY_LIMIT, PYTHON_PARSE_LIMIT
from opencode_proxy.body_text import spellings
from opencode_proxy.http import Response
from opencode_proxy.identity import anonymous_id
from opencode_proxy.router import App
from support import cpython

KEY = access_vectors.load_keys()["access-1"]
ORIGIN = "https://ai.example.com"
GATEWAY = "https://gateway.ai.cloudflare.com/v1/test-account/test-gateway"
SONNET = b'{"model":"claude-sonnet-5","max_tokens":16,"messages":[]}'
GPT_5 = b'{"model":"gpt-5","input":"hi"}'
GEMINI = "/google-ai-studio/v1beta/models/gemini-2.5-pro"


@pytest.fixture
def access() -> LocalAccess:
    return LocalAccess(published=[KEY])


@pytest.fixture
def upstream() -> cpython.RecordingUpstream:
    return cpython.RecordingUpstream()


@pytest.fixture
def logged() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def app(access: LocalAccess, upstream: cpython.RecordingUpstream, logged: list[Any]) -> App:
    return cpython.make_app(
        access, upstream=upstream, log_line=lambda s: logged.append(json.loads(s))
    )


def token(access: LocalAccess) -> str:
    return KEY.sign(access_claims(access.origin, cpython.AUDIENCE))


def send(
    app: App,
    access: LocalAccess,
    path: str,
    body: bytes | None = None,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> Response:
    sent = {"cf-access-token": token(access), **(headers or {})}
    return cpython.call(app, method, ORIGIN + path, sent, body)


def body_of(response: Response) -> Any:
    return json.loads(response.body)


# --- endpoints ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "upstream_path"),
    [
        ("POST", "/anthropic/v1/messages?beta=true", SONNET, "/anthropic/v1/messages?beta=true"),
        (
            "POST",
            "/anthropic/v1/messages/count_tokens",
            SONNET,
            "/anthropic/v1/messages/count_tokens",
        ),
        ("POST", "/openai/v1/responses", GPT_5, "/openai/responses"),
        ("POST", "/openai/v1/chat/completions", GPT_5, "/openai/chat/completions"),
        ("POST", f"{GEMINI}:generateContent", b"{}", f"{GEMINI}:generateContent"),
        (
            "POST",
            f"{GEMINI}:streamGenerateContent?alt=sse",
            b"{}",
            f"{GEMINI}:streamGenerateContent?alt=sse",
        ),
        ("POST", f"{GEMINI}:countTokens", b"{}", f"{GEMINI}:countTokens"),
        (
            "POST",
            "/google-ai-studio/v1/models/gemini-2.5-pro:generateContent",
            b"{}",
            "/google-ai-studio/v1/models/gemini-2.5-pro:generateContent",
        ),
        (
            "POST",
            "/google-ai-studio/v1beta/openai/chat/completions",
            b'{"model":"gemini-2.5-flash","messages":[]}',
            "/google-ai-studio/v1beta/openai/chat/completions",
        ),
        (
            "POST",
            "/compat/chat/completions",
            b'{"model":"workers-ai/@cf/openai/gpt-oss-120b","messages":[]}',
            "/compat/chat/completions",
        ),
        (
            "POST",
            "/workers-ai/@cf/openai/gpt-oss-120b",
            b'{"messages":[]}',
            "/workers-ai/@cf/openai/gpt-oss-120b",
        ),
        (
            "POST",
            "/workers-ai/v1/chat/completions",
            b'{"model":"@cf/openai/gpt-oss-120b","messages":[]}',
            "/workers-ai/v1/chat/completions",
        ),
    ],
)
def test_each_shipped_endpoint_is_forwarded_to_the_gateway_path_it_means(
    app: App,
    access: LocalAccess,
    upstream: cpython.RecordingUpstream,
    method: str,
    path: str,
    body: bytes,
    upstream_path: str,
) -> None:
    response = send(app, access, path, body, method=method)
    assert response.status == 200, response.body
    ((sent_method, url, _, forwarded),) = upstream.calls
    assert (sent_method, url, forwarded) == (method, GATEWAY + upstream_path, body)


@pytest.mark.parametrize(
    "path",
    [
        "/anthropic/v1/Messages",
        "/anthropic/V1/messages",
        "/anthropic/v2/messages",
        "/anthropic/v1/messages/",
        "/anthropic/v1/messages/batches",
        "/anthropic/v1/complete",
        "/anthropic",
        "/openai/responses",  # the gateway's own shape, not OpenAI's
        "/openai/v1/batches",
        "/openai/v1/files",
        "/openai/v1/embeddings",
        "/google-ai-studio/v2/models/gemini-2.5-pro:generateContent",
        "/google-ai-studio/v1alpha/models/gemini-2.5-pro:generateContent",
        f"{GEMINI}:generatecontent",
        f"{GEMINI}:predict",
        f"{GEMINI}%3AgenerateContent",
        "/google-ai-studio/v1beta/models/gemini%2D2.5-pro:generateContent",
        "/google-ai-studio/v1beta/cachedContents",
        "/google-ai-studio/upload/v1beta/files",
        "/google-ai-studio/v1beta/openai/embeddings",
        "/compat/v1/chat/completions",
        "/workers-ai/v1/embeddings",
    ],
)
def test_anything_not_on_the_list_is_refused_naming_what_the_route_serves(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream, path: str
) -> None:
    response = send(app, access, path, SONNET)
    assert response.status == 404, response.body
    assert cpython.error_type(response) == "unknown_endpoint"
    assert " serves: POST " in response.body.decode()
    assert upstream.calls == []


def test_a_listing_answers_exactly_the_served_models_and_is_never_forwarded(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream
) -> None:
    served = app.services.discovery.menu()
    openai = body_of(send(app, access, "/openai/v1/models", method="GET"))
    assert openai["object"] == "list"
    assert [m["id"] for m in openai["data"]] == sorted(served.models("openai"))
    anthropic = body_of(send(app, access, "/anthropic/v1/models", method="GET"))
    assert [m["id"] for m in anthropic["data"]] == sorted(served.models("anthropic"))
    assert anthropic["data"][0]["type"] == "model"
    google = body_of(send(app, access, "/google-ai-studio/v1beta/models", method="GET"))
    assert [m["name"] for m in google["models"]] == [
        f"models/{m}" for m in sorted(served.models("google-ai-studio"))
    ]
    one = body_of(send(app, access, "/anthropic/v1/models/claude-sonnet-5", method="GET"))
    assert (one["id"], one["display_name"]) == ("claude-sonnet-5", "Claude Sonnet 5")
    missing = send(app, access, "/openai/v1/models/gpt-4", method="GET")
    assert (missing.status, cpython.error_type(missing)) == (404, "model_not_found")
    assert upstream.calls == []


def test_config_src_can_add_an_endpoint_whose_nested_models_are_all_checked(
    config_src: Path, access: LocalAccess, upstream: cpython.RecordingUpstream
) -> None:
    anthropic = config_src / "providers" / "anthropic.toml"
    anthropic.write_text(
        anthropic.read_text()
        + '\n[[endpoints]]\nmethod = "POST"\npath = "/v1/messages/batches"\nmodel = "nested"\n'
        + '\n[[endpoints]]\nmethod = "GET"\npath = "/v1/messages/batches/{id}"\nmodel = "none"\n'
    )
    compiled = config_src.parent / "opencode.json"
    compiled.write_bytes(build_config.render(build_config.compile_config(config_src)))
    app = cpython.make_app(access, upstream=upstream, compiled=compiled)

    def batch(*models: str) -> bytes:
        requests = [{"custom_id": str(n), "params": {"model": m}} for n, m in enumerate(models)]
        return json.dumps({"requests": requests}).encode()

    path = "/anthropic/v1/messages/batches"
    assert send(app, access, path, batch("claude-sonnet-5", "claude-haiku-4-5")).status == 200
    refused = send(app, access, path, batch("claude-sonnet-5", "claude-3-opus"))
    assert (refused.status, cpython.error_type(refused)) == (400, "model_not_allowed")
    assert "claude-3-opus" in refused.body.decode()
    assert send(app, access, path, b'{"requests": []}').status == 400
    assert send(app, access, f"{path}/msgbatch_01", method="GET").status == 200
    assert len(upstream.calls) == 2


# --- the model --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/openai/v1/responses", "o3-mini"),
        ("/openai/v1/chat/completions", "claude-sonnet-5"),  # served, but on /anthropic
        ("/anthropic/v1/messages", "claude-3-opus"),
        ("/compat/chat/completions", "openai/gpt-5"),
        ("/google-ai-studio/v1beta/openai/chat/completions", "gemini-1.5-pro"),
        ("/workers-ai/v1/chat/completions", "@cf/meta/llama-3.1-8b-instruct"),
    ],
)
def test_a_model_off_the_menu_is_a_400_naming_the_model_and_the_menu(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream, path: str, model: str
) -> None:
    response = send(app, access, path, json.dumps({"model": model, "input": "hi"}).encode())
    assert response.status == 400
    assert cpython.error_type(response) == "model_not_allowed"
    message = response.body.decode()
    assert repr(model) in message
    assert f"shown at {ORIGIN}/ " in message  # the page lists the caller's whole menu
    assert upstream.calls == []


@pytest.mark.parametrize(
    "path",
    [f"{GEMINI.replace('2.5-pro', '1.0-ultra')}:generateContent", "/workers-ai/@cf/meta/llama-2"],
)
def test_a_path_model_off_the_menu_is_refused_whatever_the_body_says(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream, path: str
) -> None:
    response = send(app, access, path, b'{"model": "gemini-2.5-pro"}')
    assert (response.status, cpython.error_type(response)) == (400, "model_not_allowed")
    assert upstream.calls == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"model":"o3-mini","model":"gpt-5","input":"hi"}',
        b'{"model":"gpt-5","input":"hi","model":"gpt-5"}',
        b'{"mod\\u0065l":"o3-mini","model":"gpt-5"}',
        b'{"\\u006D\\u006f\\u0064\\u0065\\u006c":"o3-mini","model":"gpt-5"}',
        b'{"model" : "o3-mini" ,\n "model":"gpt-5"}',
        b'{"model":"gpt-5","tools":[{"model":"a","m\\u006fdel":"b"}]}',
    ],
    ids=["plain", "same-twice", "escaped", "all-escaped", "spaced", "nested-twice"],
)
def test_a_body_naming_its_model_twice_is_refused(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream, body: bytes
) -> None:
    # Which of the two a later hop would read is not ours to guess.
    response = send(app, access, "/openai/v1/responses", body)
    assert (response.status, cpython.error_type(response)) == (400, "ambiguous_model")
    assert upstream.calls == []


@pytest.mark.parametrize(
    "body",
    [
        b'{ "input": "model",\n  "model": "gpt-5", "stream": true }',
        b'{"model":"gpt-5","tools":[{"parameters":{"properties":{"model":{"type":"string"}}}}]}',
        b'{"model":"gpt-5","input":"the \\"model\\" field and \\u00e9"}',
        json.dumps(
            {"model": "gpt-5", "input": [{"role": "user", "content": [{"text": "hi"}]}] * 40}
        ).encode(),
    ],
    ids=["value", "nested-key", "escapes", "many-objects"],
)
def test_a_served_model_goes_through_byte_identical_whatever_else_says_model(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream, body: bytes
) -> None:
    assert send(app, access, "/openai/v1/responses", body).status == 200
    ((_, _, _, forwarded),) = upstream.calls
    assert forwarded == body


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ('{"model":1}', 1),
        ('{"mod\\u0065l":1}', 1),
        ('{"\\u006D\\u006F\\u0064\\u0065\\u006C":1,"model":2}', 2),
        ('{"x":"\\u00e9","model":1}', 1),
        ('{"x":"say \\"model\\"","model":1}', 1),
        ('{"models":1,"Model":2,"mode":3}', 0),
    ],
)
def test_spellings_count_every_string_that_decodes_to_model(text: str, count: int) -> None:
    assert spellings(text.encode()) == count
    decoded = json.loads(text, object_pairs_hook=lambda pairs: [k for k, _ in pairs])
    assert spellings(text.encode()) >= decoded.count("model")


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        (',"model":"o3-mini"', 400),  # a second top-level model past the padding
        (',"mod\\u0065l":"o3-mini"', 400),
        (',"tools":[{"model":"x"}]', 200),  # a nested key is not the request's model
        (',"note":"model"', 200),
    ],
)
def test_a_large_body_is_checked_as_strictly_as_a_small_one(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream, extra: str, status: int
) -> None:
    padding = "x" * (PYTHON_PARSE_LIMIT * 2)
    body = f'{{"model":"gpt-5","input":"{padding}"{extra}}}'.encode()
    response = send(app, access, "/openai/v1/responses", body)
    assert response.status == status, response.body
    if status == 200:
        ((_, _, _, forwarded),) = upstream.calls
        assert forwarded == body


@pytest.mark.parametrize(
    "body", [None, b"", b"not json", b"[1, 2]", b'{"model": 5}', b'{"input": "no model"}']
)
def test_a_body_that_names_no_model_is_refused(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream, body: bytes | None
) -> None:
    response = send(app, access, "/anthropic/v1/messages", body)
    assert (response.status, cpython.error_type(response)) == (400, "model_required")
    assert upstream.calls == []


def test_a_body_over_the_limit_is_refused_unread(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream
) -> None:
    headers = {"content-length": str(BODY_LIMIT + 1)}
    response = send(app, access, "/openai/v1/responses", object(), headers=headers)  # type: ignore[arg-type]
    assert (response.status, cpython.error_type(response)) == (413, "body_too_large")
    assert upstream.calls == []


def test_an_unsigned_request_is_refused_before_its_body_is_read(app: App) -> None:
    # `object()` is no body the port could read: reading it would fail the test.
    response = cpython.call(app, "POST", ORIGIN + "/openai/v1/responses", {}, object())
    assert response.status == 401


def test_a_body_that_cannot_be_read_is_a_400_not_a_crash(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream
) -> None:
    async def broken(body: object, limit: int) -> Any:
        raise OSError("the client went away")

    object.__setattr__(app.services.platform, "read_body", broken)
    response = send(app, access, "/openai/v1/responses", GPT_5)
    assert (response.status, cpython.error_type(response)) == (400, "bad_body")
    assert upstream.calls == []


# --- other sites --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"origin": "https://ai.example.com.evil.example"},
        {"origin": ORIGIN, "sec-fetch-site": "cross-site"},
    ],
)
def test_a_request_a_browser_marks_as_another_sites_is_refused(
    app: App,
    access: LocalAccess,
    upstream: cpython.RecordingUpstream,
    headers: dict[str, str],
) -> None:
    response = send(app, access, "/openai/v1/responses", GPT_5, headers=headers)
    assert (response.status, cpython.error_type(response)) == (403, "cross_site")
    assert upstream.calls == []
    whoami = cpython.call(
        app, "GET", ORIGIN + "/whoami", {"cookie": f"CF_Authorization={token(access)}", **headers}
    )
    assert whoami.status == 403


def test_the_access_cookie_never_signs_in_a_provider_route(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream
) -> None:
    # A simple cross-site form post carries cookies and no preflight; it must not spend.
    headers = {"cookie": f"CF_Authorization={token(access)}", "content-type": "text/plain"}
    response = cpython.call(app, "POST", ORIGIN + "/openai/v1/responses", headers, GPT_5)
    assert (response.status, cpython.error_type(response)) == (401, "missing_token")
    assert upstream.calls == []
    whoami = cpython.call(app, "GET", ORIGIN + "/whoami", headers)
    assert whoami.status == 200


def test_the_workers_own_page_and_browser_metadata_never_reach_the_provider(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream
) -> None:
    headers = {
        "origin": ORIGIN,
        "referer": f"{ORIGIN}/",
        "sec-fetch-site": "same-origin",
        "sec-fetch-mode": "cors",
    }
    assert send(app, access, "/openai/v1/responses", GPT_5, headers=headers).status == 200
    ((_, _, sent, _),) = upstream.calls
    names = {name for name, _ in sent}
    assert not names & {"origin", "referer", "sec-fetch-site", "sec-fetch-mode"}


# --- dialects and the log ----------------------------------------------------------------


def test_refusals_speak_each_providers_error_format(app: App, access: LocalAccess) -> None:
    unserved = b'{"model":"nope","messages":[]}'
    anthropic = body_of(send(app, access, "/anthropic/v1/messages", unserved))
    assert anthropic["type"] == "error"
    assert anthropic["error"]["type"] == "invalid_request_error"
    assert "'nope'" in anthropic["error"]["message"]
    openai = body_of(send(app, access, "/openai/v1/responses", unserved))["error"]
    assert (openai["type"], openai["code"], openai["param"]) == (
        "invalid_request_error",
        "model_not_allowed",
        None,
    )
    google = body_of(send(app, access, "/google-ai-studio/v1beta/models/nope:generateContent"))
    assert google["error"]["code"] == 400
    assert google["error"]["status"] == "INVALID_ARGUMENT"
    assert google["error"]["details"][0]["reason"] == "model_not_allowed"
    compat_google = body_of(
        send(app, access, "/google-ai-studio/v1beta/openai/chat/completions", unserved)
    )
    assert compat_google["error"]["code"] == "model_not_allowed"
    # A refusal before the endpoint is matched still speaks the endpoint's format.
    gemini_openai = "/google-ai-studio/v1beta/openai/chat/completions"
    unsigned_compat = cpython.call(app, "POST", ORIGIN + gemini_openai, {}, unserved)
    assert body_of(unsigned_compat)["error"]["code"] == "missing_token"
    assert body_of(unsigned_compat)["error"]["type"] == "authentication_error"
    unsigned_native = cpython.call(app, "POST", ORIGIN + GEMINI + ":generateContent", {}, b"{}")
    assert body_of(unsigned_native)["error"]["status"] == "UNAUTHENTICATED"
    unsigned = cpython.call(app, "POST", ORIGIN + "/anthropic/v1/messages", {}, SONNET)
    assert unsigned.status == 401
    assert body_of(unsigned)["error"]["type"] == "authentication_error"
    assert "www-authenticate" in dict(unsigned.headers)
    worker = cpython.call(app, "GET", ORIGIN + "/whoami")
    assert body_of(worker)["error"]["type"] == "missing_token"


def test_every_refusal_is_logged_without_tokens_emails_or_bodies(
    app: App, access: LocalAccess, logged: list[dict[str, Any]]
) -> None:
    secret_body = b'{"model":"nope","input":"my secret prompt"}'
    send(app, access, "/openai/v1/responses", secret_body)
    send(app, access, "/openai/v1/nowhere", GPT_5)
    cpython.call(app, "GET", ORIGIN + "/nope")
    cpython.call(app, "POST", ORIGIN + "/openai/v1/responses", {"cf-access-token": "a.b.c"}, GPT_5)
    user = anonymous_id(cpython.USER_ID_KEY, "engineer@example.com")
    assert logged == [
        {
            "event": "refused",
            "status": 400,
            "type": "model_not_allowed",
            "reason": None,
            "route": "/openai",
            "endpoint": "POST /v1/responses",
            "userId": user,
        },
        {
            "event": "refused",
            "status": 404,
            "type": "unknown_endpoint",
            "reason": None,
            "route": "/openai",
            "endpoint": None,
            "userId": user,
        },
        {
            "event": "refused",
            "status": 404,
            "type": "not_found",
            "reason": None,
            "route": None,
            "endpoint": None,
            "userId": None,
        },
        {
            "event": "refused",
            "status": 401,
            "type": "invalid_token",
            "reason": "malformed",
            "route": "/openai",
            "endpoint": None,
            "userId": None,
        },
    ]
    text = json.dumps(logged)
    assert "secret prompt" not in text
    assert "@" not in text
    assert token(access) not in text
