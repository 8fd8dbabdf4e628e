"""A tripped AI Gateway spend limit, through the real runtime: AI Gateway's own 429 is
answered in the route's dialect, saying which cap was reached and what was spent,
with a status no client retries; a provider's own 429 still passes untouched. Caps
from config-src (named, with their reset) are in test_groups.py."""

from __future__ import annotations

import json

import httpx
import pytest

from devstack.gateway import FakeGateway, Reply, Seen
from opencode_proxy.identity import anonymous_id
from support import served
from support.cpython import PROXY_USER, USER_ID_KEY

USER = anonymous_id(USER_ID_KEY, PROXY_USER)
ROUTES = {
    "anthropic": ("/anthropic/v1/messages", served.ANTHROPIC),
    "openai": ("/openai/v1/responses", served.OPENAI),
    "google-ai-studio": (
        f"/google-ai-studio{served.GEMINI_PATH}",
        served.body("ignored", contents=[]),
    ),
}


@pytest.fixture
def over_budget(gateway: FakeGateway) -> FakeGateway:
    gateway.tripped[USER] = (50.1234, 50.0)
    return gateway


def message_of(route: str, body: dict[str, object]) -> str:
    error = body["error"]
    assert isinstance(error, dict)
    if route == "anthropic":
        assert body["type"] == "error"
        assert error["type"] == "invalid_request_error"
    elif route == "openai":
        assert error["code"] == "budget_exceeded"
    else:
        assert error["details"][0]["reason"] == "budget_exceeded"
    return str(error["message"])


@pytest.mark.parametrize("route", ROUTES)
def test_a_tripped_spend_limit_reads_as_a_budget_in_the_routes_own_dialect(
    client: httpx.Client, over_budget: FakeGateway, route: str
) -> None:
    path, body = ROUTES[route]
    response = client.post(path, content=body)
    assert response.status_code == 400  # every client shows it at once, none retries
    assert response.headers["x-should-retry"] == "false"
    assert response.headers["x-proxy-error"] == "budget_exceeded"
    message = message_of(route, response.json())
    # The shipped config-src states no caps: a limit set by hand, named by its bucket.
    assert f"Your AI budget (user:{USER}) is used up: $50.12 spent of $50.00" in message
    assert "Spending limit exceeded" not in response.text  # the gateway's own words are gone
    assert len(over_budget.seen) == 1  # answered by the gateway, not retried by the Worker


def test_a_providers_own_429_that_mentions_a_limit_still_passes_verbatim(
    client: httpx.Client, gateway: FakeGateway
) -> None:
    own = json.dumps(
        {
            "type": "error",
            "error": {"type": "rate_limit_error", "message": "Spending limit exceeded for org"},
        }
    ).encode()

    def respond(seen: Seen, reply: Reply) -> None:
        headers = [("content-type", "application/json"), ("retry-after", "30")]
        reply.head(429, headers, length=len(own))
        reply.write(own)

    gateway.responders["anthropic"] = respond
    response = client.post("/anthropic/v1/messages", content=served.ANTHROPIC)
    assert (response.status_code, response.content) == (429, own)
    assert response.headers["retry-after"] == "30"
    assert "x-proxy-error" not in response.headers
