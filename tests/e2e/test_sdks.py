"""The official provider SDKs, pointed at the Worker's prefixes, as an engineer would use them."""

from __future__ import annotations

import json

import anthropic
import httpx
import openai
import pytest
from anthropic.types import MessageParam
from google import genai
from google.genai import types
from openai.types.chat import ChatCompletionMessageParam

from devstack.dev_token import DEFAULT_EMAIL
from devstack.gateway import FakeGateway
from devstack.providers import answer_text
from devstack.stack import DEV_USER_ID_KEY, DevStack
from opencode_proxy.identity import anonymous_id

CLIENT_KEY = "sk-this-key-must-not-travel"


def assert_rewritten(gateway: FakeGateway, stack: DevStack, provider: str) -> None:
    """Every request reached `provider` as the anonymous user, with no client credential."""
    assert gateway.seen, "the gateway saw nothing"
    token = stack.token()
    for seen in gateway.seen:
        assert seen.provider == provider
        metadata = json.loads(seen.header("cf-aig-metadata") or "{}")
        assert metadata == {
            "userId": anonymous_id(DEV_USER_ID_KEY, DEFAULT_EMAIL),
            "client": "sdk",
        }
        for name in ("cf-access-token", "authorization", "x-api-key", "x-goog-api-key"):
            assert seen.header(name) is None, name
        everything = repr(seen.headers)
        assert CLIENT_KEY not in everything
        assert DEFAULT_EMAIL not in everything
        assert token.split(".")[2] not in everything


@pytest.fixture
def headers(stack: DevStack) -> dict[str, str]:
    return {"cf-access-token": stack.token()}


@pytest.fixture
def openai_client(stack: DevStack, headers: dict[str, str]) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{stack.url}/openai/v1",
        api_key=CLIENT_KEY,
        default_headers=headers,
        max_retries=0,
    )


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_anthropic_sdk(
    stack: DevStack, gateway: FakeGateway, headers: dict[str, str], stream: bool
) -> None:
    beta = "interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14"
    client = anthropic.Anthropic(
        base_url=f"{stack.url}/anthropic",
        api_key=CLIENT_KEY,
        default_headers={**headers, "anthropic-beta": beta},
        max_retries=0,
    )
    messages: list[MessageParam] = [{"role": "user", "content": "hello"}]
    if stream:
        with client.messages.stream(
            model="claude-sonnet-5", max_tokens=64, messages=messages
        ) as events:
            text = "".join(events.text_stream)
    else:
        message = client.messages.create(model="claude-sonnet-5", max_tokens=64, messages=messages)
        text = "".join(block.text for block in message.content if block.type == "text")
    assert text == answer_text("anthropic", "claude-sonnet-5")
    assert_rewritten(gateway, stack, "anthropic")
    assert gateway.seen[0].header("anthropic-version")
    assert gateway.seen[0].header("anthropic-beta") == beta


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_openai_sdk_chat_completions(
    stack: DevStack, gateway: FakeGateway, openai_client: openai.OpenAI, stream: bool
) -> None:
    client = openai_client
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]
    if stream:
        chunks = client.chat.completions.create(model="gpt-5", messages=messages, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        completion = client.chat.completions.create(model="gpt-5", messages=messages)
        text = completion.choices[0].message.content or ""
    assert text == answer_text("openai", "gpt-5")
    assert_rewritten(gateway, stack, "openai")


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_openai_sdk_responses(
    stack: DevStack, gateway: FakeGateway, openai_client: openai.OpenAI, stream: bool
) -> None:
    client = openai_client
    if stream:
        events = client.responses.create(model="gpt-5", input="hello", store=False, stream=True)
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    else:
        text = client.responses.create(model="gpt-5", input="hello", store=False).output_text
    assert text == answer_text("openai", "gpt-5")
    assert_rewritten(gateway, stack, "openai")
    assert gateway.seen[0].json()["store"] is False


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_google_genai_sdk(
    stack: DevStack, gateway: FakeGateway, headers: dict[str, str], stream: bool
) -> None:
    client = genai.Client(
        api_key=CLIENT_KEY,
        http_options=types.HttpOptions(base_url=f"{stack.url}/google-ai-studio", headers=headers),
    )
    if stream:
        pieces = client.models.generate_content_stream(model="gemini-2.5-flash", contents="hello")
        text = "".join(piece.text or "" for piece in pieces)
    else:
        answer = client.models.generate_content(model="gemini-2.5-flash", contents="hello")
        text = answer.text or ""
    assert text == answer_text("google-ai-studio", "gemini-2.5-flash")
    assert_rewritten(gateway, stack, "google-ai-studio")
    if stream:
        assert gateway.seen[0].query == "alt=sse"


def test_a_request_without_a_token_never_reaches_the_gateway(
    stack: DevStack, gateway: FakeGateway
) -> None:
    client = openai.OpenAI(base_url=f"{stack.url}/openai/v1", api_key=CLIENT_KEY, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": "x"}])
    # An SDK is told the command that prints a token and where to send it.
    assert "devstack.dev_token" in str(info.value)
    assert "cf-access-token header" in str(info.value)
    assert gateway.seen == []


def test_a_model_off_the_menu_asked_for_with_an_sdk_is_refused_before_the_gateway(
    stack: DevStack, gateway: FakeGateway, openai_client: openai.OpenAI
) -> None:
    # OpenAI still answers for gpt-4-turbo and models.dev lists it, but the organisation
    # does not serve it: it is on no menu, so no client may use it through the Worker.
    hidden = "gpt-4-turbo"
    served = httpx.get(f"{stack.url}/.well-known/opencode").json()["config"]["provider"]
    assert hidden not in served["openai"]["whitelist"]
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.responses.create(model=hidden, input="hello")
    assert info.value.status_code == 400
    assert info.value.code == "model_not_allowed"
    assert hidden in str(info.value)
    assert "Your whole menu is shown at" in str(info.value)
    assert gateway.seen == []


def test_each_sdk_lists_exactly_the_served_models(
    stack: DevStack, gateway: FakeGateway, headers: dict[str, str], openai_client: openai.OpenAI
) -> None:
    served = httpx.get(f"{stack.url}/.well-known/opencode").json()["config"]["provider"]
    assert sorted(m.id for m in openai_client.models.list()) == served["openai"]["whitelist"]
    claude = anthropic.Anthropic(
        base_url=f"{stack.url}/anthropic", api_key=CLIENT_KEY, default_headers=headers
    )
    assert sorted(m.id for m in claude.models.list()) == served["anthropic"]["whitelist"]
    gemini = genai.Client(
        api_key=CLIENT_KEY,
        http_options=types.HttpOptions(base_url=f"{stack.url}/google-ai-studio", headers=headers),
    )
    names = sorted((m.name or "").removeprefix("models/") for m in gemini.models.list())
    assert names == served["google"]["whitelist"]
    assert gateway.seen == []
