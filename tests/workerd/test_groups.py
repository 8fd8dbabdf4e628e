"""Per-group menus, attribution and the per-person brake in the real runtime: groups from
the Access stand-in's get-identity over a real fetch (or a token claim), the Rate
Limiting binding as miniflare simulates it, metadata as the gateway receives it."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import access_vectors
from devstack.access import LocalAccess, access_claims
from devstack.gateway import FakeGateway
from devstack.models_dev import LocalModelsDev
from devstack.runtime import LocalWorker
from opencode_proxy.caps import next_reset
from opencode_proxy.identity import anonymous_id
from support.cpython import AUDIENCE, USER_ID_KEY
from support.groups import (
    CONTRACTOR,
    CONTRACTOR_MODEL,
    EVERYONE,
    PILOT,
    PILOT_GROUP,
    PILOT_MODEL,
    compiled,
)
from toolkit.wrangler_config import production_config, with_brake

KEY = access_vectors.load_keys()["access-1"]
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models_dev.json"
LIMIT = 4


def start(
    tmp_path: Path, gateway: FakeGateway, settings: dict[str, str], models_dev: LocalModelsDev
) -> LocalWorker:
    """The Worker on the groups config-src, a brake of LIMIT a minute, the catalog filled."""
    wrangler = with_brake(production_config(), limit=LIMIT)
    document = compiled(tmp_path / "config-src", wrangler)
    worker = LocalWorker(
        tmp_path / "state",
        gateway.origin,
        variables={**settings, "CATALOG_URL": models_dev.url},
        compiled=document,
        wrangler=wrangler,
    ).start()
    trigger = urllib.request.Request(f"{worker.url}/cdn-cgi/local/scheduled", method="POST")
    urllib.request.urlopen(trigger, timeout=60).close()
    return worker


@pytest.fixture(scope="module")
def catalog_site() -> Iterator[LocalModelsDev]:
    with LocalModelsDev(FIXTURE.read_bytes()) as running:
        yield running


@pytest.fixture(scope="module")
def grouped(
    tmp_path_factory: pytest.TempPathFactory,
    access: LocalAccess,
    session_gateway: FakeGateway,
    worker_settings: dict[str, str],
    catalog_site: LocalModelsDev,
) -> Iterator[LocalWorker]:
    access.groups[PILOT] = [PILOT_GROUP]
    worker = start(
        tmp_path_factory.mktemp("grouped"), session_gateway, worker_settings, catalog_site
    )
    yield worker
    worker.stop()
    access.groups.clear()


def token(access: LocalAccess, email: str, **claims: Any) -> str:
    return KEY.sign(access_claims(access.origin, AUDIENCE, email=email, **claims))


def chat(worker: LocalWorker, tok: str, model: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{worker.url}/openai/v1/chat/completions",
        headers={"cf-access-token": tok, **headers},
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )


def test_get_identity_groups_open_a_model_to_its_members_only(
    grouped: LocalWorker, access: LocalAccess, gateway: FakeGateway
) -> None:
    before = access.identity_requests
    pilot = token(access, PILOT)
    assert chat(grouped, pilot, PILOT_MODEL).status_code == 200
    assert chat(grouped, pilot, "gpt-5").status_code == 200
    assert access.identity_requests == before + 1  # asked once, then kept
    refused = chat(grouped, token(access, EVERYONE), PILOT_MODEL)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "model_not_allowed"
    assert [seen.json()["model"] for seen in gateway.seen] == [PILOT_MODEL, "gpt-5"]


def test_the_remote_config_is_each_callers_menu_and_200_json_for_a_bad_token(
    grouped: LocalWorker, access: LocalAccess
) -> None:
    url = f"{grouped.url}/setup/opencode"
    pilot = httpx.get(url, headers={"cf-access-token": token(access, PILOT)}).json()
    contractor = httpx.get(url, headers={"cf-access-token": token(access, CONTRACTOR)}).json()
    assert PILOT_MODEL in pilot["provider"]["openai"]["whitelist"]
    assert contractor["provider"]["openai"]["whitelist"] == [CONTRACTOR_MODEL]
    expired = token(access, PILOT, exp=1_000_000, iat=999_000, nbf=999_000)
    for headers in ({}, {"cf-access-token": expired}, {"cf-access-token": "junk"}):
        answer = httpx.get(url, headers=headers)
        assert (answer.status_code, answer.json()) == (200, {})
        assert answer.headers["content-type"].startswith("application/json")


def test_the_gateway_receives_person_group_client_and_session(
    grouped: LocalWorker, access: LocalAccess, gateway: FakeGateway
) -> None:
    answer = chat(
        grouped,
        token(access, CONTRACTOR),
        CONTRACTOR_MODEL,
        **{"user-agent": "opencode/1.18.34 ai-sdk/4", "x-opencode-session-id": "ses_9Zk"},
    )
    assert answer.status_code == 200
    (seen,) = gateway.seen
    assert json.loads(seen.header("cf-aig-metadata") or "") == {
        "userId": anonymous_id(USER_ID_KEY, CONTRACTOR),
        "client": "opencode",
        "group": "contractors",
        "session": "ses_9Zk",
    }


def test_the_brake_answers_429_in_the_providers_shape_per_person(
    grouped: LocalWorker, access: LocalAccess, gateway: FakeGateway
) -> None:
    hasty = token(access, "hasty@example.com")
    statuses = [
        httpx.post(
            f"{grouped.url}/anthropic/v1/messages",
            headers={"cf-access-token": hasty, "anthropic-version": "2023-06-01"},
            json={"model": "claude-haiku-4-5", "max_tokens": 8, "messages": []},
        )
        for _ in range(LIMIT + 2)
    ]
    assert [r.status_code for r in statuses] == [200] * LIMIT + [429, 429]
    braked = statuses[-1]
    assert braked.headers["retry-after"] == "60"
    assert braked.json()["type"] == "error"
    assert braked.json()["error"]["type"] == "rate_limit_error"
    assert len(gateway.seen) == LIMIT
    # Another person is not held back by the first one's count.
    assert chat(grouped, token(access, "calm@example.com"), "gpt-5").status_code == 200


def test_groups_can_come_from_a_token_claim(
    tmp_path: Path,
    access: LocalAccess,
    session_gateway: FakeGateway,
    worker_settings: dict[str, str],
    catalog_site: LocalModelsDev,
) -> None:
    settings = {**worker_settings, "GROUPS_FROM": "claim:groups"}
    worker = start(tmp_path, session_gateway, settings, catalog_site)
    try:
        before = access.identity_requests
        claimed = token(access, EVERYONE, groups=[PILOT_GROUP])
        assert chat(worker, claimed, PILOT_MODEL).status_code == 200
        assert chat(worker, token(access, EVERYONE), PILOT_MODEL).status_code == 400
        assert access.identity_requests == before
    finally:
        worker.stop()


def test_a_used_up_cap_from_config_src_is_named_with_its_reset(
    grouped: LocalWorker, access: LocalAccess, gateway: FakeGateway
) -> None:
    """A contractor's own $10 a day (their group's cap, not the default's $50) is named,
    with the UTC midnight it resets at, in the message and as retry-after."""
    email = "budget@contractor.example.com"
    gateway.tripped[anonymous_id(USER_ID_KEY, email)] = (10.5, 10.0)
    before = datetime.now(UTC)
    answer = chat(grouped, token(access, email), CONTRACTOR_MODEL)
    after = datetime.now(UTC)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "budget_exceeded"
    message = answer.json()["error"]["message"]
    assert "Your cap of $10.00 a day per person is used up: $10.50 spent of $10.00." in message
    resets = {next_reset("daily", before), next_reset("daily", after)}
    assert any(f"It resets at {r:%Y-%m-%d} 00:00 UTC" in message for r in resets)
    low = (next_reset("daily", before) - after).total_seconds() - 1
    high = (next_reset("daily", after) - before).total_seconds() + 1
    assert low <= int(answer.headers["retry-after"]) <= high
    assert answer.headers["x-should-retry"] == "false"


def test_a_policys_block_reads_as_a_refusal_in_the_routes_dialect(
    grouped: LocalWorker, access: LocalAccess, gateway: FakeGateway
) -> None:
    email = "blocked@example.com"
    gateway.blocked.add(anonymous_id(USER_ID_KEY, email))
    answer = chat(grouped, token(access, email), "gpt-5")
    assert answer.status_code == 400  # a 403 would send Claude Code and Codex to sign in
    error = answer.json()["error"]
    assert error["code"] == "policy_denied"
    assert "AI Gateway's policies refuse this request" in error["message"]
    assert "Access denied by policy" not in answer.text
    assert len(gateway.seen) == 1
